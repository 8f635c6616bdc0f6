"""How sure a number is: bootstrap intervals over test users, paired differences between models
scored on the same users, paired tests with Holm's correction, and t-intervals over folds.

Resampling is over users, never over rating rows: each model's test part is reduced once to
per-user sums (ratings, squared and absolute errors; per-user top-k metrics), and a resample is
a vector of counts over users, so one resample costs a dot product per metric. The same counts
serve every model, which makes the differences paired; the paired test swaps users' results
between two models (a permutation test on the metric itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from recsys.errors import ConfigError

#: resamples of an interval (at least 1,000, as the literature asks of a 95% percentile interval)
RESAMPLES = 1000
LEVEL = 0.95
#: swaps of a permutation test where users are few (they cost little, and Holm multiplies the
#: smallest possible p, 1 / (1 + swaps), by the number of pairs)
SMALL_SET_SWAPS, SMALL_SET_USERS = 10_000, 20_000
#: resamples drawn at once: (chunk x users) counts stay within a few tens of MB at 160k users
CHUNK = 64


@dataclass(frozen=True)
class UserSums:
    """One model's test results reduced to per-user numbers, aligned on the same sorted users.

    - `n`, `sse`, `sae`: test ratings, squared and absolute errors per rating user (None for a
      model that does not predict ratings);
    - `topk`: per-user top-k metrics (e.g. ndcg, precision, recall), over the ranked users."""

    label: str
    rating_users: np.ndarray
    n: np.ndarray | None
    sse: np.ndarray | None
    sae: np.ndarray | None
    ranked_users: np.ndarray
    topk: dict[str, np.ndarray]


def resample_counts(n_users: int, resamples: int = RESAMPLES, seed: int = 0,
                    chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """Bootstrap resamples of `n_users` users as (chunk x n_users) count matrices (each row sums
    to n_users), seeded, in chunks so memory stays bounded however many users there are."""
    if n_users < 1:
        raise ConfigError("a bootstrap needs at least one user")
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        draws = rng.integers(0, n_users, (size, n_users))
        yield np.stack([np.bincount(row, minlength=n_users) for row in draws]).astype(np.float32)


def has(metric: str, sums: UserSums) -> bool:
    """Whether the model has this metric (RMSE and MAE only for models that predict ratings)."""
    return sums.n is not None if metric in ("rmse", "mae") else metric in sums.topk


def _on(metric: str, counts: np.ndarray, sums: UserSums) -> np.ndarray:
    """The metric under each row of user counts (a row of ones: the metric itself); the per-user
    sums take the counts' precision (float32 resamples: half the memory traffic, ample precision
    for a percentile)."""
    def weigh(values: np.ndarray) -> np.ndarray:
        return (counts @ values.astype(counts.dtype, copy=False)).astype(np.float64)

    if metric in ("rmse", "mae"):
        errors = weigh(sums.sse if metric == "rmse" else sums.sae) / weigh(sums.n)
        return np.sqrt(errors) if metric == "rmse" else errors
    values = sums.topk[metric]
    return weigh(values) / values.size


def _value(metric: str, sums: UserSums) -> float:
    users = sums.rating_users if metric in ("rmse", "mae") else sums.ranked_users
    return float(_on(metric, np.ones((1, users.size)), sums)[0])


def replicates(models: list[UserSums], metrics: tuple[str, ...], resamples: int = RESAMPLES,
               seed: int = 0) -> dict[tuple[str, str], np.ndarray]:
    """Every model's metrics on the same bootstrap resamples of the test users, drawn once:
    {(model, metric): one value per resample}. Rating metrics resample the rating users, top-k
    metrics the ranked users; every model sees the same resamples, so differences are paired."""
    rating, ranking = [m for m in models if m.n is not None], [m for m in models if m.topk]
    for group, users_of in ((rating, lambda m: m.rating_users), (ranking, lambda m: m.ranked_users)):
        for other in group[1:]:  # each metric pairs only the models that have it, on the same users
            if not np.array_equal(users_of(other), users_of(group[0])):
                raise ConfigError(f"{group[0].label} and {other.label} were not scored on the same users; "
                                  "compare models on one split")
    out: dict[tuple[str, str], list[np.ndarray]] = {}
    for kind, group in (("rating", rating), ("topk", ranking)):
        if not group:
            continue
        users = group[0].rating_users if kind == "rating" else group[0].ranked_users
        wanted = [(m, s) for m in metrics for s in group
                  if has(m, s) and (m in ("rmse", "mae")) == (kind == "rating")]
        if not wanted or users.size == 0:
            continue
        for counts in resample_counts(users.size, resamples, seed):
            for metric, sums in wanted:
                out.setdefault((sums.label, metric), []).append(_on(metric, counts, sums))
    return {key: np.concatenate(parts) for key, parts in out.items()}


def _bounds(reps: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(reps, [tail, 100 - tail])
    return float(low), float(high)


def intervals(models: list[UserSums], metrics: tuple[str, ...] = ("rmse", "mae", "ndcg", "precision", "recall"),
              resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL,
              reps: dict | None = None) -> pd.DataFrame:
    """One row per model: each metric and its percentile bootstrap interval over test users
    (`_low`, `_high`; NaN where the metric does not apply)."""
    reps = reps if reps is not None else replicates(models, metrics, resamples, seed)
    rows = []
    for sums in models:
        row: dict[str, object] = {"model": sums.label}
        for metric in metrics:
            if (sums.label, metric) in reps:
                row[metric] = _value(metric, sums)
                row[f"{metric}_low"], row[f"{metric}_high"] = _bounds(reps[(sums.label, metric)], level)
            else:
                row.update({metric: np.nan, f"{metric}_low": np.nan, f"{metric}_high": np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def sign_flips(n_users: int, resamples: int = RESAMPLES, seed: int = 1,
               chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """Random swaps of two models' results, user by user: (chunk x n_users) matrices of 0/1."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, chunk):
        yield (rng.random((min(chunk, resamples - start), n_users), dtype=np.float32) < 0.5).astype(np.float32)


