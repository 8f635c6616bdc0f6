"""Models for the pages: the splits they offer, cached tables and projections, and a model found,
trained or offered for a request (with a quick stand-in while a page's default trains). Pages
import everything else from where it lives: server-wide resources from `resources`, uploads'
privacy from `privacy`, job widgets from `job_widgets`, widget state from `state`, the dataset
picker from `datasets`."""
from __future__ import annotations

import os
from typing import Callable

import pandas as pd
import streamlit as st

from dashboard.datasets import UPLOAD, default_dataset
from dashboard.job_widgets import raise_flag, expected_seconds_text, is_mine, offer_training, show_ended, watch_jobs
from dashboard.privacy import Scope, is_private, session_id, shown_name
from dashboard.resources import load_lock, model_cache, job_runner, log, private_space
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.errors import ArtifactError, RecsysError
from recsys.evaluation.compare import Comparison
from recsys.work.catalog import stand_in
from recsys.work.job_view import DONE, FAILED, STOPPED, JobView
from recsys.work.plan import Plan
from recsys.work.request import Resolved, resolve
from recsys.work.training import TrainResult, lookup_plan, train_plan

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



@st.cache_data(show_spinner=False, max_entries=32)
def cached_table(fingerprint: str, name: str, _build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A frame derived from a dataset, cached by the dataset's fingerprint and a table name."""
    return _build()


# ----- models and training jobs -----
def split_choices(dataset: Dataset, splits: dict[str, Split] | None = None) -> list[str]:
    """The split names that apply to a dataset (official folds and time splits need their data)."""
    splits = SPLITS if splits is None else splits
    return [name for name, split in splits.items()
            if (split.kind != "official" or split.name in dataset.folds)
            and (split.kind != "time" or dataset.has_timestamps)]


def forget_private() -> None:
    """The Delete button: this session's upload, its models and its scratch folder, now."""
    for view in job_runner().active(session_id()):
        if view.owner is not None:
            job_runner().stop(view.key)
    for name in ("uploaded_dataset", "upload_outcome"):
        st.session_state.pop(name, None)
    if st.session_state.get("dataset") == UPLOAD:
        st.session_state["dataset"] = st.session_state["_keep_dataset"] = default_dataset()
    private_space.clear()


def scope_for(dataset: Dataset) -> Scope:
    """Where this dataset's models live for this session: the shared cache, or its private space."""
    if is_private(dataset):
        space = private_space()
        return Scope(space.models, space.store, session_id(), True)
    return Scope(model_cache(), None, session_id(), False)


def cached_result(dataset: Dataset, label: str, split: Split = Split(),
                  overrides: dict | None = None) -> TrainResult | None:
    """A model already trained: by a job of this server, in memory, or in the artifact store
    (never trains). Raises ArtifactError for a broken artifact."""
    return settings_result(dataset, resolve(dataset, label, split, overrides).plan)


def settings_result(dataset: Dataset, planned: Plan) -> TrainResult | None:
    """`cached_result` for a request already resolved. A model in memory whose artifact was
    deleted or replaced on disk since (by the CLI, a page or another server) is dropped and read
    again, so every server stops using a deleted model on its next access."""
    key, model_name = planned.key, planned.model
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
    with load_lock(scope.job_key(key)):  # one load per key at a time; other keys load in parallel
        result = cache.get(key)
        if result is not None and _on_disk_as_loaded(result):
            return result
        cache.pop(key, None)
        result = lookup_plan(planned, scope.store)
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


def job_label(label: str, overrides: dict | None) -> str:
    """A job's name in the jobs panel: the model and the settings it was asked for, so that two jobs
    of one model (the lessons' als with and without its penalty) read apart."""
    return label + (f" ({', '.join(f'{name} {value}' for name, value in overrides.items())})" if overrides else "")


def request_model(dataset: Dataset, label: str, split: Split = Split(), overrides: dict | None = None,
                  start: bool = True, resolved: Resolved | None = None) -> TrainResult | None:
    """The model for these settings if it is trained; otherwise a training job is submitted (or
    joined) and its progress shown in place, and None is returned: the page goes on, and fills in
    by itself when the job ends. With `start` False (a model the person picked, not the page's
    own default) nothing starts by itself: a button says what it will train and about how long.
    A broken artifact gets a Retrain button; a failed or stopped job its message and a Try
    again button."""
    resolved = resolved or resolve(dataset, label, split, overrides)
    key = resolved.key
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
                result = settings_result(dataset, resolved.plan)
            except ArtifactError as error:
                if waiting:
                    watch_jobs([key])
                    return None
                st.error(f"The cached {label} model is broken: {error}")
                st.button(f"Retrain {label}", key=f"retrain-broken-{key}", type="primary",
                          on_click=raise_flag, args=(f"retrain-requested-{key}",))
                return None
            if result is not None:
                return result
        if waiting:
            watch_jobs([key])
            return None
        if view is not None and view.state in (FAILED, STOPPED) and is_mine(view) \
                and not st.session_state.pop(f"again-{key}", False):
            show_ended(view, again_key=f"again-{key}")
            return None
        asked = st.session_state.pop(f"train-asked-{key}", False)
        if not start and not asked and (view is None or view.state != DONE):
            offer_training(dataset, label, split, key, resolved.refusal)
            return None
        if start and not asked:
            st.caption(f"{label} is this page's default and is not trained on {dataset.name} yet, so it trains now "
                       f"(about {expected_seconds_text(label, dataset)}).")
    try:
        submit(dataset, resolved.plan, retrain=retrain, label=job_label(label, overrides))
    except RecsysError as error:
        st.error(f"Could not train {label} on {dataset.name}: {error}")
        return None
    watch_jobs([key])
    return None


def with_stand_in(dataset: Dataset, label: str, split: Split = Split(), start: bool = True) -> tuple[TrainResult | None, str]:
    """`request_model` for a page's own default, and the label to show with it. While that default
    trains as a job, the page gets its quick stand-in model (`catalog.stand_in`, trained here in
    about a second the first time, then cached like any model) under a note that says so, and the
    job's end reruns the page with the default. The stand-in is made before the job is queued, so
    the job's start (importing TensorFlow) does not slow it down."""
    quick = stand_in(label) if start else None
    resolved = resolve(dataset, label, split)
    stand = None
    if quick is not None and _waits_for_training(dataset, resolved):
        try:
            stand = _stand_in_result(dataset, quick, split)
        except RecsysError as error:
            log.warning("no stand-in for %s: %s", label, error)
    result = request_model(dataset, label, split, start=start, resolved=resolved)
    if result is not None or stand is None:
        return result, label
    view = job_runner().get(scope_for(dataset).job_key(resolved.key))
    if view is not None and view.state == DONE:  # it ended between the two looks
        return settings_result(dataset, resolved.plan), label
    if view is None or not view.active:
        return None, label  # it failed or was stopped: request_model said so
    st.info(f"Meanwhile: **{quick}**, a quick closed-form model ({stand.model.description.split(':')[0]}), "
            f"until {label} is trained; the page switches to {label} by itself.", icon=":material/bolt:")
    return stand, quick


def _waits_for_training(dataset: Dataset, resolved: Resolved) -> bool:
    """Whether this page's model is neither trained nor failed, so it is (or will be) training."""
    view = job_runner().get(scope_for(dataset).job_key(resolved.key))
    if view is not None and view.state in (FAILED, STOPPED):
        return False
    try:
        return settings_result(dataset, resolved.plan) is None
    except ArtifactError:
        return False  # broken: request_model offers to retrain it


def _stand_in_result(dataset: Dataset, label: str, split: Split) -> TrainResult:
    """The stand-in model: cached, or trained now (once per key at a time; a second session waits
    for the first and reads its result)."""
    resolved = resolve(dataset, label, split)
    found = settings_result(dataset, resolved.plan)
    if found is not None:
        return found
    scope = scope_for(dataset)
    with load_lock(scope.job_key(resolved.key)):
        found = scope.cache.get(resolved.key)
        if found is None:
            found = train_plan(dataset, resolved.plan, store=scope.store)
            scope.cache[resolved.key] = found
            log.info("stand-in trained: %s %s in %.1fs", label, resolved.key, found.fit_seconds)
    return found


def submit(dataset: Dataset, planned: Plan, retrain: bool = False, label: str | None = None) -> JobView:
    """Queue a training for this session: shared for MovieLens, private for its upload."""
    scope = scope_for(dataset)
    return job_runner().submit_plan(dataset, planned, retrain=retrain, label=label, owner=scope.owner,
                                    private=scope.private, store=scope.store)


def job_key(dataset: Dataset, planned: Plan) -> str:
    """The runner's key of the job for this request in this session's scope."""
    return scope_for(dataset).job_key(planned.key)


def csv_download(frame: pd.DataFrame, label: str, filename: str, key: str) -> None:
    st.download_button(label, frame.to_csv(index=False).encode(), file_name=filename, mime="text/csv", key=key)


@st.cache_resource(show_spinner="Comparing: 1,000 resamples of the test users for every interval…", max_entries=16)
def comparison(keys: tuple[str, ...], _dataset: Dataset, _split: Split, _models: dict) -> "Comparison":
    """Intervals, pairs, segments and beyond-accuracy measures of trained models on one split,
    cached by the models' artifact keys (read-only: shared by every session)."""
    from recsys.evaluation.compare import comparison as compare

    return compare(_dataset, _split, _models)


@st.cache_data(show_spinner="Projecting the movie vectors…", max_entries=64)
def item_points(model_key: str, method: str, min_count: int, genres: tuple[str, ...], _dataset: Dataset,
                _result: TrainResult, dims: int = 2, include: tuple[int, ...] = ()) -> pd.DataFrame:
    """The movie map of a trained model, cached by its artifact key and the map's settings
    (`include`: movies drawn whatever the filters, e.g. a shown user's)."""
    from recsys.explain import explore

    return explore.item_map(_dataset, _result.model, method, min_count, list(genres), dims=dims, include=include)


@st.cache_data(show_spinner="Projecting the user vectors…", max_entries=64)
def user_points(model_key: str, method: str, _dataset: Dataset, _result: TrainResult) -> pd.DataFrame:
    """The user map of a trained model, cached by its artifact key and projection."""
    from recsys.explain import explore

    return explore.user_map(_dataset, _result.model, method)
