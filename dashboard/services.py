"""The dashboard's only door into recsys: cached data and model access, shared widgets and
messages. Pages call these; nothing here parses files or fits models by itself."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

from streamlit.runtime.scriptrunner import get_script_run_ctx

from recsys.artifacts import ArtifactStore, artifact_key, process_alive
from recsys.budget import megabytes as budget_megabytes
from recsys.catalog import expected_seconds
from recsys.service import resolve  # noqa: F401 - pages resolve requests through services
from recsys.dataset import Dataset
from recsys.errors import ArtifactError, RecsysError
from recsys.jobs import DONE, FAILED, QUEUED, RUNNING, STOPPED, JobRunner, JobView
from recsys.sources import artifacts_root
from recsys.split import Split
from recsys.training import TrainResult, lookup
from recsys.upload import UPLOAD_CAPS  # noqa: F401 - the Dataset page states them

SPLITS = {
    "random 80/20 holdout": Split(),
    "time: train on the earliest 80%, test on the latest 20%": Split("time", fraction=0.2),
    "temporal: last 20% of each user": Split("temporal", fraction=0.2),
    "5-fold, fold 1": Split("kfold", folds=5, fold=0),
    "ml-100k official u1": Split("official", name="u1"),
}
FULL_SPLIT_NAME = "all ratings (no test part)"
#: what the Recommendations page offers: a model fitted on every rating first, then the evaluation splits
RECOMMEND_SPLITS = {FULL_SPLIT_NAME: Split("full"), **SPLITS}
#: above this many users the Recommendations page takes a typed user id instead of a drop-down
USER_LIST_MAX = 5_000
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


from dashboard.datasets import (UPLOAD, UPLOAD_SCALES, current_dataset, dataset_sidebar,  # noqa: E402,F401
                                default_dataset, handle_upload, load_dataset)
from dashboard.state import choose, keep, persistent  # noqa: E402,F401


@st.cache_data(show_spinner=False, max_entries=32)
def cached_table(fingerprint: str, name: str, _build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A frame derived from a dataset, cached by the dataset's fingerprint and a table name."""
    return _build()


# ----- models and training jobs -----
class ModelCache:
    """Models in memory by key; past a byte budget the least recently used are evicted (they
    load again from the artifact store when next asked for). `on_evict` hears each evicted key."""

    def __init__(self, budget: int, on_evict: Callable[[str], None] = lambda key: None) -> None:
        self.budget, self._on_evict = budget, on_evict
        self._items: OrderedDict[str, tuple[TrainResult, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: str) -> TrainResult | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def __setitem__(self, key: str, result: TrainResult) -> None:
        with self._lock:
            if key in self._items and self._items[key][0] is result:
                self._items.move_to_end(key)
                return
        size = result.model.memory_bytes()
        with self._lock:
            self._items[key] = (result, size)
            self._items.move_to_end(key)
            evicted = []
            while self.used > self.budget and len(self._items) > 1:
                evicted.append(self._items.popitem(last=False)[0])
        for old in evicted:
            self._on_evict(old)

    def pop(self, key: str, default=None):
        with self._lock:
            item = self._items.pop(key, None)
        return item[0] if item is not None else default

    @property
    def used(self) -> int:
        return sum(size for _, size in self._items.values())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)


def cache_budget() -> int:
    """Bytes of models the shared cache keeps (RECSYS_CACHE_BUDGET_MB, default 3072 MiB)."""
    return budget_megabytes("RECSYS_CACHE_BUDGET_MB", 3072)


@st.cache_resource
def _model_cache() -> ModelCache:
    """Trained or loaded models shared by every session, keyed by artifact key, within a budget."""
    return ModelCache(cache_budget(), on_evict=_release_job_result)


def _release_job_result(key: str) -> None:
    job_runner().release_result(key)  # the runner must not keep an evicted model alive


