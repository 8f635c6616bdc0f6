"""The one `train()` used by the CLI, the dashboard and the benchmarks: load the cached artifact
for these settings if there is one, otherwise fit with progress callbacks, early stopping and a
stop flag, evaluate on the test part, and save the artifact atomically."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pandas as pd

from recsys import budget
from recsys.budget import Cost
from recsys.data.dataset import Dataset
from recsys.data.split import Split, validation_split
from recsys.errors import ArtifactError, ArtifactGone, ConfigError
from recsys.evaluation.evaluate import evaluate
from recsys.models import ModelConfig, Recommender, model_class
from recsys.models.loop import HISTORY_COLUMNS, EpochCallback, EpochLog, Stage
from recsys.store.artifacts import ArtifactStore
from recsys.work.plan import Plan, plan

VALIDATION_FRACTION = 0.1


@dataclass
class TrainResult:
    """What one `train()` call produced or loaded."""

    model: Recommender
    key: str
    history: pd.DataFrame
    metrics: dict = field(default_factory=dict)
    fit_seconds: float = 0.0
    path: Path | None = None
    loaded: bool = False
    stopped: bool = False
    notes: list[str] = field(default_factory=list)
    stamp: tuple[int, int] | None = None  # identifies the saved artifact (see ArtifactStore.stamp)


def estimate_cost(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None) -> Cost:
    """What training `model_name` on this dataset will cost (an upper bound: any split's training
    part is at most the whole dataset)."""
    return plan(dataset, model_name, config).cost


def refusal(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None) -> str:
    """Why `model_name` cannot train on this dataset ("" when it can), asked before any work."""
    return plan(dataset, model_name, config).refusal


def check_plan(planned: Plan) -> Cost:
    """The plan's cost, after refusing a model that cannot train on this data (`ConfigError`) or
    a cost over the per-model budget (`BudgetError`)."""
    if planned.refusal:
        raise ConfigError(planned.refusal)
    budget.check(planned.model, planned.cost)
    return planned.cost


def check_budget(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None) -> Cost:
    """`check_plan` for a model and its settings."""
    return check_plan(plan(dataset, model_name, config))


def train(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None,
          split: Split = Split(), store: ArtifactStore | None = None,
          callbacks: Sequence[EpochCallback] = (), stop: threading.Event | None = None,
          retrain: bool = False, on_corrupt: str = "raise", k: int = 10,
          on_stage: Callable[[str], None] | None = None, strategy: str | None = None,
          on_plan: Callable[[tuple[Stage, ...]], None] | None = None) -> TrainResult:
    """Train (or load) `model_name` on `split` of `dataset`.

    A valid cached artifact with the same key is loaded unless `retrain`. A broken one raises
    `ArtifactError` (`on_corrupt="raise"`) or is replaced (`on_corrupt="retrain"`, with a note).
    Early stopping uses a seeded 10% validation part of the training split; the test part is
    used only for the final metrics. A stopped run is returned but not saved. If saving fails
    (e.g. a read-only folder), the result is returned with a note instead of being lost.
    `on_plan` hears the whole list of stages once, before fitting: the model's own (`stages()`,
    e.g. a blend's parts) then "evaluating" (when the split has a test part) and "saving";
    `on_stage` hears each stage's name as it begins (for progress displays).
    """
    return train_plan(dataset, plan(dataset, model_name, config, split, strategy), store, callbacks, stop, retrain,
                      on_corrupt, k, on_stage, on_plan)


def train_plan(dataset: Dataset, planned: Plan, store: ArtifactStore | None = None,
               callbacks: Sequence[EpochCallback] = (), stop: threading.Event | None = None,
               retrain: bool = False, on_corrupt: str = "raise", k: int = 10,
               on_stage: Callable[[str], None] | None = None,
               on_plan: Callable[[tuple[Stage, ...]], None] | None = None) -> TrainResult:
    """`train` for a request already resolved: its config, key, cost and refusal are the plan's."""
    stage = on_stage or (lambda name: None)
    model_name, config, split, key = planned.model, planned.config, planned.split, planned.key
    store = store or ArtifactStore()
    notes: list[str] = []
    if not retrain and store.exists(model_name, key):
        try:
            return _from_artifact(store, model_name, key)
        except ArtifactGone:
            pass  # deleted while we looked: train it
        except ArtifactError as error:
            if on_corrupt != "retrain":
                raise
            notes.append(f"the cached artifact was broken and has been retrained: {error}")
            _delete_if_there(store, model_name, key)
    check_plan(planned)
    train_part, test_part = split.apply(dataset)
    fit_part, valid_part = validation_split(train_part, VALIDATION_FRACTION, seed=config.seed)
    model = model_class(model_name)(config)
    model.cached_part = lambda name, part_config: _cached_model(dataset, name, part_config, split, store)
    model.on_stage = stage
    if on_plan is not None:
        on_plan(model.stages() + ((Stage("evaluating"),) if split.has_test else ()) + (Stage("saving"),))
    stage("fitting")
    history = model.fit(fit_part, valid_part, callbacks=callbacks, stop=stop)
    result = TrainResult(model, key, history.frame(), fit_seconds=history.seconds,
                         notes=notes + model.notes, stopped=history.stopped)
    if history.stopped:
        result.notes.append("training was stopped; nothing was saved")
        return result
    if split.has_test:  # the full split has no test part: nothing to score
        stage("evaluating")
        result.metrics = evaluate(model, train_part, test_part, k=k,
                                  item_genres=[set(g) for g in dataset.items["genres"]])
    meta = {"metrics": result.metrics, "history": history.frame().to_dict("records"),
            "fit_seconds": history.seconds, "best_epoch": history.best_epoch, "seed": config.seed,
            "n_train": len(train_part), "n_test": len(test_part)}
    stage("saving")
    try:
        result.path = store.save(key, model, dataset, split, meta, replace=retrain)
        result.stamp = store.stamp(model_name, key)
    except ArtifactError as error:
        result.notes.append(f"the model could not be cached: {error}")
    return result


