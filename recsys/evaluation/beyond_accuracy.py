"""What top-k lists do beyond accuracy: how much of the catalogue they use, how evenly, how
popular, novel and varied the recommended movies are, and how personal the lists are.

Every function takes the lists as a (users x k) array of item indices (-1 pads a short list) and
the training part's popularity where it needs it; each returns one number for the whole set of
lists. References: Adomavicius & Kwon 2012 (coverage, Gini of exposure); Abdollahpouri et al.
2019 (ARP, APLT); Zhou et al. 2010 (novelty as self-information, personalisation); Ziegler et
al. 2005 (intra-list diversity); the definitions follow RecBole's and Elliot's.
"""
from __future__ import annotations

import numpy as np

from recsys.data.dataset import Ratings

BEYOND_COLUMNS = ["coverage", "gini", "arp", "aplt", "novelty", "diversity", "personalisation"]
#: the most popular movies that make up this share of training interactions are the "head"
HEAD_SHARE = 0.8
#: personalisation compares every pair of at most this many users' lists (a seeded sample beyond)
PAIR_USERS = 2000


def _shown(top: np.ndarray) -> np.ndarray:
    return top[top >= 0]


def popularity(train: Ratings) -> np.ndarray:
    """Training interactions per item (the popularity the other measures use)."""
    return np.bincount(train.items, minlength=train.n_items).astype(np.float64)


def coverage(top: np.ndarray, n_items: int) -> float:
    """Catalogue coverage: distinct recommended items / items in the catalogue."""
    return np.unique(_shown(top)).size / n_items


def gini(top: np.ndarray, n_items: int) -> float:
    """Gini index of exposure over the whole catalogue: with x the times each item is
    recommended, sorted ascending, G = sum_i (2i - n - 1) x_i / (n sum_i x_i), i = 1..n.
    0: every item recommended equally often; near 1: a few items get every slot."""
    exposure = np.sort(np.bincount(_shown(top), minlength=n_items).astype(np.float64))
    n, total = exposure.size, exposure.sum()
    if total == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * exposure).sum() / (n * total))


def arp(top: np.ndarray, pop: np.ndarray) -> float:
    """Average recommended popularity: mean over users of the mean training count of the items
    in their list."""
    per_user = [pop[row[row >= 0]].mean() for row in top if (row >= 0).any()]
    return float(np.mean(per_user)) if per_user else float("nan")


def head_items(pop: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """The most popular items that together hold `share` of the training interactions."""
    order = np.argsort(-pop, kind="stable")
    cumulative = np.cumsum(pop[order]) / max(pop.sum(), 1.0)
    return order[: int(np.searchsorted(cumulative, share) + 1)]


def aplt(top: np.ndarray, pop: np.ndarray) -> float:
    """Average percentage of long tail: mean over users of the share of their list outside the
    head (`head_items`)."""
    tail = np.ones(pop.size, dtype=bool)
    tail[head_items(pop)] = False
    per_user = [tail[row[row >= 0]].mean() for row in top if (row >= 0).any()]
    return float(np.mean(per_user)) if per_user else float("nan")


def novelty(top: np.ndarray, item_users: np.ndarray, n_users: int) -> float:
    """Mean self-information of the recommended items: -log2(share of training users who rated
    the item), averaged over every slot (an item nobody rated counts as rated by one user)."""
    shown = _shown(top)
    if shown.size == 0:
        return float("nan")
    share = np.maximum(item_users[shown], 1.0) / max(n_users, 1)
    return float(np.mean(-np.log2(share)))


def diversity(top: np.ndarray, item_genres: list[set[str]]) -> float:
    """Intra-list diversity by genre: 1 - mean pairwise Jaccard similarity of the items' genre
    sets within each list, averaged over lists (NaN without genres)."""
    if not any(item_genres):
        return float("nan")
    per_list = []
    for row in top:
        items = row[row >= 0]
        if items.size < 2:
            continue
        sims = []
        for i in range(items.size):
            for j in range(i + 1, items.size):
                a, b = item_genres[items[i]], item_genres[items[j]]
                union = len(a | b)
                sims.append(len(a & b) / union if union else 1.0)
        per_list.append(1.0 - float(np.mean(sims)))
    return float(np.mean(per_list)) if per_list else float("nan")


def factor_diversity(top: np.ndarray, item_factors: np.ndarray) -> float:
    """Intra-list diversity in the model's own space: 1 - mean pairwise cosine of the items'
    factor vectors within each list, averaged over lists."""
    norms = np.linalg.norm(item_factors, axis=1, keepdims=True)
    unit = item_factors / np.where(norms == 0, 1.0, norms)
    per_list = []
    for row in top:
        items = row[row >= 0]
        if items.size < 2:
            continue
        cos = unit[items] @ unit[items].T
        per_list.append(1.0 - float(cos[np.triu_indices(items.size, 1)].mean()))
    return float(np.mean(per_list)) if per_list else float("nan")


def personalisation(top: np.ndarray, seed: int = 0) -> float:
    """1 - mean overlap of two users' lists (|A ∩ B| / k) over every pair of users (a seeded
    sample of `PAIR_USERS` users on big sets): 0 when everyone gets the same list."""
    rows = top[(top >= 0).any(axis=1)]
    if rows.shape[0] < 2:
        return float("nan")
    if rows.shape[0] > PAIR_USERS:
        rows = rows[np.random.default_rng(seed).choice(rows.shape[0], PAIR_USERS, replace=False)]
    k = rows.shape[1]
    from scipy import sparse

    r, c = np.nonzero(rows >= 0)
    matrix = sparse.csr_matrix((np.ones(r.size), (r, rows[r, c])), shape=(rows.shape[0], int(rows.max()) + 1))
    overlap = (matrix @ matrix.T).toarray() / k
    n = rows.shape[0]
    mean_overlap = (overlap.sum() - np.trace(overlap)) / (n * (n - 1))
    return float(1.0 - mean_overlap)


def beyond_accuracy(top: np.ndarray, train: Ratings, item_genres: list[set[str]] | None = None) -> dict[str, float]:
    """Every measure above for one set of lists, by the names `evaluate` reports them under."""
    pop = popularity(train)
    item_users = np.bincount(np.unique(np.c_[train.users, train.items], axis=0)[:, 1],
                             minlength=train.n_items).astype(np.float64) if len(train) else pop
    return {"coverage": coverage(top, train.n_items), "gini": gini(top, train.n_items), "arp": arp(top, pop),
            "aplt": aplt(top, pop), "novelty": novelty(top, item_users, train.n_users),
            "diversity": diversity(top, item_genres) if item_genres is not None else float("nan"),
            "personalisation": personalisation(top)}