def _log_job_end(view: JobView) -> None:
    """Runs in the worker thread when a job ends: a server log line, no UI."""
    if view.state == DONE and view.result is not None and not view.result.loaded:
        log.info("model trained: %s %s (%s) in %.1fs", view.model_name, view.key.rsplit("/", 1)[-1],
                 shown_name(view.dataset, view.owner is not None), view.result.fit_seconds)
    elif view.state in (FAILED, STOPPED):
        log.info("training %s: %s %s (%s)", view.state, view.model_name, view.key.rsplit("/", 1)[-1],
                 shown_name(view.dataset, view.owner is not None))


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


def reset_models() -> None:
    """Forget every model and job of this server (tests, and the process after its store changed)."""
    job_runner.clear()
    _model_cache.clear()


def split_choices(dataset: Dataset, splits: dict[str, Split] | None = None) -> list[str]:
    """The split names that apply to a dataset (official folds and time splits need their data)."""
    splits = SPLITS if splits is None else splits
    return [name for name, split in splits.items()
            if (split.kind != "official" or split.name in dataset.folds)
            and (split.kind != "time" or dataset.has_timestamps)]


def model_key(dataset: Dataset, label: str, split: Split, overrides: dict | None = None) -> tuple[str, str, object]:
    """The artifact key, model name and config of a request, through the core's request layer
    (`recsys.service.resolve`: the per-size settings under the caller's overrides)."""
    resolved = resolve(dataset, label, split, overrides)
    return resolved.key, resolved.model, resolved.config


# ----- private models of uploaded files -----
PRIVATE_FOLDER = "private"


@dataclass
class Scope:
    """Where a dataset's models live: shared by every session (MovieLens), or, for a file this
    session uploaded, in the session's own memory and scratch folder, seen by nobody else."""

    cache: dict
    store: ArtifactStore | None
    owner: str
    private: bool

    def job_key(self, key: str) -> str:
        return f"{self.owner}/{key}" if self.private else key


@dataclass
class PrivateSpace:
    """One session's scratch store and model cache for its uploads (removed when it ends)."""

    root: Path
    models: ModelCache = field(default_factory=lambda: ModelCache(cache_budget() // 4, _release_job_result))

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.root / "models")


def _remove_space(space: PrivateSpace) -> None:
    for key in space.models.keys():
        space.models.pop(key)
    shutil.rmtree(space.root, ignore_errors=True)


@st.cache_resource(scope="session", on_release=_remove_space, show_spinner=False)
def _private_space() -> PrivateSpace:
    folder = artifacts_root() / PRIVATE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return PrivateSpace(Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=folder)))


def forget_private() -> None:
    """The Delete button: this session's upload, its models and its scratch folder, now."""
    for view in job_runner().active(session_id()):
        if view.owner is not None:
            job_runner().stop(view.key)
    for name in ("uploaded_dataset", "upload_outcome"):
        st.session_state.pop(name, None)
    if st.session_state.get("dataset") == UPLOAD:
        st.session_state["dataset"] = st.session_state["_keep_dataset"] = default_dataset()
    _private_space.clear()


def sweep_private_leftovers() -> list[str]:
    """Scratch folders of servers that are no longer running (stopped or killed): removed."""
    folder = artifacts_root() / PRIVATE_FOLDER
    removed = []
    for path in folder.iterdir() if folder.is_dir() else []:
        pid = path.name.split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def is_private(dataset: Dataset) -> bool:
    return dataset.name.startswith("upload:")


def scope_for(dataset: Dataset) -> Scope:
    if is_private(dataset):
        space = _private_space()
        return Scope(space.models, space.store, session_id(), True)
    return Scope(_model_cache(), None, session_id(), False)


def shown_name(dataset_name: str, private: bool) -> str:
    """How the server log names a dataset: never an uploaded file's name."""
    return "a private upload" if private else dataset_name


