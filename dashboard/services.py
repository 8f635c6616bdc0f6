"""The dashboard's only door into recsys: cached data and model access, shared widgets and
messages. Pages call these; nothing here parses files or fits models by itself."""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Callable

import pandas as pd
import streamlit as st

from recsys import sources
from recsys.artifacts import artifact_key
from recsys.catalog import preset
from recsys.dataset import Dataset
from recsys.errors import ArtifactError, RecsysError
from recsys.models.base import EpochLog
from recsys.split import Split
from recsys.training import TrainResult, lookup, resolve_config, train
from recsys.upload import SCALES, read_ratings_file

DATASETS = ("ml-latest-small", "ml-100k", "mini")
UPLOAD = "uploaded file"
UPLOAD_SCALES = {"0.5-5 in half stars": "half-stars", "1-5 whole stars": "whole-stars"}
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


# ----- state that survives moving between pages -----
def persistent(key: str, default):
    """Key for a widget whose value is kept across pages (Streamlit forgets unrendered widgets)."""
    store = f"_keep_{key}"
    if store not in st.session_state:
        st.session_state[store] = default
    if key not in st.session_state:
        st.session_state[key] = st.session_state[store]
    return key


def keep(key: str) -> None:
    """on_change hook that copies a widget's value to its kept slot."""
    st.session_state[f"_keep_{key}"] = st.session_state[key]


# ----- datasets -----
@st.cache_resource(show_spinner="Loading the dataset…")
def load_dataset(name: str) -> Dataset:
    return sources.load(name)


def dataset_sidebar() -> None:
    """The dataset picker shown on every page."""
    choices = list(DATASETS) + ([UPLOAD] if "uploaded_dataset" in st.session_state else [])
    st.sidebar.selectbox("Dataset", choices, key=persistent("dataset", DATASETS[0]),
                         on_change=keep, args=("dataset",),
                         help="ml-latest-small by default; upload your own file on the Dataset page")
    st.sidebar.caption("Models are cached in artifacts/ and reused across pages and sessions.")


def current_dataset(show_error: bool = True) -> Dataset | None:
    """The chosen dataset, or None after explaining in the page why it is not available."""
    name = st.session_state.get("dataset", DATASETS[0])
    if name == UPLOAD:
        return st.session_state.get("uploaded_dataset")
    try:
        return load_dataset(name)
    except RecsysError as error:
        if show_error:
            st.error(f"**{name} is not available.**\n\n{error}")
            st.info("The mini demo works without any download. To use MovieLens, set RECSYS_DATA_DIR to a "
                    "folder holding `ml-latest-small/` (as GroupLens unzips it) and restart, or run "
                    "`python -m recsys data fetch ml-latest-small` where the internet is reachable.")
        return None


