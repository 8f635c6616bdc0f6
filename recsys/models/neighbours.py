"""Item-based k-nearest neighbours on baseline residuals (the KNNBaseline family).

A rating is the baseline (global mean + user bias + item bias) plus a similarity-weighted average
of the user's residuals on the k items most similar to the target among those the user rated,
damped: sum(sim * r) / (sum(sim) + damping), so that a target with few or weak rated neighbours
leans less on them (one rating no longer moves every neighbour of its movie by its whole residual).
Similarity is the shrunk Pearson-baseline correlation: over the users who rated both items,
    sim(i, j) = sum r_ui r_uj / sqrt(sum r_ui^2 * sum r_uj^2) * (n_ij - 1) / (n_ij - 1 + shrinkage)
with r the residuals from the baseline. Similarities are computed once at fit time from the sparse
residual matrix, in blocks of target items (memory stays at one block, not items x items), and
each movie keeps its `candidates` most similar movies as a sparse neighbour list. Scoring a user
slices those lists to the movies the user rated and keeps the k best per target: exactly the
definition above whenever the user rated at least k of the target's candidates (with candidates
>= the number of movies it is always exact), and fast: no similarity is recomputed per request.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recsys.budget import Cost, Shape, rows_cost
from recsys.errors import ConfigError
from recsys.models import sizing
from recsys.models.base import Recommender
from recsys.models.baselines import BiasConfig, new_user_bias
from recsys.models.config import ModelConfig
from recsys.models.fallback import fit_biases
from recsys.models.fold_in import liked_for_fold_in
from recsys.models.knn_walk import pair_terms, pearson_block, user_terms
from recsys.models.loop import History
from recsys.models.outputs import RankingOnly
from recsys.models.params import hyper

BLOCK = 256  # target items per similarity block
SCORING_THREADS = min(4, os.cpu_count() or 1)  # users scored at once (numba walks, GIL released)
DENSE_TERMS_CELLS = 10_000_000  # users x movies up to which `prepare_scoring` keeps every user's terms


@dataclass(frozen=True)
class ItemKNNConfig(BiasConfig):
    """The baseline's settings (as Surprise's KNNBaseline: ALS with 15/10) plus the neighbourhood's."""

    reg_user: float = 15.0
    reg_item: float = 10.0
    iterations: int = 10
    k: int = hyper(40, "int", "Neighbours", "similar rated movies that vote on a prediction", low=1, high=10_000,
                   search=(10, 200), log=True, page=True, page_range=(1, 200))
    shrinkage: float = hyper(100.0, "float", "Shrinkage", "pull of a similarity towards zero when few users share it",
                             low=0.0, high=1e6, search=(0.0, 300.0))
    damping: float = hyper(0.25, "float", "Damping", "added to the neighbours' summed similarity: a movie with few "
                           "or weak rated neighbours leans less on them (someone with one rating is not moved by its "
                           "whole residual)", low=0.0, high=1e3, search=(0.0, 5.0))
    candidates: int = hyper(1000, "int", "Candidates", "neighbours kept per movie before the top k", low=1,
                            high=1_000_000)
    max_items: int = hyper(100_000, "int", "Largest catalogue", "movies it agrees to compare", low=1, high=10_000_000)

    def validate(self) -> None:
        super().validate()
        if self.candidates < self.k:
            raise ConfigError(f"candidates ({self.candidates}) must be at least k ({self.k})")