def cached_result(dataset: Dataset, label: str, split: Split = Split(),
                  overrides: dict | None = None) -> TrainResult | None:
    """A model already trained: by a job of this server, in memory, or in the artifact store
    (never trains). Raises ArtifactError for a broken artifact."""
    key, model_name, config = model_key(dataset, label, split, overrides)
    return settings_result(dataset, model_name, config, split)


def settings_result(dataset: Dataset, model_name: str, config, split: Split) -> TrainResult | None:
    """`cached_result` for a model name and a resolved config. A model in memory whose artifact
    was deleted or replaced on disk since (by the CLI, a page or another server) is dropped and
    read again, so every server stops using a deleted model on its next access."""
    key = artifact_key(dataset.fingerprint, split, model_name, config)
    scope = scope_for(dataset)
    cache = scope.cache
    view = job_runner().get(scope.job_key(key))
    if view is not None and view.state == DONE and view.result is not None:
        if _on_disk_as_loaded(view.result):
            cache[key] = view.result  # outlives the runner's memory of the job
            return view.result
        job_runner().forget(scope.job_key(key))  # its artifact was deleted or replaced since
    result = cache.get(key)
    if result is not None and _on_disk_as_loaded(result):
        return result
    with _load_lock(scope.job_key(key)):  # one load per key at a time; other keys load in parallel
        result = cache.get(key)
        if result is not None and _on_disk_as_loaded(result):
            return result
        cache.pop(key, None)
        result = lookup(dataset, model_name, config, split, scope.store)
        if result is not None:
            cache[key] = result
            log.info("model loaded from the artifact store: %s %s (%s)", model_name, key,
                     shown_name(dataset.name, scope.private))
    return result


def _on_disk_as_loaded(result: TrainResult) -> bool:
    """Whether the artifact behind a model in memory is still the one it was read from (a model
    that could not be saved lives in memory only and stays valid)."""
    if result.path is None:
        return True
    try:
        status = os.stat(result.path / "manifest.json")
    except OSError:
        return False
    return (status.st_ino, status.st_mtime_ns) == result.stamp


@st.cache_resource
def _load_locks() -> dict[str, threading.Lock]:
    return {}


def _load_lock(key: str) -> threading.Lock:
    with _lock:
        return _load_locks().setdefault(key, threading.Lock())


def request_model(dataset: Dataset, label: str, split: Split = Split(), overrides: dict | None = None,
                  start: bool = True) -> TrainResult | None:
    """The model for these settings if it is trained; otherwise a training job is submitted (or
    joined) and its progress shown in place, and None is returned: the page goes on, and fills in
    by itself when the job ends. With `start` False (a model the person picked, not the page's
    own default) nothing starts by itself: a button says what it will train and about how long.
    A broken artifact gets a Retrain button; a failed or stopped job its message and a Try
    again button."""
    resolved = resolve(dataset, label, split, overrides)
    key, model_name, config = resolved.key, resolved.model, resolved.config
    if resolved.size_note:
        st.caption(f"At this size: {resolved.size_note}.")
    runner, scope = job_runner(), scope_for(dataset)
    key = scope.job_key(key)
    view = runner.get(key)
    retrain = st.session_state.pop(f"retrain-requested-{key}", False)
    if not retrain:
        waiting = view is not None and view.active
        if not (waiting and not view.retrain):  # a retrain in progress: the current model serves meanwhile
            try:
                result = settings_result(dataset, model_name, config, split)
            except ArtifactError as error:
                if waiting:
                    watch_jobs([key])
                    return None
                st.error(f"The cached {label} model is broken: {error}")
                st.button(f"Retrain {label}", key=f"retrain-broken-{key}", type="primary",
                          on_click=_request, args=(f"retrain-requested-{key}",))
                return None
            if result is not None:
                return result
        if waiting:
            watch_jobs([key])
            return None
        if view is not None and view.state in (FAILED, STOPPED) and not st.session_state.pop(f"again-{key}", False):
            show_ended(view, again_key=f"again-{key}")
            return None
        asked = st.session_state.pop(f"train-asked-{key}", False)
        if not start and not asked and (view is None or view.state != DONE):
            offer_training(dataset, label, split, key)
            return None
        if start and not asked:
            st.caption(f"{label} is this page's default and is not trained on {dataset.name} yet, so it trains now "
                       f"(about {expected_seconds_text(label, dataset)}).")
    try:
        submit(dataset, model_name, config, split, retrain=retrain, label=label)
    except RecsysError as error:
        st.error(f"Could not train {label} on {dataset.name}: {error}")
        return None
    watch_jobs([key])
    return None