def handle_upload() -> None:
    """on_change hook of the uploader: validate the file through recsys, remember the outcome,
    and switch the dataset picker to it when it is valid."""
    upload = st.session_state.get("upload_file")
    if upload is None:
        st.session_state.pop("upload_outcome", None)
        return
    try:
        scale = SCALES[UPLOAD_SCALES[st.session_state.get("upload_scale", next(iter(UPLOAD_SCALES)))]]
        dataset = read_ratings_file(upload.getvalue(), name=f"upload:{upload.name}", scale=scale)
    except RecsysError as error:
        st.session_state["upload_outcome"] = ("error", f"**{upload.name} was not loaded.** {error}", ())
        return
    st.session_state["uploaded_dataset"] = dataset
    st.session_state["dataset"] = st.session_state["_keep_dataset"] = UPLOAD
    st.session_state["upload_outcome"] = ("success", f"Loaded {dataset.n_ratings:,} ratings from {upload.name}; "
                                          f"the pages now show “{UPLOAD}” (switch back in the sidebar).",
                                          dataset.notes)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_table(fingerprint: str, name: str, _build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A frame derived from a dataset, cached by the dataset's fingerprint and a table name."""
    return _build()


# ----- models -----
@st.cache_resource
def _model_cache() -> dict[str, TrainResult]:
    """Trained or loaded models shared by every session, keyed by artifact key."""
    return {}


def split_choices(dataset: Dataset, splits: dict[str, Split] | None = None) -> list[str]:
    """The split names that apply to a dataset (official folds and time splits need their data)."""
    splits = SPLITS if splits is None else splits
    return [name for name, split in splits.items()
            if (split.kind != "official" or split.name in dataset.folds)
            and (split.kind != "time" or dataset.has_timestamps)]


def model_key(dataset: Dataset, label: str, split: Split, overrides: dict | None = None) -> tuple[str, str, object]:
    chosen = preset(label, **(overrides or {}))
    config = resolve_config(chosen.model, chosen.overrides)
    return artifact_key(dataset.fingerprint, split, chosen.model, config), chosen.model, config


def cached_result(dataset: Dataset, label: str, split: Split = Split(),
                  overrides: dict | None = None) -> TrainResult | None:
    """A model already in memory or in the artifact store (never trains). Raises ArtifactError."""
    key, model_name, config = model_key(dataset, label, split, overrides)
    cache = _model_cache()
    if key in cache:
        return cache[key]
    with _lock:
        if key in cache:
            return cache[key]
        result = lookup(dataset, model_name, config, split)
        if result is not None:
            cache[key] = result
            log.info("model loaded from the artifact store: %s %s (%s)", model_name, key, dataset.name)
    return result


def obtain_model(dataset: Dataset, label: str, split: Split = Split(), overrides: dict | None = None,
                 retrain: bool = False) -> TrainResult | None:
    """The model for these settings: from memory, from the artifact store, or trained now with a
    progress bar. A broken artifact is reported with a button to retrain it; any other problem is
    shown in the page and gives None."""
    key, model_name, config = model_key(dataset, label, split, overrides)
    retrain = st.session_state.pop(f"retrain-requested-{key}", False) or retrain
    if not retrain:
        try:
            result = cached_result(dataset, label, split, overrides)
        except ArtifactError as error:
            st.error(f"The cached {label} model is broken: {error}")
            st.button(f"Retrain {label}", key=f"retrain-broken-{key}", type="primary",
                      on_click=lambda: st.session_state.update({f"retrain-requested-{key}": True}))
            return None
        if result is not None:
            return result
    lock = _training_lock(key)  # other sessions asking for the same model wait for this one
    if not lock.acquire(blocking=False):
        with st.spinner(f"Another session is training {label} with these settings; waiting for it…"):
            lock.acquire()
    try:
        if not retrain and key in _model_cache():
            return _model_cache()[key]
        return _train_with_progress(dataset, label, model_name, config, split, key, retrain)
    finally:
        lock.release()


def _train_with_progress(dataset: Dataset, label: str, model_name: str, config, split: Split, key: str,
                         retrain: bool) -> TrainResult | None:
    with st.status(f"Training {label} on {dataset.name}…", expanded=True) as status:
        bar, line = st.progress(0.0), st.empty()
        try:
            result = train(dataset, model_name, config, split, callbacks=[progress_callback(bar, line)],
                           retrain=retrain, on_corrupt="retrain", on_stage=stage_caption(line))
        except RecsysError as error:
            status.update(label=f"Could not train {label}", state="error")
            st.error(f"Could not train {label} on {dataset.name}: {error}")
            return None
        status.update(label=f"Trained {label} in {result.fit_seconds:.1f}s", state="complete", expanded=False)
    log.info("model trained: %s %s (%s) in %.1fs", model_name, key, dataset.name, result.fit_seconds)
    for note in result.notes:
        st.warning(note)
    _model_cache()[key] = result
    return result


@st.cache_resource
def _training_locks() -> dict[str, threading.Lock]:
    return {}


def _training_lock(key: str) -> threading.Lock:
    """One lock per artifact key, shared by every session of this server."""
    with _lock:
        return _training_locks().setdefault(key, threading.Lock())


def forget_model(dataset: Dataset, label: str, split: Split, overrides: dict | None = None) -> None:
    key, _, _ = model_key(dataset, label, split, overrides)
    _model_cache().pop(key, None)


def progress_callback(bar, line, on_epoch: Callable[[EpochLog], None] | None = None) -> Callable[[EpochLog], None]:
    """An epoch callback that moves a progress bar and shows elapsed time and time left."""
    started = time.perf_counter()

    def update(log: EpochLog) -> None:
        elapsed = time.perf_counter() - started
        left = elapsed / log.epoch * (log.epochs - log.epoch)
        rmse = f", validation RMSE {log.val_rmse:.4f}" if log.val_rmse is not None else ""
        phase = "refitting on all training data: " if log.phase == "refit" else ""
        bar.progress(log.epoch / log.epochs, text=f"{phase}epoch {log.epoch} of at most {log.epochs}")
        line.caption(f"loss {log.loss:.4f}{rmse} · {elapsed:.1f}s elapsed · at most {left:.0f}s left "
                     "(early stopping may end sooner)")
        if on_epoch is not None:
            on_epoch(log)
    return update


STAGE_TEXT = {"fitting": "fitting…", "evaluating": "evaluating on the test part (RMSE and top-10 for every user)…",
              "saving": "saving the artifact…"}


def stage_caption(line) -> Callable[[str], None]:
    """A `train(on_stage=...)` hook that says in `line` what training is doing after the epochs."""
    def show(stage: str) -> None:
        if stage != "fitting":
            line.caption(STAGE_TEXT.get(stage, stage))
    return show


def csv_download(frame: pd.DataFrame, label: str, filename: str, key: str) -> None:
    st.download_button(label, frame.to_csv(index=False).encode(), file_name=filename, mime="text/csv", key=key)


@st.cache_data(show_spinner="Projecting the movie vectors…", max_entries=64)
def item_points(model_key: str, method: str, min_count: int, genres: tuple[str, ...], _dataset: Dataset,
                _result: TrainResult) -> pd.DataFrame:
    """The movie map of a trained model, cached by its artifact key and the map's settings."""
    from recsys import explore

    return explore.item_map(_dataset, _result.model, method, min_count, list(genres))


@st.cache_data(show_spinner="Projecting the user vectors…", max_entries=64)
def user_points(model_key: str, method: str, _dataset: Dataset, _result: TrainResult) -> pd.DataFrame:
    """The user map of a trained model, cached by its artifact key and projection."""
    from recsys import explore

    return explore.user_map(_dataset, _result.model, method)