def _swap_parts(metric: str, a: UserSums, b: UserSums) -> tuple[np.ndarray, np.ndarray, float]:
    """What a permutation swaps per user (a's and b's sums) and the total the metric divides by."""
    if metric in ("rmse", "mae"):
        return ((a.sse, b.sse) if metric == "rmse" else (a.sae, b.sae)) + (float(a.n.sum()),)
    return a.topk[metric], b.topk[metric], float(a.topk[metric].size)


def permutation_pvalues(tests: list[tuple[str, UserSums, UserSums]], resamples: int = RESAMPLES,
                        seed: int = 1) -> list[float]:
    """Two-sided p-values of paired permutation tests on the metric itself, one per (metric, a, b):
    under "no difference" each user's results could belong to either model, so each resample
    swaps a random half of the users' results between a and b and recomputes the difference;
    p = (1 + resamples at least as far from 0 as the observed difference) / (1 + resamples). It
    weighs users as the metric does (RMSE by their ratings, NDCG equally), so it agrees with the
    bootstrap interval. The swaps are drawn once per group of users and shared by the tests; on
    sets of at most `SMALL_SET_USERS` users there are `SMALL_SET_SWAPS` of them."""
    far = [0] * len(tests)
    swaps = {}
    by_users: dict[int, list[int]] = {}
    for i, (metric, a, b) in enumerate(tests):
        by_users.setdefault(_swap_parts(metric, a, b)[0].size, []).append(i)
    for n_users, members in by_users.items():
        parts = [_swap_parts(*tests[i]) for i in members]
        gaps = np.stack([(pb - pa).astype(np.float32) for pa, pb, _ in parts], axis=1)  # users x tests
        swaps[n_users] = max(resamples, SMALL_SET_SWAPS) if n_users <= SMALL_SET_USERS else resamples
        for flips in sign_flips(n_users, swaps[n_users], seed):
            moved = flips @ gaps  # resamples x tests
            for column, i in enumerate(members):
                metric = tests[i][0]
                pa, pb, total = parts[column]
                swapped_a, swapped_b = pa.sum() + moved[:, column], pb.sum() - moved[:, column]
                diff = (np.sqrt(np.maximum(swapped_a, 0) / total) - np.sqrt(np.maximum(swapped_b, 0) / total)
                        if metric == "rmse" else (swapped_a - swapped_b) / total)
                observed = abs(_value(metric, tests[i][1]) - _value(metric, tests[i][2]))
                far[i] += int(np.sum(np.abs(diff) >= observed * (1 - 1e-6)))
    sizes = [_swap_parts(*t)[0].size for t in tests]
    return [1.0 if not np.any(_swap_parts(*t)[0] != _swap_parts(*t)[1]) else (1 + f) / (1 + swaps[n])
            for t, f, n in zip(tests, far, sizes)]


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: the i-th smallest p times (m - i), kept monotone, at most 1."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def pairs(models: list[UserSums], metrics: tuple[str, ...] = ("rmse", "ndcg"), resamples: int = RESAMPLES,
          seed: int = 0, level: float = LEVEL, reps: dict | None = None) -> pd.DataFrame:
    """Every pair of models on every metric both have: a, b, metric, diff (a - b), its paired
    bootstrap interval (low, high), the paired permutation test's p, and p_holm (Holm over all
    the pairs of that metric)."""
    reps = reps if reps is not None else replicates(models, metrics, resamples, seed)
    rows, tests = [], []
    for metric in metrics:
        for i, a in enumerate(models):
            for b in models[i + 1:]:
                if (a.label, metric) in reps and (b.label, metric) in reps:
                    low, high = _bounds(reps[(a.label, metric)] - reps[(b.label, metric)], level)
                    rows.append({"a": a.label, "b": b.label, "metric": metric,
                                 "diff": _value(metric, a) - _value(metric, b), "low": low, "high": high})
                    tests.append((metric, a, b))
    for row, p in zip(rows, permutation_pvalues(tests, resamples, seed + 1)):
        row["p"] = p
    for metric in metrics:
        members = [row for row in rows if row["metric"] == metric]
        for row, p_holm in zip(members, holm(np.array([r["p"] for r in members]))):
            row["p_holm"] = float(p_holm)
    return pd.DataFrame(rows, columns=["a", "b", "metric", "diff", "low", "high", "p", "p_holm"])


