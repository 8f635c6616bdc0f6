"""Splits: seeded random holdout, k-fold, per-user temporal and ml-100k's official folds.

A `Split` is a small frozen value; the same value applied to the same dataset always gives the
same rows, so it can be part of an artifact key.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from recsys.dataset import Dataset, Ratings
from recsys.errors import ConfigError, DataError

KINDS = ("holdout", "kfold", "temporal", "official")


@dataclass(frozen=True)
class Split:
    """How to cut a dataset into train and test.

    - holdout: `perm = default_rng(seed).permutation(n)` over the ratings in file order; the first
      `int(fraction * n)` positions are test.
    - kfold: the same permutation cut into `folds` near-equal parts; part `fold` is test.
    - temporal: per user, the last `max(1, int(fraction * n_u))` ratings by time are test.
    - official: ml-100k's shipped fold `name` (u1-u5, ua, ub).
    """

    kind: str = "holdout"
    fraction: float = 0.2
    seed: int = 42
    folds: int = 5
    fold: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown split kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.kind in ("holdout", "temporal") and not 0 < self.fraction < 1:
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
        return f"official-{self.name}"

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
        if self.name not in dataset.folds:
            available = ", ".join(dataset.folds) or "none"
            raise ConfigError(f"dataset {dataset.name!r} has no official fold {self.name!r} "
                              f"(available: {available})")
        return np.asarray(dataset.folds[self.name])

    def apply(self, dataset: Dataset) -> tuple[Ratings, Ratings]:
        """(train, test) ratings."""
        test = np.zeros(dataset.n_ratings, dtype=bool)
        test[self.test_rows(dataset)] = True
        if test.all() or not test.any():
            part = "training" if test.all() else "test"
            raise DataError(f"the {self.label()} split of {dataset.name!r} leaves the {part} part empty: "
                            f"{dataset.n_ratings} rating(s) are too few for it")
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
