"""What the server holds once for every session: its log, the guard that keeps Streamlit from
clearing Keras state under running jobs, the shared model cache, the job runner and the
per-key load locks."""
from __future__ import annotations

import logging
import os
import sys
import threading

import streamlit as st

from dashboard.privacy import PrivateSpace, new_space, remove_space, shown_name, sweep_private_leftovers
from recsys.store.model_cache import ModelCache, cache_budget
from recsys.work.job_view import DONE, FAILED, STOPPED, JobView
from recsys.work.jobs import JobRunner
from recsys.work.tuning_jobs import Studies

_lock = threading.Lock()


def _server_log() -> logging.Logger:
    """Lines on the server's stderr when a model is loaded or trained (one per model per server)."""
    logger = logging.getLogger("latent_factor_explorer")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s latent-factor-explorer %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


log = _server_log()


def _keep_training_state() -> None:
    """Streamlit's after-run cleanup, minus `keras.backend.clear_session()`.

    Streamlit calls that after every script run, fragment reruns included, to reset Keras state
    between runs. Here Keras models train in the job runner's threads while pages rerun every
    second; each call cleared TensorFlow's process-wide kernel cache under the running job and
    held the interpreter for about 0.2 s, and training slowed six-fold while its page was open.
    No page builds Keras models in its script, so there is no per-run state to reset."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _install_cleanup_guard() -> None:
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _keep_training_state


_install_cleanup_guard()


def _release_job_result(key: str) -> None:
    """A model the cache let go: the job runner must not keep it alive either."""
    job_runner().release_result(key)


@st.cache_resource(scope="session", on_release=remove_space, show_spinner=False)
def private_space() -> PrivateSpace:
    """This session's scratch store and model cache for its uploads (removed when it ends)."""
    return new_space(_release_job_result)


@st.cache_resource
def model_cache() -> ModelCache:
    """Trained or loaded models shared by every session, keyed by artifact key, within a budget."""
    return ModelCache(cache_budget(), on_evict=_release_job_result)


def _log_job_end(view: JobView) -> None:
    """Runs in the worker thread when a job ends: a server log line, no UI."""
    if view.state == DONE and view.result is not None and not view.result.loaded:
        log.info("model trained: %s %s (%s) in %.1fs", view.model_name, view.key.rsplit("/", 1)[-1],
                 shown_name(view.dataset, view.owner is not None), view.result.fit_seconds)
    elif view.state in (FAILED, STOPPED):
        log.info("%s %s: %s %s (%s)", view.kind, view.state, view.model_name or view.label,
                 view.key.rsplit("/", 1)[-1], shown_name(view.dataset, view.owner is not None))


def job_workers() -> int:
    """How many trainings run at once on this server: RECSYS_JOB_WORKERS, default 1 (two cores)."""
    text = os.environ.get("RECSYS_JOB_WORKERS", "1")
    try:
        return max(1, int(text))
    except ValueError:
        log.info("RECSYS_JOB_WORKERS=%r is not a whole number; using 1", text)
        return 1


def _shutdown(runner: JobRunner) -> None:
    runner.shutdown()


@st.cache_resource(on_release=_shutdown)
def job_runner() -> JobRunner:
    """The server's training jobs, shared by every session and page. Workers never call st.*;
    pages read job snapshots from it."""
    sweep_private_leftovers()
    return JobRunner(workers=job_workers(), on_done=_log_job_end)


def tuning_runner() -> Studies:
    """The server's tuning studies: jobs of the one job runner, shared by every session."""
    return Studies(job_runner())


def reset_models() -> None:
    """Forget every model and job of this server (tests, and the process after its store changed)."""
    job_runner.clear()
    model_cache.clear()


@st.cache_resource
def _load_locks() -> dict[str, threading.Lock]:
    return {}


def load_lock(key: str) -> threading.Lock:
    with _lock:
        return _load_locks().setdefault(key, threading.Lock())
