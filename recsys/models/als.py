"""Explicit-feedback alternating least squares with biases: the textbook matrix factorisation.

    r_ui ~ mu + b_u + b_i + p_u . q_i

Fix the movies (q_i, b_i) and every person's (p_u, b_u) is a ridge regression on their own
ratings, solved exactly; then fix the people and solve the movies the same way. Each half step
can only lower the regularised training loss, which is why it is the model the Lessons page
teaches with. The penalty is weighted by how many ratings a row has (lambda n_u |p_u|^2, Zhou et
al. 2008), so one `reg` suits people with 20 ratings and movies with 300; `reg` 0 is plain least
squares, the over-fitting the lessons show.

Rows are solved all at once: each row's Gram matrix is a sum of outer products over its ratings,
one sparse product, then one batched `np.linalg.solve`. Fit runs the
iterations on the training part with the validation part's error after every half step (the
lessons' curves), then refits on both parts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recsys.budget import Cost, Shape, rows_cost
from recsys.data.dataset import Ratings
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.models.loop import EpochLoop, History
from recsys.models.outputs import Factors
from recsys.models.params import hyper

JITTER = 1e-8   # keeps a row with fewer ratings than unknowns solvable when reg is 0


@dataclass(frozen=True)
class ALSConfig(ModelConfig):
    factors: int = hyper(16, "int", "Factors", "latent dimensions", low=1, high=256, search=(4, 64), log=True,
                         page=True, page_range=(1, 64))
    reg: float = hyper(0.1, "float", "Regularisation", "L2 penalty per rating of a row (0: none)", low=0.0, high=100.0,
                       search=(0.01, 1.0), log=True, page=True, page_range=(0.0, 1.0))
    prior: float = hyper(20.0, "float", "Prior ratings", "the penalty counts every row as having this many more "
                         "ratings, so a row with one rating is not fitted to it exactly", low=0.0, high=1000.0,
                         search=(0.0, 50.0))
    iterations: int = hyper(10, "int", "Iterations", "alternations (each solves the people, then the movies)",
                            low=1, high=100, page=True, page_range=(1, 30))


@dataclass
class Side:
    """The ratings grouped by one side's rows (people or movies), for its half step: a sparse
    rows x others matrix whose stored values are the ratings minus the global mean."""

    matrix: sparse.csr_matrix

    @property
    def counts(self) -> np.ndarray:
        """Ratings per row."""
        return np.diff(self.matrix.indptr)

    @classmethod
    def of(cls, rows: np.ndarray, others: np.ndarray, values: np.ndarray, n: int, n_others: int) -> "Side":
        matrix = sparse.csr_matrix((np.asarray(values, np.float64), (rows, others)), shape=(n, n_others))
        matrix.sum_duplicates()
        return cls(matrix)


def solve_side(side: Side, other: np.ndarray, other_bias: np.ndarray, reg: float,
               prior: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One half step: every row's (vector, bias) given the other side's fixed vectors and biases,
    minimising sum (r - mu - b_other - b - p.q)^2 + reg (n + prior) (|p|^2 + b^2). Each row's Gram matrix is
    the sum of its others' outer products: one sparse product with those outer products flattened."""
    matrix, k = side.matrix, other.shape[1]
    features = np.hstack([other, np.ones((len(other), 1))])
    outer = (features[:, :, None] * features[:, None, :]).reshape(len(other), -1)
    pattern = sparse.csr_matrix((np.ones_like(matrix.data), matrix.indices, matrix.indptr), shape=matrix.shape)
    gram = np.asarray(pattern @ outer).reshape(-1, k + 1, k + 1)
    counts = np.diff(matrix.indptr)
    gram += (reg * (counts + prior) + JITTER)[:, None, None] * np.eye(k + 1)
    target = sparse.csr_matrix((matrix.data - other_bias[matrix.indices], matrix.indices, matrix.indptr),
                               shape=matrix.shape)
    rhs = np.asarray(target @ features)
    solved = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    return solved[:, :k], solved[:, k]


def rmse(data: Ratings, mean: float, x: np.ndarray, bx: np.ndarray, y: np.ndarray, by: np.ndarray,
         low: float, high: float) -> float:
    """RMSE of mu + b_u + b_i + p_u.q_i, clipped to the scale, on `data`."""
    predicted = mean + bx[data.users] + by[data.items] + np.einsum("nk,nk->n", x[data.users], y[data.items])
    return float(np.sqrt(np.mean((np.clip(predicted, low, high) - data.values) ** 2)))