def expected_seconds_text(label: str, dataset: Dataset) -> str:
    """About how long training `label` takes here, in words."""
    seconds = expected_seconds(label, dataset.n_ratings)
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def offer_training(dataset: Dataset, label: str, split: Split, key: str) -> None:
    """A model that is not trained yet: what it would train, about how long, and a button."""
    st.info(f"**{label}** is not trained on {dataset.name} yet (it would learn from {split.describe()}).")
    st.button(f"Train {label} (about {expected_seconds_text(label, dataset)})", key=f"offer-{key}", type="primary",
              on_click=_request, args=(f"train-asked-{key}",),
              help="It trains on the server as a job: other pages stay usable, and this one fills in when it is "
                   "done. Once trained it is cached for every page and session.")


def submit(dataset: Dataset, model_name: str, config, split: Split, retrain: bool = False,
           label: str | None = None) -> JobView:
    """Queue a training for this session: shared for MovieLens, private for its upload."""
    scope = scope_for(dataset)
    return job_runner().submit(dataset, model_name, config, split, retrain=retrain, label=label,
                               owner=scope.owner, private=scope.private, store=scope.store)


def job_key(dataset: Dataset, model_name: str, config, split: Split) -> str:
    """The runner's key of the job for these settings in this session's scope."""
    return scope_for(dataset).job_key(artifact_key(dataset.fingerprint, split, model_name, config))


def _request(flag: str) -> None:
    st.session_state[flag] = True


def show_ended(view: JobView, again_key: str | None = None) -> None:
    """What a failed or stopped job says in a page, with a button to run it again."""
    if view.state == FAILED:
        st.error(f"Training {view.label} on {view.dataset} failed: {view.error}")
    elif view.state == STOPPED:
        st.warning(f"Training {view.label} on {view.dataset} was stopped; nothing was saved.")
    if again_key is not None:
        st.button("Try again" if view.state == FAILED else "Train it again", key=again_key,
                  on_click=_request, args=(again_key,))


def watch_jobs(keys: list[str], title: str | None = None) -> None:
    """Progress of these jobs in place. While any is active, a fragment redraws it every second
    and reruns the whole page when the last one ends, so the page fills in by itself."""
    views = [view for view in map(job_runner().get, keys) if view is not None]
    if any(view.active for view in views):
        st.fragment(_job_progress, run_every=1.0)(tuple(keys), title, True)
    else:
        _job_progress(tuple(keys), title, False)


def _job_progress(keys: tuple[str, ...], title: str | None, live: bool) -> None:
    views = [view for view in map(job_runner().get, keys) if view is not None]
    if live and not any(view.active for view in views):
        st.rerun()  # the jobs ended: redraw the page with their models
    if title:
        st.markdown(title)
    if len(views) > MANY_JOBS:
        _many_jobs_progress(views)
        return
    for view in views:
        if view.active:
            job_progress(view, note="the page fills in when it is done; other pages stay usable")
        elif view.state in (FAILED, STOPPED):
            show_ended(view)


MANY_JOBS = 3
STAGE_MARKS = {"done": "✓", "now": "▶", "next": "○"}


