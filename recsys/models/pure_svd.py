"""PureSVD (Cremonesi, Koren and Turrin 2010), a ranking model in closed form.

The users x movies rating matrix, with a missing rating read as 0, is factorised by a truncated
SVD, R ~ U S V^T, and a user's scores of every movie are their row projected onto the top
singular vectors: r_u V V^T. No epochs, no random start that matters: ARPACK's sparse solver
fits ml-latest-small in a fraction of a second, which makes it the pages' quick first model
while their default trains (see `catalog.stand_in`). Users and movies get the balanced factors
U S^(1/2) and V S^(1/2), so their dot product is the score and the movie map can draw them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from recsys.budget import Cost, Shape, rows_cost
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.models.loop import History
from recsys.models.outputs import Factors, RankingOnly
from recsys.models.params import hyper

DENSE_CELLS = 250_000  # below this many cells a dense SVD is exact and quicker than ARPACK


@dataclass(frozen=True)
class PureSVDConfig(ModelConfig):
    factors: int = hyper(32, "int", "Factors", "singular vectors kept", low=1, high=512, search=(8, 256), log=True,
                         page=True, page_range=(1, 256))


class PureSVD(RankingOnly, Recommender):
    """Truncated SVD of the rating matrix (missing = 0); scores r_u V V^T."""

    draws_on_a_map = True
    name = "pure-svd"
    seconds_per_100k = 1
    config_type = PureSVDConfig
    description = "PureSVD: truncated SVD of the rating matrix, in closed form (ranking; the pages' quick model)"

    @classmethod
    def estimate(cls, config: PureSVDConfig, shape: Shape) -> Cost:
        parameters = (shape.n_users + shape.n_items) * config.factors
        return Cost(parameters, parameters * 8 * 4 + rows_cost(shape) * 2,
                    f"{config.factors} singular vectors of a sparse {shape.n_users:,} x {shape.n_items:,} matrix")

    def _fit(self, train, valid, callbacks, stop) -> History:
        data = train.concat(valid) if valid is not None else train
        matrix = sparse.csr_matrix((data.values.astype(np.float64), (data.users, data.items)),
                                   shape=(data.n_users, data.n_items))
        self._x, self._y, self._s = _balanced_svd(matrix, self.config.factors, self.config.seed)
        return History()

    def _predict_known(self, users, items):
        return self.scale.clip(np.einsum("nk,nk->n", self._x[users], self._y[items]))

    def _score_known(self, users):
        return self._x[np.asarray(users, dtype=np.int64)] @ self._y.T

    def factors(self) -> Factors:
        return Factors(self._x, self._y)

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """A new user's row projected like any other: x = r V S^(-1/2), scores x (V S^(1/2))^T = r V V^T."""
        row = np.zeros(self.n_items)
        row[items] = ratings
        with np.errstate(divide="ignore", invalid="ignore"):
            user = np.where(self._s > 0, (row @ self._y) / self._s, 0.0)
        return self._y @ user

    def _state(self):
        return {"x": self._x, "y": self._y, "s": self._s}

    def _load_state(self, arrays):
        self._x, self._y, self._s = arrays["x"], arrays["y"], arrays["s"]
        if self._x.shape[1] != self._y.shape[1] or self._s.shape != (self._y.shape[1],):
            raise ValueError(f"pure-svd factors have shapes {self._x.shape}, {self._y.shape}, {self._s.shape}")


def _balanced_svd(matrix: sparse.csr_matrix, factors: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U S^(1/2), V S^(1/2) and S of the `factors` largest singular values (fewer when the matrix
    is smaller), largest first; the sign of each pair is fixed so refits draw the same map."""
    rank = min(factors, min(matrix.shape))
    if matrix.shape[0] * matrix.shape[1] <= DENSE_CELLS or rank >= min(matrix.shape) - 1:
        u, s, vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
        u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    else:
        start = np.random.default_rng(seed).uniform(-1, 1, min(matrix.shape))
        u, s, vt = svds(matrix, k=rank, v0=start, solver="arpack")
        order = np.argsort(-s)
        u, s, vt = u[:, order], s[order], vt[order]
    signs = np.where(vt[np.arange(rank), np.argmax(np.abs(vt), axis=1)] < 0, -1.0, 1.0)
    root = np.sqrt(np.maximum(s, 0.0))
    return u * signs * root, vt.T * signs * root, s
