"""Compare models on one split with confidence: each model's test results reduced once to
per-user numbers (`score`), then intervals and paired tests (`recsys.evaluation.confidence`), where the
models differ (`segments`, `user_versus`) and what their top-10s do beyond accuracy.
The Compare page, `python -m recsys compare` and the bench all call `comparison`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, Ratings
from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.evaluation import confidence, glossary
from recsys.evaluation.beyond_accuracy import BEYOND_COLUMNS, beyond_accuracy, factor_diversity
from recsys.evaluation.evaluate import evaluated_users, ranking_metrics, row_groups, top_k_lists
from recsys.evaluation.demographics import user_groups
from recsys.evaluation.fairness import FAIRNESS_COLUMNS, RESAMPLES, fairness
from recsys.models.base import Recommender

TOPK_METRICS = ("ndcg", "precision", "recall")
INTERVAL_METRICS = ("rmse", "mae", *TOPK_METRICS)
PAIR_METRICS = ("rmse", "ndcg")
#: users by how many training ratings they have (inclusive upper bounds)
ACTIVITY_BINS = (20, 50, 150)


@dataclass(frozen=True)
class Scored:
    """One model's results on a split's test part: per-user sums, the per-row errors, its lists."""

    sums: confidence.UserSums
    rows: pd.DataFrame  # user, item, error (predicted - actual), group; empty for ranking-only models
    lists: np.ndarray  # the top-k of each ranked user (sums.ranked_users), -1 padded
    factor_items: np.ndarray | None
    relevant: tuple[np.ndarray, ...] = ()  # each ranked user's relevant test movies


def score(label: str, model: Recommender, train: Ratings, test: Ratings, k: int = 10,
          threshold: float = 4.0) -> Scored:
    """Reduce a fitted model's test results to per-user numbers (see `confidence.UserSums`)."""
    rating_users, inverse = np.unique(test.users, return_inverse=True)
    rows = pd.DataFrame(columns=["user", "item", "error", "group"])
    n = sse = sae = None
    if model.predicts_ratings:
        error = model.predict(test.users, test.items, test.timestamps) - test.values
        n = np.bincount(inverse, minlength=rating_users.size).astype(np.float64)
        sse = np.bincount(inverse, error ** 2, minlength=rating_users.size)
        sae = np.bincount(inverse, np.abs(error), minlength=rating_users.size)
        group = np.full(len(test), "warm", dtype=object)
        for name, mask in row_groups(model, test).items():
            group[mask] = name
        rows = pd.DataFrame({"user": test.users, "item": test.items, "error": error, "group": group})
    ranked = evaluated_users(test, threshold) if model.ranks else np.zeros(0, dtype=np.int64)
    relevant_rows = test.values >= threshold
    rel_users, rel_items = test.users[relevant_rows], test.items[relevant_rows]
    order = np.argsort(rel_users, kind="stable")
    bounds = np.searchsorted(rel_users[order], np.r_[ranked, ranked[-1] + 1]) if ranked.size else np.zeros(1, int)
    relevant = [rel_items[order[bounds[j]: bounds[j + 1]]] for j in range(ranked.size)]
    lists = top_k_lists(model, train, ranked, k) if ranked.size else np.zeros((0, k), dtype=np.int64)
    topk = ranking_metrics(lists, relevant, train.n_items, k).per_user if ranked.size else {}
    factors = model.factors()
    sums = confidence.UserSums(label, rating_users, n, sse, sae, ranked, {m: topk[m] for m in TOPK_METRICS if m in topk})
    return Scored(sums, rows, lists, None if factors is None else factors.items, tuple(relevant))


@dataclass(frozen=True)
class Comparison:
    """Everything the Compare page, the CLI and the bench show for models on one split."""

    models: pd.DataFrame  # one row per model: metrics with _low/_high, and beyond-accuracy columns
    pairs: pd.DataFrame  # a, b, metric, diff, low, high, p, p_holm
    segments: pd.DataFrame  # model, kind, segment, n, rmse, ndcg
    scored: dict[str, Scored]