class ItemKNN(Recommender):
    """Baseline + item-item neighbourhood on residuals; uses all training data (no epochs)."""

    name = "item-knn"
    seconds_per_100k = 3
    config_type = ItemKNNConfig

    @classmethod
    def estimate(cls, config: ItemKNNConfig, shape: Shape) -> Cost:
        entries = shape.n_items * min(config.candidates, max(shape.n_items - 1, 1))
        block = 256 * shape.n_items * 8 * 4  # one block of targets x all movies, four float64 matrices
        return Cost(entries, entries * 8 * 2 + block + rows_cost(shape) * 2,
                    f"up to {config.candidates:,} neighbours for each of {shape.n_items:,} movies")
    description = "baseline + k most similar rated items (shrunk Pearson-baseline similarity), like KNNBaseline"

    def _fit(self, train, valid, callbacks, stop) -> History:
        known = train.concat(valid) if valid is not None else train
        if known.n_items > self.config.max_items:
            raise ConfigError(f"item-knn is limited to {self.config.max_items:,} items; this data has "
                              f"{known.n_items:,} (raise max_items, or use a factor model)")
        cfg = self.config
        self._baseline = fit_biases(known, cfg.reg_user, cfg.reg_item, cfg.iterations)
        mu, b_user, b_item = self._baseline
        residual = known.values - (mu + b_user[known.users] + b_item[known.items])
        self._set_residuals(sparse.csr_matrix((residual.astype(np.float64), (known.users, known.items)),
                                              shape=(known.n_users, known.n_items)))
        self._neighbours = None  # built on first use
        return History()

    def _neighbour_lists(self) -> sparse.csc_matrix:
        """Targets x neighbours: each movie's `candidates` most similar other movies (positive
        similarity only), stored by neighbour column so a user's rated movies slice it fast.
        A movie rated by one user shares at most one user with any other, so its shrunk
        similarities are all 0: only movies with two or more ratings are compared."""
        n, keep = self.n_items, min(self.config.candidates, self.n_items - 1)
        active = np.flatnonzero(np.diff(self._cols.indptr) >= 2)
        columns = self._cols[:, active].tocsc()
        by_user = columns.tocsr()
        arrays = (columns.indptr.astype(np.int64), columns.indices.astype(np.int64), columns.data.astype(np.float64),
                  by_user.indptr.astype(np.int64), by_user.indices.astype(np.int64), by_user.data.astype(np.float64))
        rows, cols, vals = [], [], []
        for start in range(0, active.size, BLOCK):
            stop = min(start + BLOCK, active.size)
            sims = np.zeros((stop - start, active.size))
            pearson_block(*arrays, start, stop, float(self.config.shrinkage), sims)
            sims[np.arange(stop - start), np.arange(start, stop)] = 0.0  # a movie is not its own neighbour
            chosen = sims > 0
            over = np.flatnonzero(chosen.sum(axis=1) > keep)  # only these need a selection
            if over.size:
                best = np.argpartition(-sims[over], keep - 1, axis=1)[:, :keep]
                chosen[over] = False
                chosen[over[:, None], best] = True
            row, col = np.nonzero(chosen)
            rows.append(active[start + row])
            cols.append(active[col])
            vals.append(sims[row, col])
        return sparse.csr_matrix((np.concatenate(vals or [np.zeros(0)]).astype(np.float32),
                                  (np.concatenate(rows or [np.zeros(0, int)]),
                                   np.concatenate(cols or [np.zeros(0, int)]))), shape=(n, n)).tocsc()

    @property
    def neighbour_lists(self) -> sparse.csc_matrix:
        """The candidates of every movie, built on first use (scoring or saving) and kept."""
        if self._neighbours is None:
            self._neighbours = self._neighbour_lists()
        return self._neighbours

    def prepare_scoring(self) -> None:
        """The lists in both forms, and, on small data, every user's neighbourhood terms (the
        walks `_score_known` would run for a top-k of every user, e.g. the evaluation after a
        blend's fit), kept while the model is in memory (not saved)."""
        self._walk_arrays  # noqa: B018 - builds and keeps the lists in both forms
        if self.n_users * self.n_items <= DENSE_TERMS_CELLS:
            self._terms = self._neighbourhood_terms(np.arange(self.n_users))

    @property
    def _walk_arrays(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """The lists in the two forms the compiled walks read (int64 and float64): by neighbour
        (start of each movie's column, targets, similarities) and by target, most similar first
        (start of each target's list, neighbours, similarities)."""
        lists = self.neighbour_lists
        if getattr(self, "_arrays", (None,))[0] is not lists:
            rows = lists.tocsr()
            target = np.repeat(np.arange(self.n_items), np.diff(rows.indptr))
            similarity = rows.data.astype(np.float64)
            order = np.argsort(target - 0.5 * similarity, kind="stable")  # by target, then most similar first
            by_neighbour = (lists.indptr.astype(np.int64), lists.indices.astype(np.int64),
                            lists.data.astype(np.float64))
            by_target = (rows.indptr.astype(np.int64), rows.indices[order].astype(np.int64), similarity[order])
            self._arrays = lists, (by_neighbour, by_target)
        return self._arrays[1]

    def _user_scores(self, rated: np.ndarray, residuals: np.ndarray) -> np.ndarray:
        """The neighbourhood term of every movie for someone with these rated movies and residuals:
        per target, the similarity-weighted residual of its k most similar rated movies (see
        `knn_walk.user_terms`)."""
        scores = np.zeros(self.n_items)
        if rated.size:
            by_neighbour, by_target = self._walk_arrays
            user_terms(*by_neighbour, *by_target, np.asarray(rated, dtype=np.int64),
                       np.ascontiguousarray(residuals, dtype=np.float64), self.config.k, float(self.config.damping),
                       scores)
        return scores

    def _pair_terms(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The neighbourhood term of each (user, item) pair, from the pair's target list and the
        user's training ratings (pairs taken by user)."""
        order = np.argsort(users, kind="stable")
        terms, rows = np.zeros(len(users)), self._rows
        pair_terms(*self._walk_arrays[1], users[order].astype(np.int64), items[order].astype(np.int64),
                   rows.indptr.astype(np.int64), rows.indices.astype(np.int64), rows.data.astype(np.float64),
                   self.config.k, self.n_items, float(self.config.damping), terms)
        out = np.empty_like(terms)
        out[order] = terms
        return out

    def _set_residuals(self, matrix: sparse.csr_matrix) -> None:
        matrix.sort_indices()
        self._terms = None  # every user's terms, kept by `prepare_scoring`, belong to the old residuals
        self._rows = matrix  # users x items, residuals of the training ratings
        self._cols = matrix.tocsc()  # the same, by movie

    def _history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._rows.indptr[user], self._rows.indptr[user + 1]
        return self._rows.indices[lo:hi], self._rows.data[lo:hi]

    def _predict_known(self, users, items):
        mu, b_user, b_item = self._baseline
        return mu + b_user[users] + b_item[items] + self._pair_terms(users, items)

    def _score_known(self, users):
        """Predicted ratings of every item for each user."""
        mu, b_user, b_item = self._baseline
        users = np.asarray(users, dtype=np.int64)
        terms = self._terms[users] if getattr(self, "_terms", None) is not None else self._neighbourhood_terms(users)
        return terms + (mu + b_user[users][:, None] + b_item[None, :])

    def _neighbourhood_terms(self, users: np.ndarray) -> np.ndarray:
        """Each user's neighbourhood term of every movie, by the compiled walks (several users at
        once in threads: the walks release the GIL)."""
        terms = np.zeros((len(users), self.n_items))

        def fill(rows: np.ndarray) -> None:
            for row in rows:
                terms[row] = self._user_scores(*self._history(int(users[row])))
        workers = min(SCORING_THREADS, len(users) // 32)
        if workers < 2:
            fill(np.arange(len(users)))
            return terms
        self._walk_arrays  # noqa: B018 - built once, before the threads read it
        with ThreadPoolExecutor(workers, thread_name_prefix="item-knn") as pool:
            list(pool.map(fill, np.array_split(np.arange(len(users)), workers)))
        return terms

    def _fold_in(self, items, ratings):
        """A new user's bias from their ratings, then the neighbourhood of their residuals."""
        mu, _, b_item = self._baseline
        b_new = new_user_bias(mu, b_item, items, ratings, self.config.reg_user)
        residuals = ratings - (mu + b_new + b_item[items])
        return mu + b_new + b_item + self._user_scores(items, residuals)

    def _state(self):
        mu, b_user, b_item = self._baseline
        rows = self._rows
        lists = self.neighbour_lists
        return {"mu": np.array([mu]), "user": b_user, "item": b_item, "indptr": rows.indptr,
                "indices": rows.indices, "residuals": rows.data, "nb_indptr": lists.indptr,
                "nb_indices": lists.indices, "nb_similarity": lists.data}

    def _load_state(self, arrays):
        self._baseline = (float(arrays["mu"][0]), arrays["user"], arrays["item"])
        self._set_residuals(sparse.csr_matrix((arrays["residuals"], arrays["indices"], arrays["indptr"]),
                                              shape=(self.n_users, self.n_items)))
        self._neighbours = sparse.csc_matrix((arrays["nb_similarity"], arrays["nb_indices"], arrays["nb_indptr"]),
                                             shape=(self.n_items, self.n_items))


@dataclass(frozen=True)
class EASEConfig(ModelConfig):
    reg: float = hyper(200.0, "float", "Regularisation", "L2 penalty of the movies x movies weights", low=0.0,
                       high=1e7, open_low=True, search=(10.0, 2000.0), log=True, page=True, page_range=(1.0, 2000.0))
    min_count: int = hyper(3, "int", "Fewest ratings", "a movie needs this many ratings to be scored", low=1,
                           high=1_000_000)
    max_items: int = hyper(20_000, "int", "Largest catalogue", "movies it agrees to hold densely", low=1,
                           high=100_000)
    most_rated: bool = hyper(False, "bool", "Keep the most rated",
                             "with more movies than max_items: keep the most-rated ones (else refuse)")


class EASE(RankingOnly, Recommender):
    """EASE (Steck 2019), a ranking model: an item-item weight matrix B with a zero diagonal that
    reconstructs each user's binary row, X ~ X B, in closed form: B = I - P diag(1/diag(P)) with
    P = (X^T X + reg I)^-1. Only items with at least `min_count` training interactions get a
    column (the rest are never recommended), which keeps B small (ml-latest-small: 4.2k of 9.7k
    items, 5 s) and loses nothing measurable (validation NDCG@10 0.0871 vs 0.0872 with every item)."""
    explains = True  # the liked movies with the largest item-item weights

    name = "ease"
    seconds_per_100k = 5
    config_type = EASEConfig

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """Its movies x movies matrix is dense: past `max_items` qualifying movies it keeps the
        `EASE_LARGE_ITEMS` most-rated (about 2.4 GB while it is built); the rest are not recommended."""
        if n_items <= EASEConfig().max_items:
            return {}, []
        return ({"most_rated": True, "max_items": sizing.EASE_LARGE_ITEMS},
                [f"ease keeps the {sizing.EASE_LARGE_ITEMS:,} most-rated of {n_items:,} movies (its movies x movies "
                 "matrix is dense); the others are not recommended"])

    @classmethod
    def estimate(cls, config: EASEConfig, shape: Shape) -> Cost:
        kept = min(shape.n_items, config.max_items)
        return Cost(kept * kept, kept * kept * 8 * 3 + rows_cost(shape),
                    f"a dense {kept:,} x {kept:,} movies x movies matrix in float64, inverted")
    description = "EASE item-item model in closed form (ranking; Steck 2019)"

    def _fit(self, train, valid, callbacks, stop) -> History:
        cfg = self.config
        data = train.concat(valid) if valid is not None else train
        x = sparse.csr_matrix((np.ones(len(data), dtype=np.float32), (data.users, data.items)),
                              shape=(data.n_users, data.n_items))
        x.data[:] = 1.0  # a duplicate pair counts once
        counts = np.bincount(data.items, minlength=data.n_items)
        keep = np.flatnonzero(counts >= cfg.min_count)
        if keep.size > cfg.max_items and cfg.most_rated:
            keep = np.sort(keep[np.argsort(-counts[keep], kind="stable")[:cfg.max_items]])
        elif keep.size > cfg.max_items:
            raise ConfigError(f"ease is limited to {cfg.max_items:,} items with at least {cfg.min_count} "
                              f"interactions; this data has {keep.size:,} (raise min_count, or set "
                              "most_rated to keep the most-rated ones)")
        kept = x[:, keep]
        gram = (kept.T @ kept).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += cfg.reg
        inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self._keep, self._weights, self._binary = keep, weights.astype(np.float32), x
        return History()

    def _columns(self, rows: sparse.csr_matrix) -> np.ndarray:
        scores = np.full((rows.shape[0], self.n_items), -1e9, dtype=np.float64)
        scores[:, self._keep] = np.asarray(rows[:, self._keep] @ self._weights)
        return scores

    def _score_known(self, users):
        return self._columns(self._binary[np.asarray(users, dtype=np.int64)])

    def _predict_known(self, users, items):
        scores = np.zeros(len(users))
        position = np.full(self.n_items, -1)
        position[self._keep] = np.arange(self._keep.size)
        known = position[items] >= 0
        rows = self._binary[users[known]][:, self._keep]
        scores[known] = np.asarray(rows.multiply(self._weights[:, position[items[known]]].T).sum(axis=1)).ravel()
        return self.scale.low + (self.scale.high - self.scale.low) * np.clip(scores, 0.0, 1.0)

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Scores of every item for a new user from the items they liked (rated at or above the
        scale's midpoint): their binary row times B, no retraining."""
        liked = liked_for_fold_in(items, ratings, self.scale)
        row = sparse.csr_matrix((np.ones(liked.size), (np.zeros(liked.size, dtype=np.int64), liked)),
                                shape=(1, self.n_items))
        return self._columns(row)[0]

    def because(self, item: int, liked: np.ndarray, n: int) -> np.ndarray:
        """The liked items that add most to `item`'s score (largest B[j, item])."""
        position = np.full(self.n_items, -1)
        position[self._keep] = np.arange(self._keep.size)
        liked = liked[position[liked] >= 0]
        if position[item] < 0 or liked.size == 0:
            return np.zeros(0, dtype=np.int64)
        weight = self._weights[position[liked], position[item]]
        order = np.argsort(-weight)[:n]
        return liked[order][weight[order] > 0]

    def _state(self):
        x = self._binary
        return {"keep": self._keep, "weights": self._weights, "indptr": x.indptr, "indices": x.indices}

    def _load_state(self, arrays):
        self._keep, self._weights = arrays["keep"], arrays["weights"]
        if self._weights.shape != (self._keep.size, self._keep.size):
            raise ValueError(f"EASE weights have shape {self._weights.shape} for {self._keep.size} items")
        indices = arrays["indices"]
        self._binary = sparse.csr_matrix((np.ones(indices.size, dtype=np.float32), indices, arrays["indptr"]),
                                         shape=(self.n_users, self.n_items))