def job_progress(view: JobView, note: str = "") -> None:
    """One job's progress: one bar across all its stages, where it is, and the list of stages."""
    st.progress(view.progress, text=f"Training **{view.label}** on {view.dataset} ({view.split})")
    st.caption(view.describe() + (f" · {note}" if note else ""))
    if len(view.plan) > 1:
        st.caption("Stages: " + " · ".join(f"{STAGE_MARKS[state]} {name}" for name, state in view.stage_list()))


def _many_jobs_progress(views: list[JobView]) -> None:
    """A batch of jobs (e.g. a comparison over folds): how many are done, the one running, and
    the queue in order."""
    done = sum(view.state == DONE for view in views)
    st.progress(done / len(views), text=f"**{done} of {len(views)}** runs trained; the rest wait their turn "
                "and the page fills in as they finish")
    for view in views:
        if view.state == RUNNING:
            job_progress(view)
    waiting = [f"{view.label} ({view.split})" for view in views if view.state == QUEUED]
    if waiting:
        st.caption(f"Waiting, in order: {', '.join(waiting)}")
    for view in views:
        if view.state in (FAILED, STOPPED):
            show_ended(view)


def jobs_panel() -> None:
    """The sidebar's list of this server's training jobs (every session's), refreshed every two
    seconds, with a Stop button for each running or queued job."""
    with st.sidebar:
        st.fragment(_jobs_panel_body, run_every=2.0)()


RECENT_SECONDS = 600
SIDEBAR_QUEUED = 2  # the sidebar lists this many waiting jobs, then counts the rest


def _jobs_panel_body() -> None:
    runner = job_runner()
    now = time.time()
    views = runner.jobs(session_id())
    active = [view for view in views if view.active]
    recent = [view for view in views if not view.active and view.finished and now - view.finished < RECENT_SECONDS]
    st.markdown("**Training jobs**")
    if not active and not recent:
        st.caption("No training is running. Jobs started on any page show here.")
        return
    waiting = [view for view in active if view.state == QUEUED]
    shown = [view for view in active if view.state != QUEUED] + waiting[:SIDEBAR_QUEUED]
    for view in shown:
        st.progress(view.progress, text=f"{view.label} · {view.dataset} · {view.split}")
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.caption(view.describe(now))
        right.button("", icon=":material/stop_circle:", key=f"stop-job-{view.id}", on_click=runner.stop,
                     args=(view.key,), help=f"Stop {view.label}: ends it after the current batch; nothing is saved.")
    if len(waiting) > SIDEBAR_QUEUED:
        st.caption(f"… and {len(waiting) - SIDEBAR_QUEUED} more waiting their turn")
    icons = {DONE: ":material/check_circle:", FAILED: ":material/error:", STOPPED: ":material/stop_circle:"}
    for view in reversed(recent[-3:]):
        st.caption(f"{icons[view.state]} {view.label} · {view.dataset} · {view.split}: {view.describe(now)}")


def csv_download(frame: pd.DataFrame, label: str, filename: str, key: str) -> None:
    st.download_button(label, frame.to_csv(index=False).encode(), file_name=filename, mime="text/csv", key=key)


@st.cache_data(show_spinner="Projecting the movie vectors…", max_entries=64)
def item_points(model_key: str, method: str, min_count: int, genres: tuple[str, ...], _dataset: Dataset,
                _result: TrainResult, dims: int = 2, include: tuple[int, ...] = ()) -> pd.DataFrame:
    """The movie map of a trained model, cached by its artifact key and the map's settings
    (`include`: movies drawn whatever the filters, e.g. a shown user's)."""
    from recsys import explore

    return explore.item_map(_dataset, _result.model, method, min_count, list(genres), dims=dims, include=include)


@st.cache_data(show_spinner="Projecting the user vectors…", max_entries=64)
def user_points(model_key: str, method: str, _dataset: Dataset, _result: TrainResult) -> pd.DataFrame:
    """The user map of a trained model, cached by its artifact key and projection."""
    from recsys import explore

    return explore.user_map(_dataset, _result.model, method)
