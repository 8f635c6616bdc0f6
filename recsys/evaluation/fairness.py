"""Whom the top-k lists serve: popularity bias between popular and long-tail movies (PopRSP,
PopREO) and how well each user's list reflects the mix of genres they watch (miscalibration),
each with a bootstrap interval over users.

- **Groups of movies.** Popular: the most-rated movies that together hold 80% of the training
  ratings (the head APLT uses, `beyond_accuracy.head_items`); long tail: every other movie.
- **PopRSP** (ranking-based statistical parity, Zhu et al. 2021, as in Elliot): for each group,
  the times its movies are recommended divided by the number of movies in the group; the score
  is the two values' standard deviation over their mean (0: both groups recommended at the same
  rate per movie; 1: only one group ever is).
- **PopREO** (ranking-based equal opportunity): for each group, the share of the users' relevant
  test movies (rated 4+) in that group that made their lists; again std over mean (0: a liked
  long-tail movie is as likely to be recommended as a liked popular one).
- **Miscalibration** (Steck 2018): p(g|u), the genre mix of the user's training movies (a movie's
  weight split evenly over its genres), against q(g|u), that of their top-k; the score is
  KL(p || q~) with q~ = (1 - 0.01) q + 0.01 p so it stays finite; 0: the list has exactly their
  mix.

Intervals: a Poisson bootstrap over users (1,000 replicates, seeded), each replicate recomputing
the score from the users' resampled sums, as the other intervals here resample users.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.data.dataset import Ratings
from recsys.evaluation.beyond_accuracy import head_items, popularity

FAIRNESS_COLUMNS = ["poprsp", "popreo", "miscalibration"]
CALIBRATION_MIX = 0.01
RESAMPLES = 1000
CHUNK = 50  # replicates drawn at once


def relative_spread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """std / mean of two values (population std): |a - b| / (a + b); NaN when both are 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(a - b) / (a + b)


def head_mask(train: Ratings) -> np.ndarray:
    """True for the popular movies (the head), False for the long tail."""
    head = np.zeros(train.n_items, dtype=bool)
    head[head_items(popularity(train))] = True
    return head


