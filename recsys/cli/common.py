"""What the commands share: reading a dataset and a split from the arguments, `--set` values, training
with progress on stderr, and the request resolved once."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from recsys.data import sources
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.data.upload import SCALES, read_ratings_file
from recsys.errors import ConfigError, RecsysError
from recsys.evaluation.beyond_accuracy import BEYOND_COLUMNS
from recsys.store.artifacts import ArtifactStore
from recsys.work import request
from recsys.work.job_view import FAILED
from recsys.work.jobs import JobRunner
from recsys.work.training import ProgressPrinter, TrainResult

TABLE_COLUMNS = ["model", "rmse", "mae", "precision", "recall", "ndcg", "hit_rate", "map", *BEYOND_COLUMNS,
                 "fit_seconds", "source"]


def parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def overrides_from(pairs: Sequence[str]) -> dict:
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        values[name.strip()] = parse_value(value.strip())
    return values


def say_error(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def download_progress(done: int, total: int) -> None:
    if total:
        say_error(f"\r  downloading {done / 1e6:.1f} / {total / 1e6:.1f} MB ({100 * done / total:.0f}%)")


def load_dataset(args) -> Dataset:
    if getattr(args, "file", None):
        dataset = read_ratings_file(args.file, name=f"file:{Path(args.file).name}", scale=SCALES[args.scale],
                                    items_source=getattr(args, "items", None))
        for note in dataset.notes:
            say_error(f"  note: {note}")
        return dataset
    return sources.load(args.dataset, path=getattr(args, "path", None), progress=download_progress)


def split_from(args) -> Split:
    if args.before and args.split != "time":
        raise ConfigError("--before needs --split time")
    if args.split == "official":
        return Split("official", name=args.fold_name)
    if args.split == "kfold":
        return Split("kfold", seed=args.seed, folds=args.folds, fold=0)
    if args.split == "full":
        return Split("full", seed=args.seed)
    if args.split == "time":
        return Split("time", fraction=args.fraction, before=args.before or "")
    return Split(args.split, fraction=args.fraction, seed=args.seed)


class Interrupted(RecsysError):
    """Ctrl-C during a training job: the job was stopped and nothing was saved."""


def run_training(dataset: Dataset, chosen: request.Resolved, store: ArtifactStore, retrain: bool,
                 quiet: bool = False) -> TrainResult:
    """Train (or load) the resolved request through the job runner, in the foreground, printing its
    epochs as they come; Ctrl-C stops the job after its current batch."""
    printer = ProgressPrinter(chosen.label, write=say_error) if not quiet else None
    runner = JobRunner(workers=1, store=store)
    try:
        view = runner.submit_plan(dataset, chosen.plan, retrain=retrain, label=chosen.label)
        shown = 0
        try:
            while view.active:
                view = runner.wait(view.key, timeout=0.25)
                for log in view.logs[shown:]:
                    if printer:
                        printer(log)
                shown = len(view.logs)
        except KeyboardInterrupt:
            runner.stop(view.key)
            runner.wait(view.key, timeout=60)
            raise Interrupted(f"{chosen.label}: stopped; nothing was saved") from None
    finally:
        runner.shutdown()
    if view.state == FAILED:
        raise view.failure if isinstance(view.failure, RecsysError) else RecsysError(view.error)
    result = view.result
    for note in result.notes:
        say_error(f"  note: {note}")
    return result


def strategy_overrides(args) -> dict:
    """--strategy as a hyper-parameter override (the Keras models' `strategy`)."""
    return {} if args.strategy == "default" else {"strategy": args.strategy}


def resolved_request(dataset: Dataset, label: str, split: Split, overrides: dict | None = None,
                     only_known: bool = False) -> request.Resolved:
    """The request resolved once through the one request layer (per-size settings included, as on
    the pages), as `run_training` trains it; the per-size sentence goes to stderr."""
    resolved = request.resolve(dataset, label, split, overrides, only_known=only_known)
    if resolved.size_note:
        say_error(f"at this size: {resolved.size_note}")
    return resolved


SET_HELP = "a hyper-parameter, repeatable; `recsys params MODEL` lists each model's with their ranges"