def comparison(dataset: Dataset, split: Split, models: dict[str, Recommender], k: int = 10,
               resamples: int = confidence.RESAMPLES, seed: int = 0) -> Comparison:
    """Score every model on the split's test part and compare them: intervals, pairs, segments
    and beyond-accuracy measures. The models must have been fitted on this split's training part."""
    if not split.has_test:
        raise ConfigError("the full split has no test part: compare models on another split")
    if not models:
        raise ConfigError("choose at least one model to compare")
    train, test = split.apply(dataset)
    scored = {label: score(label, model, train, test, k) for label, model in models.items()}
    sums = [s.sums for s in scored.values()]
    reps = confidence.replicates(sums, INTERVAL_METRICS, resamples, seed)
    table = confidence.intervals(sums, INTERVAL_METRICS, resamples, seed, reps=reps)
    genres = [set(g) for g in dataset.items["genres"]]
    genre_lists = list(dataset.items["genres"])
    nothing = {column: np.nan for column in BEYOND_COLUMNS}  # a model without lists (an outside predictions file)
    beyond = pd.DataFrame([{"model": label, **(beyond_accuracy(s.lists, train, genres) if len(s.lists) else nothing),
                            "factor_diversity": factor_diversity(s.lists, s.factor_items)
                            if s.factor_items is not None else np.nan,
                            **fairness(s.sums.ranked_users, s.lists, list(s.relevant), train, genre_lists,
                                       min(resamples, RESAMPLES), seed)}
                           for label, s in scored.items()])
    return Comparison(table.merge(beyond, on="model"), confidence.pairs(sums, PAIR_METRICS, resamples, seed, reps=reps),
                      segments(scored, train, dataset), scored)


#: user activity bins by training ratings, least active first
ACTIVITY_NAMES = [f"{lo + 1}-{hi}" for lo, hi in zip((0, *ACTIVITY_BINS[:-1]), ACTIVITY_BINS)] + [f"> {ACTIVITY_BINS[-1]}"]


def _activity_labels(counts: np.ndarray) -> np.ndarray:
    return np.array(ACTIVITY_NAMES, dtype=object)[np.searchsorted(np.array(ACTIVITY_BINS), counts, side="left")]


#: movie popularity quarters by training ratings, least rated first
POPULARITY_NAMES = ["least rated quarter", "second quarter", "third quarter", "most rated quarter"]
#: the row groups as the segments name them
GROUP_NAMES = {"warm": "warm (user and movie known)", "new_user": "new users", "new_item": "new movies"}
#: bootstrap resamples of a segment's interval (each segment is small; the page draws dozens)
SEGMENT_RESAMPLES = 500


def _rmse_interval(users: np.ndarray, errors: np.ndarray, seed: int) -> tuple[float, float, float]:
    """A segment's RMSE with its bootstrap interval over the users who have rows in it."""
    ids, inverse = np.unique(users, return_inverse=True)
    n = np.bincount(inverse, minlength=ids.size).astype(np.float64)
    sse = np.bincount(inverse, errors ** 2, minlength=ids.size)
    sums = confidence.UserSums("segment", ids, n, sse, sse, np.zeros(0, int), {})
    row = confidence.intervals([sums], ("rmse",), SEGMENT_RESAMPLES, seed).iloc[0]
    return float(row["rmse"]), float(row["rmse_low"]), float(row["rmse_high"])


def _ndcg_interval(values: np.ndarray, seed: int) -> tuple[float, float, float]:
    sums = confidence.UserSums("segment", np.zeros(0, int), None, None, None, np.arange(values.size), {"ndcg": values})
    row = confidence.intervals([sums], ("ndcg",), SEGMENT_RESAMPLES, seed).iloc[0]
    return float(row["ndcg"]), float(row["ndcg_low"]), float(row["ndcg_high"])


