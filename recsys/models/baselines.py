"""Non-neural models: the global mean, regularised user + item biases, and masked NMF."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from recsys.budget import Cost, Shape, dense_refusal, rows_cost
from recsys.data.dataset import Ratings
from recsys.errors import ConfigError
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.models.fallback import fit_biases
from recsys.models.fold_in import liked_for_fold_in
from recsys.models.loop import EpochLoop, History
from recsys.models.outputs import Factors, RankingOnly
from recsys.models.params import hyper


class GlobalMean(Recommender):
    """Predicts the training mean for everything; ranks items by nothing (all ties)."""

    name = "global-mean"
    seconds_per_100k = 1
    description = "the mean training rating, for everyone"

    def _fit(self, train, valid, callbacks, stop) -> History:
        return History()

    def _predict_known(self, users, items):
        return np.full(users.shape, self._fallback[0])  # type: ignore[index]

    def _score_known(self, users):
        return np.full((len(users), self.n_items), self._fallback[0])  # type: ignore[index]


class Popular(RankingOnly, Recommender):
    """MostPop: every known user gets the movies with the most training ratings first, the
    baseline any recommender is compared against. Scores are each movie's share of the largest
    count. A user it was not fitted on gets the fallback every model gives (see `Recommender`)."""

    name = "popular"
    seconds_per_100k = 1
    description = "most-rated movies first, the same list for everyone (MostPop baseline)"

    def _fit(self, train, valid, callbacks, stop) -> History:
        data = train.concat(valid) if valid is not None else train
        counts = np.bincount(data.items, minlength=data.n_items).astype(np.float64)
        self._popularity = counts / max(counts.max(), 1.0)
        return History()

    def _predict_known(self, users, items):
        return self._popularity[np.asarray(items, dtype=np.int64)]

    def _score_known(self, users):
        return np.tile(self._popularity, (len(users), 1))

    def _state(self):
        return {"popularity": self._popularity}

    def _load_state(self, arrays):
        self._popularity = arrays["popularity"]


@dataclass(frozen=True)
class BiasConfig(ModelConfig):
    reg_user: float = hyper(5.0, "float", "User bias regularisation", "pull of each user's bias towards zero",
                            low=0.0, high=1e6, search=(0.5, 50.0), log=True, page=True, page_range=(0.0, 50.0))
    reg_item: float = hyper(5.0, "float", "Movie bias regularisation", "pull of each movie's bias towards zero",
                            low=0.0, high=1e6, search=(0.5, 50.0), log=True, page=True, page_range=(0.0, 50.0))
    iterations: int = hyper(15, "int", "Iterations", "alternating passes over users and movies", low=1, high=1000)


class Biases(Recommender):
    """Global mean + regularised user bias + item bias (alternating least squares)."""

    name = "biases"
    seconds_per_100k = 1
    config_type = BiasConfig
    description = "global mean + regularised user and item biases"

    def _fit(self, train, valid, callbacks, stop) -> History:
        cfg = self.config
        self._biases = fit_biases(train, cfg.reg_user, cfg.reg_item, cfg.iterations)
        return History()

    def _predict_known(self, users, items):
        mu, b_user, b_item = self._biases
        return mu + b_user[users] + b_item[items]

    def _score_known(self, users):
        mu, b_user, b_item = self._biases
        return mu + b_user[np.asarray(users)][:, None] + b_item[None, :]

    def _fold_in(self, items, ratings):
        """A new user's bias from their ratings, regularised as in training."""
        mu, _, b_item = self._biases
        return mu + new_user_bias(mu, b_item, items, ratings, self.config.reg_user) + b_item

    def _state(self):
        mu, b_user, b_item = self._biases
        return {"mu": np.array([mu]), "user": b_user, "item": b_item}

    def _load_state(self, arrays):
        self._biases = (float(arrays["mu"][0]), arrays["user"], arrays["item"])


@dataclass(frozen=True)
class NMFConfig(ModelConfig):
    factors: int = hyper(2, "int", "Factors", "non-negative latent dimensions", low=1, high=500, search=(1, 50),
                         log=True, page=True, page_range=(1, 64))
    em_rounds: int = hyper(40, "int", "EM rounds", "rounds of filling the missing cells and refitting", low=1, high=1000)
    max_cells: int = hyper(5_000_000, "int", "Largest matrix", "users x movies cells it agrees to hold densely", low=1)


