"""Accuracy metrics: RMSE and MAE on ratings; precision, recall, NDCG, hit rate and MAP of top-k
lists, and what the lists do beyond accuracy (coverage, Gini, ARP, APLT, novelty, diversity,
personalisation: `recsys.evaluation.beyond_accuracy`); for one split or over folds, as tidy pandas frames.

Top-k protocol: a user is evaluated when they have at least one relevant test item (test rating
>= `threshold`); every item the user did not rate in train is ranked; NDCG uses binary relevance,
a log2 discount and an ideal list of min(k, relevant) items; coverage is the share of the
catalogue that appears in at least one evaluated user's top-k.

Row groups: beside the overall numbers, RMSE and MAE are reported on *warm* test rows (the model
knows both the user and the movie), on rows of *new users* (no rating in the data the model was
fitted on) and on rows of *new movies* (a known user, a movie with no training rating), with their
counts; NDCG@k is reported for warm and for new users apart, with the number of users.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data.dataset import Ratings
from recsys.errors import ConfigError
from recsys.evaluation.beyond_accuracy import BEYOND_COLUMNS, beyond_accuracy
from recsys.models.base import Recommender

METRIC_COLUMNS = ["rmse", "mae", "precision", "recall", "ndcg", "hit_rate", "map", *BEYOND_COLUMNS]
#: the per-group columns `evaluate` adds, in display order
GROUP_COLUMNS = ["n_warm", "rmse_warm", "n_new_user", "rmse_new_user", "n_new_item", "rmse_new_item",
                 "users_warm", "ndcg_warm", "users_new", "ndcg_new_user"]


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error."""
    _same_length(predicted, actual)
    return float(np.sqrt(np.mean((np.asarray(predicted, float) - np.asarray(actual, float)) ** 2)))


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error."""
    _same_length(predicted, actual)
    return float(np.mean(np.abs(np.asarray(predicted, float) - np.asarray(actual, float))))


def _same_length(a: np.ndarray, b: np.ndarray) -> None:
    if len(a) != len(b) or len(a) == 0:
        raise ConfigError(f"metrics need two non-empty arrays of the same length ({len(a)}, {len(b)})")


@dataclass(frozen=True)
class TopKResult:
    precision: float
    recall: float
    ndcg: float
    hit_rate: float
    map: float
    coverage: float
    users: int
    per_user_ndcg: np.ndarray | None = None
    #: per-user precision, recall and ndcg (aligned on the evaluated users), and the lists
    per_user: dict[str, np.ndarray] | None = None
    lists: np.ndarray | None = None


def ranking_metrics(top: np.ndarray, relevant: list[np.ndarray], n_items: int, k: int) -> TopKResult:
    """Metrics of top-k lists (one row per user, item indices best first; -1 pads short lists)
    against each user's set of relevant items."""
    if top.shape[0] != len(relevant) or top.shape[0] == 0:
        raise ConfigError("need one top-k list per user and at least one user")
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    precision, recall, ndcg, hits, aps = [], [], [], [], []
    for row, rel in zip(top[:, :k], relevant):
        hit = np.isin(row, rel) & (row >= 0)
        n_rel = len(rel)
        precision.append(hit.sum() / k)
        recall.append(hit.sum() / n_rel)
        ndcg.append(float(hit @ discounts[: hit.size]) / discounts[: min(k, n_rel)].sum())
        hits.append(float(hit.any()))
        aps.append(float((np.cumsum(hit) / np.arange(1, hit.size + 1))[hit].sum() / min(k, n_rel)))
    shown = np.unique(top[:, :k][top[:, :k] >= 0])
    per_user = {"precision": np.asarray(precision, float), "recall": np.asarray(recall, float),
                "ndcg": np.asarray(ndcg, float)}
    return TopKResult(float(np.mean(precision)), float(np.mean(recall)), float(np.mean(ndcg)),
                      float(np.mean(hits)), float(np.mean(aps)), shown.size / n_items, top.shape[0],
                      np.asarray(ndcg), per_user, top[:, :k])