def segments(scored: dict[str, Scored], train: Ratings, dataset: Dataset, seed: int = 0) -> pd.DataFrame:
    """RMSE and NDCG@10 by segment for each model, each with a bootstrap interval over the
    segment's users: users by training activity and, where the dataset has them, by age band,
    gender and occupation (RMSE and NDCG), movies by popularity quartile of training counts,
    primary genre (the first listed) and row group (RMSE: NDCG is a number per user)."""
    user_counts = np.bincount(train.users, minlength=train.n_users)
    item_counts = np.bincount(train.items, minlength=train.n_items)
    quartile_edges = np.quantile(item_counts[item_counts > 0], [0.25, 0.5, 0.75]) if (item_counts > 0).any() \
        else np.zeros(3)
    quartiles = np.array(POPULARITY_NAMES, dtype=object)
    primary = np.array([g[0] if len(g) else "(no genre)" for g in dataset.items["genres"]], dtype=object)
    people = user_groups(dataset)  # age, gender, occupation where the dataset has them
    out: dict[tuple[str, str, str], dict] = {}

    def entry(label: str, kind: str, segment: str) -> dict:
        return out.setdefault((label, kind, segment), {"model": label, "kind": kind, "segment": segment, "n": 0,
                                                       "users": 0, "rmse": np.nan, "ndcg": np.nan})

    for label, s in scored.items():
        if len(s.rows):
            rows = s.rows.assign(activity=pd.Categorical(_activity_labels(user_counts[s.rows["user"].to_numpy()]),
                                                         ACTIVITY_NAMES, ordered=True),
                                 popularity=pd.Categorical(quartiles[np.searchsorted(
                                     quartile_edges, item_counts[s.rows["item"]], side="left")], quartiles, ordered=True),
                                 genre=primary[s.rows["item"].to_numpy()],
                                 group=pd.Categorical(s.rows["group"].map(GROUP_NAMES), list(GROUP_NAMES.values()),
                                                      ordered=True),
                                 **{kind: labels[s.rows["user"].to_numpy()] for kind, labels in people.items()})
            for kind, column in (("user activity", "activity"), ("movie popularity", "popularity"),
                                 ("primary genre", "genre"), ("row group", "group"), *((k, k) for k in people)):
                for segment, part in rows.groupby(column, observed=True):  # in their natural order
                    row = entry(label, kind, segment)
                    row["n"] = len(part)
                    row["rmse"], row["rmse_low"], row["rmse_high"] = _rmse_interval(
                        part["user"].to_numpy(), part["error"].to_numpy(dtype=float), seed)
        if s.sums.ranked_users.size and "ndcg" in s.sums.topk:
            ranked = s.sums.ranked_users
            by_kind = {"user activity": pd.Categorical(_activity_labels(user_counts[ranked]), ACTIVITY_NAMES,
                                                       ordered=True),
                       **{kind: labels[ranked] for kind, labels in people.items()}}
            for kind, labels in by_kind.items():
                for segment in [name for name in labels.categories if (labels == name).any()]:
                    mask = np.asarray(labels == segment)
                    row = entry(label, kind, segment)
                    row["users"] = int(mask.sum())
                    row["ndcg"], row["ndcg_low"], row["ndcg_high"] = _ndcg_interval(s.sums.topk["ndcg"][mask], seed)
    return pd.DataFrame(list(out.values()), columns=["model", "kind", "segment", "n", "users", "rmse", "rmse_low",
                                                     "rmse_high", "ndcg", "ndcg_low", "ndcg_high"])


def user_versus(a: Scored, b: Scored, user_ids: np.ndarray) -> pd.DataFrame:
    """Each test user's RMSE under model a and model b (both must predict ratings): whom b helps
    (rmse_b < rmse_a) and whom it hurts; `user` is the dataset's own id."""
    if a.sums.n is None or b.sums.n is None:
        raise ConfigError("both models must predict ratings to compare their errors user by user")
    rmse_a = np.sqrt(a.sums.sse / a.sums.n)
    rmse_b = np.sqrt(b.sums.sse / b.sums.n)
    return pd.DataFrame({"user": user_ids[a.sums.rating_users], "ratings": a.sums.n.astype(int),
                         "rmse_a": rmse_a, "rmse_b": rmse_b, "change": rmse_b - rmse_a})


#: the model table's columns in the order the CLI prints and writes them
MODEL_COLUMNS = ["model", *[c for m in INTERVAL_METRICS for c in (m, f"{m}_low", f"{m}_high")], *BEYOND_COLUMNS,
                 "factor_diversity", *[c for m in FAIRNESS_COLUMNS for c in (m, f"{m}_low", f"{m}_high")]]


def fold_table(frame: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Over folds: each metric's mean with its t-interval (`_low`, `_high`) and standard deviation
    (`_std`), one row per model, the number of folds in `folds`."""
    from recsys.evaluation.evaluate import summarise_folds

    table = summarise_folds(frame, by)
    for metric in [c for c in table.columns if f"{c}_std" in table.columns]:
        bounds = {label: (None, *glossary.clipped(metric, *confidence.fold_interval(part[metric].to_numpy())[1:]))
                  for label, part in frame.groupby(by, sort=False)}
        table[f"{metric}_low"] = table[by].map(lambda label: bounds[label][1])
        table[f"{metric}_high"] = table[by].map(lambda label: bounds[label][2])
    return table
