"""Splits: seeded random holdout, k-fold, per-user temporal, train-on-the-past (time), ml-100k's
official folds, and `full` (every rating trains; no test part).

A `Split` is a small frozen value; the same value applied to the same dataset always gives the
same rows, so it can be part of an artifact key.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np

from recsys.data.dataset import Dataset, Ratings
from recsys.errors import ConfigError, DataError

KINDS = ("holdout", "kfold", "temporal", "time", "official", "full")


@dataclass(frozen=True)
class Split:
    """How to cut a dataset into train and test.

    - holdout: `perm = default_rng(seed).permutation(n)` over the ratings in file order; the first
      `int(fraction * n)` positions are test.
    - kfold: the same permutation cut into `folds` near-equal parts; part `fold` is test.
    - temporal: per user, the last `max(1, int(fraction * n_u))` ratings by time are test.
    - time: train on the past, test on the future: every rating at or after a cut time is test.
      The cut is the date `before` (UTC, e.g. "2015-01-01") when given, else the timestamp that
      leaves the latest `fraction` of the ratings on the test side (ratings at the cut second go
      to test, so nothing in train is later than anything in test).
    - official: ml-100k's shipped fold `name` (u1-u5, ua, ub).
    - full: every rating trains and there is no test part (for recommending, not for scores).
    """

    kind: str = "holdout"
    fraction: float = 0.2
    seed: int = 42
    folds: int = 5
    fold: int = 0
    name: str = ""
    before: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown split kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.before and self.kind != "time":
            raise ConfigError("a cut date (before) belongs to a time split only")
        if self.before:
            cut_time(self.before)  # refuses a date it cannot read
        if (self.kind in ("holdout", "temporal") or (self.kind == "time" and not self.before)) \
                and not 0 < self.fraction < 1:
            raise ConfigError(f"split fraction must be between 0 and 1, got {self.fraction}")
        if self.kind == "kfold" and not (2 <= self.folds and 0 <= self.fold < self.folds):
            raise ConfigError(f"k-fold needs folds >= 2 and 0 <= fold < folds, got {self.folds}/{self.fold}")
        if self.kind == "official" and not self.name:
            raise ConfigError("an official split needs a fold name such as 'u1'")

    def label(self) -> str:
        """A short human and file-safe description, e.g. 'holdout-0.2-s42'."""
        if self.kind == "holdout":
            return f"holdout-{self.fraction:g}-s{self.seed}"
        if self.kind == "kfold":
            return f"kfold-{self.fold + 1}of{self.folds}-s{self.seed}"
        if self.kind == "temporal":
            return f"temporal-{self.fraction:g}"
        if self.kind == "time":
            return f"time-before-{self.before}" if self.before else f"time-{self.fraction:g}"
        if self.kind == "full":
            return "full"
        return f"official-{self.name}"

    @property
    def has_test(self) -> bool:
        return self.kind != "full"

    def describe(self) -> str:
        """A sentence for pages and reports: what the model was trained on."""
        if self.kind == "full":
            return "every rating (no test part)"
        if self.kind == "time":
            cut = f"before {self.before}" if self.before else f"the earliest {1 - self.fraction:.0%} by time"
            return f"the ratings {cut}; the later ones are its test part"
        if self.kind == "temporal":
            return f"each user's earliest ratings; their last {self.fraction:.0%} are its test part"
        return f"the training part of the {self.label()} split"

    def as_dict(self) -> dict:
        return asdict(self)

    def test_rows(self, dataset: Dataset) -> np.ndarray:
        """Row positions (into dataset.ratings) that form the test part, sorted."""
        n = dataset.n_ratings
        if self.kind == "holdout":
            perm = np.random.default_rng(self.seed).permutation(n)
            return np.sort(perm[: int(self.fraction * n)])
        if self.kind == "kfold":
            perm = np.random.default_rng(self.seed).permutation(n)
            return np.sort(np.array_split(perm, self.folds)[self.fold])
        if self.kind == "temporal":
            return temporal_test_rows(dataset.ratings, self.fraction)
        if self.kind == "time":
            if not dataset.has_timestamps:
                raise DataError(f"dataset {dataset.name!r} has no timestamps, so it cannot be split by time; "
                                "use a random holdout instead")
            return time_test_rows(dataset.ratings, self.fraction, self.before)
        if self.kind == "full":
            return np.zeros(0, dtype=np.int64)
        if self.name not in dataset.folds:
            available = ", ".join(dataset.folds) or "none"
            raise ConfigError(f"dataset {dataset.name!r} has no official fold {self.name!r} "
                              f"(available: {available})")
        return np.asarray(dataset.folds[self.name])

    def apply(self, dataset: Dataset) -> tuple[Ratings, Ratings]:
        """(train, test) ratings."""
        test = np.zeros(dataset.n_ratings, dtype=bool)
        test[self.test_rows(dataset)] = True
        if test.all() or (self.has_test and not test.any()):
            part = "training" if test.all() else "test"
            why = (f"the ratings run from {_date(dataset.ratings.timestamps.min())} to "
                   f"{_date(dataset.ratings.timestamps.max())}" if self.kind == "time"
                   else f"{dataset.n_ratings} rating(s) are too few for it")
            raise DataError(f"the {self.label()} split of {dataset.name!r} leaves the {part} part empty: {why}")
        return dataset.ratings.take(~test), dataset.ratings.take(test)


def temporal_test_rows(ratings: Ratings, fraction: float) -> np.ndarray:
    """Per user, the positions of the last max(1, int(fraction * n_u)) ratings by timestamp."""
    order = np.lexsort((np.arange(len(ratings)), ratings.timestamps, ratings.users))
    users = ratings.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, users.size])
    rank = np.arange(users.size) - np.repeat(starts, counts)
    n_test = np.maximum(1, (fraction * counts).astype(np.int64))
    is_test = rank >= np.repeat(counts - n_test, counts)
    return np.sort(order[is_test])


def cut_time(before: str) -> int:
    """Seconds since the epoch (UTC) of an ISO date such as "2015-01-01" or "2015-01-01T12:00"."""
    try:
        moment = datetime.fromisoformat(str(before))
    except ValueError:
        raise ConfigError(f"cannot read the cut date {before!r}; write it as YYYY-MM-DD") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _date(seconds: int) -> str:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%d")


def time_test_rows(ratings: Ratings, fraction: float, before: str = "") -> np.ndarray:
    """Positions of the ratings at or after the cut time (see `Split`), sorted."""
    stamps = ratings.timestamps
    if before:
        cut = cut_time(before)
    else:
        n_test = max(1, int(fraction * len(ratings)))
        cut = np.partition(stamps, len(stamps) - n_test)[len(stamps) - n_test]
    return np.flatnonzero(stamps >= cut)


def fold_splits(dataset: Dataset, folds: int = 5, seed: int = 42) -> list[Split]:
    """The splits that cover a dataset once each: its official u1-u5 folds where it has them,
    otherwise seeded k-fold."""
    official = [f for f in ("u1", "u2", "u3", "u4", "u5") if f in dataset.folds]
    if official:
        return [Split("official", name=f) for f in official]
    return [Split("kfold", seed=seed, folds=folds, fold=f) for f in range(folds)]


def validation_split(train: Ratings, fraction: float = 0.1, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Carve a seeded random validation part out of a training set (for early stopping)."""
    if not 0 < fraction < 1:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction}")
    perm = np.random.default_rng(seed).permutation(len(train))
    mask = np.zeros(len(train), dtype=bool)
    mask[perm[: int(fraction * len(train))]] = True
    return train.take(~mask), train.take(mask)