def top_k_lists(model: Recommender, train: Ratings, users: np.ndarray, k: int,
                batch: int = 256) -> np.ndarray:
    """Top-k unseen items for each user (vectorised over users in batches)."""
    seen = np.zeros((0,), dtype=np.int64)
    out = np.full((users.size, k), -1, dtype=np.int64)
    order = np.argsort(train.users, kind="stable")
    starts = np.searchsorted(train.users[order], np.arange(train.n_users + 1))
    for lo in range(0, users.size, batch):
        chunk = users[lo: lo + batch]
        scores = model.score_all(chunk).astype(np.float64, copy=True)
        for row, user in enumerate(chunk):
            seen = train.items[order[starts[user]: starts[user + 1]]]
            scores[row, seen] = -np.inf
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(scores, part, 1)
        ranked = np.take_along_axis(part, np.argsort(-part_scores, axis=1, kind="stable"), 1)
        ranked[~np.isfinite(np.take_along_axis(scores, ranked, 1))] = -1
        out[lo: lo + len(chunk), :kk] = ranked
    return out


def evaluated_users(test: Ratings, threshold: float = 4.0) -> np.ndarray:
    """The users with at least one relevant test item, sorted."""
    return np.unique(test.users[test.values >= threshold])


def evaluate_top_k(model: Recommender, train: Ratings, test: Ratings, k: int = 10,
                   threshold: float = 4.0) -> TopKResult:
    """Top-k metrics for every user with at least one relevant test item (users the model does
    not know get its fallback ranking, as they would in use)."""
    relevant_rows = test.values >= threshold
    users = evaluated_users(test, threshold)
    if users.size == 0:
        raise ConfigError(f"no test user has a rating >= {threshold}; cannot score top-{k}")
    rel_users, rel_items = test.users[relevant_rows], test.items[relevant_rows]
    order = np.argsort(rel_users, kind="stable")
    bounds = np.searchsorted(rel_users[order], np.r_[users, users[-1] + 1])
    relevant = [rel_items[order[bounds[j]: bounds[j + 1]]] for j in range(users.size)]
    return ranking_metrics(top_k_lists(model, train, users, k), relevant, train.n_items, k)


def row_groups(model: Recommender, test: Ratings) -> dict[str, np.ndarray]:
    """Masks over the test rows: warm, new user (whatever the movie), new movie of a known user."""
    known_user, known_item = model.known_users(test.users), model.known_items(test.items)
    return {"warm": known_user & known_item, "new_user": ~known_user, "new_item": known_user & ~known_item}


def evaluate(model: Recommender, train: Ratings, test: Ratings, k: int = 10,
             threshold: float = 4.0, item_genres: list[set[str]] | None = None) -> dict[str, float]:
    """One row of metrics: RMSE and MAE (NaN for ranking-trained models), top-k metrics, the
    same by row group (see the module notes), what the lists do beyond accuracy
    (`recsys.evaluation.beyond_accuracy`; diversity needs `item_genres`), and predict seconds."""
    started = time.perf_counter()
    row: dict[str, float] = {"rmse": float("nan"), "mae": float("nan")}
    groups = row_groups(model, test)
    predicted = model.predict(test.users, test.items, test.timestamps) if model.predicts_ratings else None
    if predicted is not None:
        row["rmse"], row["mae"] = rmse(predicted, test.values), mae(predicted, test.values)
    for group, mask in groups.items():
        row[f"n_{group}"] = int(mask.sum())
        row[f"rmse_{group}"] = rmse(predicted[mask], test.values[mask]) \
            if predicted is not None and mask.any() else float("nan")
    top = evaluate_top_k(model, train, test, k, threshold)
    row.update(precision=top.precision, recall=top.recall, ndcg=top.ndcg, hit_rate=top.hit_rate,
               map=top.map)
    row.update(beyond_accuracy(top.lists, train, item_genres))
    known = model.known_users(evaluated_users(test, threshold))
    row["users_warm"], row["users_new"] = int(known.sum()), int((~known).sum())
    row["ndcg_warm"] = float(top.per_user_ndcg[known].mean()) if known.any() else float("nan")
    row["ndcg_new_user"] = float(top.per_user_ndcg[~known].mean()) if (~known).any() else float("nan")
    row["predict_seconds"] = time.perf_counter() - started
    return row


def summarise_folds(frame: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Mean and standard deviation of each metric over folds, one row per `by` value."""
    numeric = [c for c in frame.columns if c not in (by, "split", "fold") and pd.api.types.is_numeric_dtype(frame[c])]
    grouped = frame.groupby(by, sort=False)[numeric]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    out = mean.copy()
    for column in numeric:
        out[f"{column}_std"] = std[column]
    out["folds"] = frame.groupby(by, sort=False).size()
    return out.reset_index()