class ALS(Recommender):
    """Explicit ALS with user and movie biases, each half step solved exactly (see the module)."""

    name = "als"
    config_type = ALSConfig
    seconds_per_100k = 2
    draws_on_a_map = True
    step_name = "iteration"
    description = "alternating least squares with biases, each half step in closed form (the lessons' model)"

    @classmethod
    def estimate(cls, config: ALSConfig, shape: Shape) -> Cost:
        parameters = (shape.n_users + shape.n_items) * (config.factors + 1)
        solve = (shape.n_users + shape.n_items) * (config.factors + 1) ** 2 * 8 * 2
        return Cost(parameters, parameters * 8 * 3 + solve + rows_cost(shape) * 3,
                    f"{config.factors} factors and a bias per user and movie, in float64")

    def _fit(self, train, valid, callbacks, stop) -> History:
        cfg = self.config
        steps, history = self._alternate(train, valid, cfg.iterations, callbacks, stop, "fit", History())
        self.half_steps = steps
        if valid is not None and len(valid) and not history.stopped:
            _, history = self._alternate(train.concat(valid), None, cfg.iterations, callbacks, stop, "refit", history)
        return history

    def _alternate(self, data: Ratings, valid: Ratings | None, iterations: int, callbacks, stop, phase: str,
                   history: History) -> tuple[np.ndarray, History]:
        """`iterations` alternations from a seeded start; keeps the factors; returns, after each half
        step (the start first), the training and validation RMSE and the root penalised loss, and
        the history."""
        cfg, low, high = self.config, data.scale.low, data.scale.high
        self.mean = float(data.values.mean())
        centred = data.values - self.mean
        people = Side.of(data.users, data.items, centred, data.n_users, data.n_items)
        movies = Side.of(data.items, data.users, centred, data.n_items, data.n_users)
        rng = np.random.default_rng(cfg.seed)
        x, y = rng.normal(0, 0.1, (data.n_users, cfg.factors)), rng.normal(0, 0.1, (data.n_items, cfg.factors))
        bx, by = np.zeros(data.n_users), np.zeros(data.n_items)

        def errors() -> list[float]:
            """Training RMSE, validation RMSE and the penalised loss per training rating (what
            each half step lowers) as its square root, on the RMSE's scale."""
            fitted = self.mean + bx[data.users] + by[data.items] + np.einsum("nk,nk->n", x[data.users], y[data.items])
            penalty = cfg.reg * (np.sum((people.counts + cfg.prior) * (np.sum(x * x, 1) + bx * bx))
                                 + np.sum((movies.counts + cfg.prior) * (np.sum(y * y, 1) + by * by)))
            return [rmse(data, self.mean, x, bx, y, by, low, high),
                    rmse(valid, self.mean, x, bx, y, by, low, high) if valid is not None and len(valid) else np.nan,
                    float(np.sqrt((np.sum((data.values - fitted) ** 2) + penalty) / len(data)))]

        steps = [errors()]
        loop = EpochLoop(iterations, callbacks, stop, phase=phase, history=history)
        for _ in loop:
            x, bx = solve_side(people, y, by, cfg.reg, cfg.prior)
            steps.append(errors())
            y, by = solve_side(movies, x, bx, cfg.reg, cfg.prior)
            steps.append(errors())
            train_error, valid_error, _ = steps[-1]
            loop.end(train_error ** 2, None if np.isnan(valid_error) else valid_error ** 2,
                     None if np.isnan(valid_error) else valid_error)
        self._x, self._bx, self._y, self._by = x, bx, y, by
        return np.array(steps), loop.history

    def _predict_known(self, users, items):
        raw = self.mean + self._bx[users] + self._by[items] + np.einsum("nk,nk->n", self._x[users], self._y[items])
        return self.scale.clip(raw)

    def _score_known(self, users):
        users = np.asarray(users, dtype=np.int64)
        return self.mean + self._bx[users, None] + self._by[None, :] + self._x[users] @ self._y.T

    def factors(self) -> Factors:
        return Factors(self._x, self._y)

    def biases(self) -> tuple[float, np.ndarray, np.ndarray]:
        """The global mean, each person's bias and each movie's bias."""
        return self.mean, self._bx, self._by

    def user_vector(self, items: np.ndarray, ratings: np.ndarray) -> tuple[np.ndarray, float]:
        """A new person's (vector, bias) from their ratings, the movies held fixed: exactly one
        half step for one row, so they land on the same map as everyone else."""
        items = np.asarray(items, dtype=np.int64)
        side = Side.of(np.zeros(len(items), dtype=np.int64), items, np.asarray(ratings, float) - self.mean, 1,
                       len(self._y))
        vector, bias = solve_side(side, self._y, self._by, self.config.reg, self.config.prior)
        return vector[0], float(bias[0])

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        vector, bias = self.user_vector(items, ratings)
        return self.mean + bias + self._by + self._y @ vector

    def _state(self):
        return {"x": self._x, "bx": self._bx, "y": self._y, "by": self._by, "mean": np.array(self.mean),
                "half_steps": getattr(self, "half_steps", np.zeros((0, 3)))}

    def _load_state(self, arrays):
        self._x, self._bx, self._y, self._by = arrays["x"], arrays["bx"], arrays["y"], arrays["by"]
        self.mean, self.half_steps = float(arrays["mean"]), arrays["half_steps"]
        if self._x.shape[1] != self._y.shape[1] or len(self._bx) != len(self._x) or len(self._by) != len(self._y):
            raise ValueError(f"als factors have shapes {self._x.shape}, {self._y.shape}")