class NMF(Recommender):
    """scikit-learn NMF with the missing cells masked by EM imputation.

    Plain `sklearn.decomposition.NMF` treats a missing rating as a 0, which drags every blank
    towards zero. Here the blanks start at the user's mean and are replaced by the reconstruction
    after each round (warm-started NMF), so only known cells drive the fit. It works on a dense
    users x items matrix, so it is meant for the mini demo and small matrices (up to `max_cells`).
    """
    draws_on_a_map = True

    name = "nmf"
    seconds_per_100k = 3
    config_type = NMFConfig

    @classmethod
    def refuses(cls, config: NMFConfig, shape: Shape) -> str:
        return dense_refusal("nmf", "users x movies", shape.n_users * shape.n_items, config.max_cells,
                             "the mini or a small dataset such as ml-100k")

    @classmethod
    def estimate(cls, config: NMFConfig, shape: Shape) -> Cost:
        cells = shape.n_users * shape.n_items
        return Cost((shape.n_users + shape.n_items) * config.factors, cells * 8 * 4 + rows_cost(shape),
                    f"a dense {shape.n_users:,} x {shape.n_items:,} users x movies matrix and its reconstruction")
    description = "scikit-learn NMF, missing cells masked (mini demo and small matrices)"

    def _fit(self, train, valid, callbacks, stop) -> History:
        from sklearn.decomposition import NMF as SkNMF
        from sklearn.exceptions import ConvergenceWarning

        cfg = self.config
        reason = self.refuses(cfg, Shape(train.n_users, train.n_items, len(train)))
        if reason:
            raise ConfigError(reason)
        dense = np.zeros((train.n_users, train.n_items))
        mask = np.zeros_like(dense, dtype=bool)
        dense[train.users, train.items] = train.values
        mask[train.users, train.items] = True
        counts = np.maximum(mask.sum(1, keepdims=True), 1)
        filled = np.where(mask, dense, dense.sum(1, keepdims=True) / counts)
        loop = EpochLoop(cfg.em_rounds, callbacks, stop)
        w = h = None
        for _ in loop:
            init = "nndsvda" if w is None else "custom"
            model = SkNMF(n_components=cfg.factors, init=init, random_state=cfg.seed, max_iter=400)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                w = model.fit_transform(filled, W=w, H=h) if w is not None else model.fit_transform(filled)
            h = model.components_
            recon = w @ h
            filled = np.where(mask, dense, recon)
            val_rmse = _rmse_on(valid, recon)
            loop.end(float(np.sqrt(np.mean((recon[mask] - dense[mask]) ** 2))),
                     val_rmse ** 2 if val_rmse is not None else None, val_rmse)
        history = loop.history
        self._w, self._h = w, h
        return history

    def _predict_known(self, users, items):
        return np.einsum("nk,kn->n", self._w[users], self._h[:, items])

    def _score_known(self, users):
        return self._w[np.asarray(users)] @ self._h

    def factors(self) -> Factors:
        return Factors(self._w, self._h.T)

    def _state(self):
        return {"w": self._w, "h": self._h}

    def _load_state(self, arrays):
        self._w, self._h = arrays["w"], arrays["h"]


def new_user_bias(mu: float, b_item: np.ndarray, items: np.ndarray, ratings: np.ndarray, reg: float) -> float:
    """The regularised bias of a user who rated `items`, given the trained movie biases."""
    residual = np.asarray(ratings, dtype=np.float64) - mu - b_item[np.asarray(items, dtype=np.int64)]
    return float(residual.sum() / (residual.size + reg))


def _rmse_on(valid: Ratings | None, recon: np.ndarray) -> float | None:
    """RMSE of a dense users x movies reconstruction on the validation ratings (None without them)."""
    if valid is None or not len(valid):
        return None
    predicted = np.clip(recon[valid.users, valid.items], valid.scale.low, valid.scale.high)
    return float(np.sqrt(np.mean((predicted - valid.values) ** 2)))


@dataclass(frozen=True)
class IALSConfig(ModelConfig):
    factors: int = hyper(64, "int", "Factors", "latent dimensions", low=1, high=512, search=(16, 256), log=True,
                         page=True, page_range=(1, 256))
    reg: float = hyper(30.0, "float", "Regularisation", "L2 penalty on the factors", low=0.0, high=1e4,
                       search=(1.0, 300.0), log=True)
    alpha: float = hyper(2.0, "float", "Confidence", "extra weight of a rated cell over an unrated one", low=0.0,
                         high=1e4, search=(0.5, 40.0), log=True)
    iterations: int = hyper(15, "int", "Iterations", "alternating least-squares passes", low=1, high=200)