def rsp_parts(lists: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Per user: how many of their list's movies are popular and how many long-tail."""
    shown = lists >= 0
    popular = (head[np.where(shown, lists, 0)] & shown).sum(axis=1)
    return np.c_[popular, shown.sum(axis=1) - popular].astype(np.float64)


def poprsp_from(sums: np.ndarray, head: np.ndarray) -> np.ndarray:
    """PopRSP from (popular, long-tail) recommendation counts summed over users (rows: replicates)."""
    sums = np.atleast_2d(sums)
    return relative_spread(sums[:, 0] / max(head.sum(), 1), sums[:, 1] / max((~head).sum(), 1))


def reo_parts(lists: np.ndarray, relevant: list[np.ndarray], head: np.ndarray) -> np.ndarray:
    """Per user: relevant test movies recommended (popular, long-tail) and relevant test movies
    (popular, long-tail)."""
    out = np.zeros((len(relevant), 4))
    for row, (listed, liked) in enumerate(zip(lists, relevant)):
        hits = np.intersect1d(listed[listed >= 0], liked)
        out[row] = (head[hits].sum(), (~head[hits]).sum(), head[liked].sum(), (~head[liked]).sum())
    return out


def popreo_from(sums: np.ndarray) -> np.ndarray:
    """PopREO from (hits popular, hits long-tail, relevant popular, relevant long-tail) sums."""
    sums = np.atleast_2d(sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        return relative_spread(sums[:, 0] / sums[:, 2], sums[:, 1] / sums[:, 3])


def genre_shares(item_genres: list, genres: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Items x genres: each movie's weight split evenly over its genres (a row of zeros without)."""
    names = genres if genres is not None else sorted({g for gs in item_genres for g in gs})
    column = {g: n for n, g in enumerate(names)}
    out = np.zeros((len(item_genres), len(names)))
    for item, gs in enumerate(item_genres):
        known = [column[g] for g in gs if g in column]
        if known:
            out[item, known] = 1.0 / len(known)
    return out, names


def genre_mixes(users: np.ndarray, lists: np.ndarray, train: Ratings, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(g|u) over each user's training movies and q(g|u) over their list, one row per user."""
    history = sparse.csr_matrix((np.ones(len(train)), (train.users, train.items)), shape=(train.n_users, train.n_items))
    p = np.asarray(history[users] @ shares)
    shown = lists >= 0
    q = np.zeros((len(users), shares.shape[1]))
    rows, cols = np.nonzero(shown)
    np.add.at(q, rows, shares[lists[rows, cols]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)


def miscalibration(p: np.ndarray, q: np.ndarray, mix: float = CALIBRATION_MIX) -> np.ndarray:
    """Per user: KL(p || (1 - mix) q + mix p), NaN where either mix is undefined (no genres)."""
    blended = (1 - mix) * q + mix * p
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(p > 0, p * np.log(p / blended), 0.0)
    out = terms.sum(axis=1)
    out[~(np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1))] = np.nan
    return out


def bootstrap(parts: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], resamples: int = RESAMPLES,
              seed: int = 0) -> tuple[float, float, float]:
    """The statistic of the users' summed parts and its 95% interval: Poisson(1) weights per user
    and replicate, the statistic recomputed from each replicate's weighted sums."""
    parts = np.asarray(parts, dtype=np.float64)
    value = float(statistic(parts.sum(axis=0))[0])
    if len(parts) < 2:
        return value, float("nan"), float("nan")
    rng, draws = np.random.default_rng(seed), []
    for start in range(0, resamples, CHUNK):
        weights = rng.poisson(1.0, (min(CHUNK, resamples - start), len(parts)))
        draws.append(statistic(weights @ parts))
    values = np.concatenate(draws)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return value, float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return value, float(low), float(high)


def weighted_mean(sums: np.ndarray) -> np.ndarray:
    """A statistic for `bootstrap` over (value, 1) parts: their (weighted) mean."""
    sums = np.atleast_2d(sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[:, 0] / sums[:, 1]


def fairness(users: np.ndarray, lists: np.ndarray, relevant: list[np.ndarray], train: Ratings,
             item_genres: list, resamples: int = RESAMPLES, seed: int = 0) -> dict[str, float]:
    """PopRSP, PopREO and mean miscalibration of one model's lists, each with `_low`/`_high`."""
    if not len(users):
        return {f"{c}{s}": float("nan") for c in FAIRNESS_COLUMNS for s in ("", "_low", "_high")}
    head = head_mask(train)
    out: dict[str, float] = {}
    for name, parts, statistic in (("poprsp", rsp_parts(lists, head), lambda s: poprsp_from(s, head)),
                                   ("popreo", reo_parts(lists, relevant, head), popreo_from)):
        out[name], out[f"{name}_low"], out[f"{name}_high"] = bootstrap(parts, statistic, resamples, seed)
    shares, _ = genre_shares(item_genres)
    per_user = miscalibration(*genre_mixes(users, lists, train, shares))
    kept = per_user[np.isfinite(per_user)]
    if kept.size:
        parts = np.c_[kept, np.ones(kept.size)]
        out["miscalibration"], out["miscalibration_low"], out["miscalibration_high"] = bootstrap(
            parts, weighted_mean, resamples, seed)
    else:
        out.update(miscalibration=float("nan"), miscalibration_low=float("nan"), miscalibration_high=float("nan"))
    return out


def user_genre_mix(user: int, lists_row: np.ndarray, train: Ratings, item_genres: list) -> pd.DataFrame:
    """One user's two genre mixes side by side (genre, watched, recommended), for the page's figure."""
    shares, names = genre_shares(item_genres)
    p, q = genre_mixes(np.array([user]), lists_row[None, :], train, shares)
    frame = pd.DataFrame({"genre": names, "watched": p[0], "recommended": q[0]})
    return frame[(frame["watched"] > 0) | (frame["recommended"] > 0)].reset_index(drop=True)