#: metrics where a lower number is better
LOWER_IS_BETTER = ("rmse", "mae")


def holds(row: pd.Series | dict, alpha: float = 0.05) -> bool:
    """A difference holds when its paired interval excludes zero and its Holm-adjusted p < alpha."""
    return bool(row["p_holm"] < alpha and (row["low"] > 0 or row["high"] < 0))


def verdict(row: pd.Series | dict, alpha: float = 0.05) -> str:
    """One plain sentence for a pair, e.g. "blend beats recommender-net by 0.0120 RMSE (95%
    interval 0.0090 to 0.0150, p = 0.006 after Holm)", or that the two cannot be told apart."""
    metric, diff = row["metric"], float(row["diff"])
    name = metric.upper() if metric in LOWER_IS_BETTER else f"{metric}@10"
    p = float(row["p_holm"])
    shown_p = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"  # a permutation p is at least 1 / (1 + resamples)
    if not holds(row, alpha):
        return (f"{row['a']} and {row['b']} cannot be told apart on {name}: difference {diff:+.4f} "
                f"(95% interval {row['low']:+.4f} to {row['high']:+.4f}, {shown_p} after Holm)")
    a_better = diff < 0 if metric in LOWER_IS_BETTER else diff > 0
    winner, loser = (row["a"], row["b"]) if a_better else (row["b"], row["a"])
    sign = (-1 if metric in LOWER_IS_BETTER else 1) * (1 if a_better else -1)
    low, high = sorted((sign * float(row["low"]), sign * float(row["high"])))
    return f"{winner} beats {loser} by {sign * diff:.4f} {name} (95% interval {low:.4f} to {high:.4f}, {shown_p} after Holm)"


def fold_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): the mean over folds with a Student t-interval (k - 1 degrees of freedom);
    one fold gives no interval (NaN bounds)."""
    from scipy.stats import t

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (np.nan,) * 3
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    half = float(t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def fold_pairs(frame: pd.DataFrame, metrics: tuple[str, ...] = ("rmse", "ndcg"), level: float = LEVEL) -> pd.DataFrame:
    """Every pair of models over the same folds (`frame`: one row per model and fold, columns
    model, split and the metrics): the mean of the per-fold differences (a - b) with its
    t-interval, the paired t-test's p, and p_holm (Holm over the pairs of each metric); the same
    columns as `pairs`. With k folds the test has k - 1 degrees of freedom: it can only tell
    apart differences that hold on every fold."""
    from scipy.stats import ttest_1samp

    models = list(dict.fromkeys(frame["model"]))
    rows = []
    for metric in metrics:
        if metric not in frame:
            continue
        wide = frame.pivot_table(index="split", columns="model", values=metric, aggfunc="first")
        members = []
        for i, a in enumerate(models):
            for b in models[i + 1:]:
                diffs = (wide[a] - wide[b]).dropna().to_numpy() if a in wide and b in wide else np.array([])
                if diffs.size < 2:
                    continue
                mean, low, high = fold_interval(diffs, level)
                if np.ptp(diffs) <= 1e-12 * max(1.0, abs(mean)):  # the same difference on every fold
                    p = 1.0 if abs(mean) <= 1e-12 else 0.0
                else:
                    p = float(ttest_1samp(diffs, 0.0).pvalue)
                members.append({"a": a, "b": b, "metric": metric, "diff": mean, "low": low, "high": high, "p": p})
        for row, p_holm in zip(members, holm(np.array([r["p"] for r in members]))):
            row["p_holm"] = float(p_holm)
        rows += members
    return pd.DataFrame(rows, columns=["a", "b", "metric", "diff", "low", "high", "p", "p_holm"])