def _from_artifact(store: ArtifactStore, model_name: str, key: str) -> TrainResult:
    loaded = store.load(model_name, key)
    meta = loaded.meta
    history = pd.DataFrame(meta.get("history", []), columns=HISTORY_COLUMNS)
    return TrainResult(loaded.model, key, history, dict(meta.get("metrics", {})),
                       float(meta.get("fit_seconds", 0.0)), loaded.path, loaded=True, stamp=loaded.stamp)


def _delete_if_there(store: ArtifactStore, model_name: str, key: str) -> None:
    try:
        store.delete(model_name, key)
    except (ArtifactError, FileNotFoundError):
        pass  # someone else removed it first


def _cached_model(dataset: Dataset, model_name: str, config: ModelConfig, split: Split,
                  store: ArtifactStore) -> Recommender | None:
    """A valid cached model for exactly these settings, or None (a broken one counts as none)."""
    try:
        found = lookup(dataset, model_name, config, split, store)
    except ArtifactError:
        return None
    return found.model if found is not None else None


def lookup(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None,
           split: Split = Split(), store: ArtifactStore | None = None) -> TrainResult | None:
    """The cached result for these settings, or None when there is none (also when it was deleted
    while being read). A broken artifact raises `ArtifactError`."""
    return lookup_plan(plan(dataset, model_name, config, split), store)


def lookup_plan(planned: Plan, store: ArtifactStore | None = None) -> TrainResult | None:
    """`lookup` for a request already resolved."""
    model_name, key = planned.model, planned.key
    store = store or ArtifactStore()
    if not store.exists(model_name, key):
        return None
    try:
        return _from_artifact(store, model_name, key)
    except ArtifactGone:
        return None


class ProgressPrinter:
    """An epoch callback that prints one line per epoch with an estimate of the time left."""

    def __init__(self, label: str, write=print) -> None:
        self.label, self.write, self.started = label, write, time.perf_counter()

    def __call__(self, log: EpochLog) -> None:
        elapsed = time.perf_counter() - self.started
        left = elapsed / log.epoch * (log.epochs - log.epoch)
        val = f" val_rmse {log.val_rmse:.4f}" if log.val_rmse is not None else \
            (f" val_loss {log.val_loss:.4f}" if log.val_loss is not None else "")
        self.write(f"  {self.label} epoch {log.epoch}/{log.epochs} loss {log.loss:.4f}{val} "
                   f"({log.seconds:.1f}s, at most {left:.0f}s left)")