def _ials_loss(x: np.ndarray, y: np.ndarray, data, reg: float, alpha: float) -> float:
    """iALS's weighted squared error over every user x movie cell plus the L2 penalty, per rating:
    sum_all s^2 comes from the two Gram matrices (no dense users x movies matrix), and the rated
    cells add (1 + alpha)(1 - s)^2 - s^2 from their own scores."""
    everything = float(np.sum((x.T @ x) * (y.T @ y)))
    rated = np.einsum("nk,nk->n", x[data.users], y[data.items])
    observed = float(np.sum((1 + alpha) * (1 - rated) ** 2 - rated ** 2))
    penalty = reg * (float(np.sum(x * x)) + float(np.sum(y * y)))
    return (everything + observed + penalty) / max(len(data), 1)


class IALS(RankingOnly, Recommender):
    """Implicit-feedback ALS (Hu, Koren and Volinsky 2008), a ranking model: every rated item is
    a positive with confidence 1 + alpha, every other item a zero with confidence 1; users and
    items are solved in turn in closed form. Its `predict` maps the preference score onto the
    rating scale; RMSE is not meaningful for it."""
    draws_on_a_map = True

    name = "ials"
    seconds_per_100k = 7
    config_type = IALSConfig

    @classmethod
    def estimate(cls, config: IALSConfig, shape: Shape) -> Cost:
        parameters = (shape.n_users + shape.n_items) * config.factors
        return Cost(parameters, parameters * 8 * 3 + rows_cost(shape) * 2,
                    f"{config.factors} factors per user and movie, in float64")
    description = "implicit-feedback ALS (ranking), solved in closed form"

    def _fit(self, train, valid, callbacks, stop) -> History:
        cfg = self.config
        data = train.concat(valid) if valid is not None else train
        rng = np.random.default_rng(cfg.seed)
        x = rng.normal(0, 0.01, (data.n_users, cfg.factors))
        y = rng.normal(0, 0.01, (data.n_items, cfg.factors))
        by_user = _groups(data.users, data.items, data.n_users)
        by_item = _groups(data.items, data.users, data.n_items)
        loop = EpochLoop(cfg.iterations, callbacks, stop)
        for _ in loop:
            x = _solve_side(y, by_user, cfg.reg, cfg.alpha)
            y = _solve_side(x, by_item, cfg.reg, cfg.alpha)
            loop.end(_ials_loss(x, y, data, cfg.reg, cfg.alpha))
        history = loop.history
        self._x, self._y = x, y
        return history

    def _predict_known(self, users, items):
        scores = np.einsum("nk,nk->n", self._x[users], self._y[items])
        return self.scale.low + (self.scale.high - self.scale.low) * np.clip(scores, 0.0, 1.0)

    def _score_known(self, users):
        return self._x[np.asarray(users)] @ self._y.T

    def factors(self) -> Factors:
        return Factors(self._x, self._y)

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Scores of every item for a new user: their liked items (rated at or above the scale's
        midpoint) solved against the trained item vectors, as in one ALS half-step."""
        liked = liked_for_fold_in(items, ratings, self.scale)
        cfg = self.config
        user = _solve_side(self._y, [liked], cfg.reg, cfg.alpha)[0]
        return self._y @ user

    def _state(self):
        return {"x": self._x, "y": self._y}

    def _load_state(self, arrays):
        self._x, self._y = arrays["x"], arrays["y"]


def _groups(keys: np.ndarray, values: np.ndarray, n: int) -> list[np.ndarray]:
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [values[order[bounds[k]: bounds[k + 1]]] for k in range(n)]


def _solve_side(other: np.ndarray, groups: list[np.ndarray], reg: float, alpha: float) -> np.ndarray:
    """One ALS half-step: each row's vector given the other side's fixed vectors."""
    k = other.shape[1]
    gram = other.T @ other + reg * np.eye(k)
    out = np.zeros((len(groups), k))
    for row, members in enumerate(groups):
        if members.size == 0:
            continue
        block = other[members]
        out[row] = np.linalg.solve(gram + alpha * block.T @ block, (1.0 + alpha) * block.sum(axis=0))
    return out
