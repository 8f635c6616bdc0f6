"""I-AutoRec (Sedhain et al. 2015): an autoencoder over each movie's column of ratings.

Each movie is the vector of its ratings by every user (0 where there is none); one sigmoid hidden
layer encodes it and a linear layer reconstructs it, trained on the observed entries only
(masked squared error) with L2 on the weights, by Adam over batches of movies. The prediction for
(user, movie) is the user's entry of the movie's reconstruction. Its errors differ from those of
the factor and neighbourhood models, which is what a blend needs.

Both passes skip the missing cells exactly (`autorec_kernels`): an epoch costs O(ratings x hidden),
not O(movies x users x hidden) as the dense network in Keras did, so it trains in a second or two
on ml-latest-small, in the caller's process, with the GIL released.

No refit: the early-stopped network reads every movie's column with the validation ratings in
it (a refit with another seed for the best epoch count was less stable). Its reconstruction is a
dense movies x users matrix, so the model states its limit (`max_cells`) and refuses larger data
with a clear message. After training, that reconstruction is all the model needs to answer, so
it is what it saves.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from recsys.budget import Cost, Shape, dense_refusal, rows_cost
from recsys.data.dataset import Ratings
from recsys.errors import ConfigError
from recsys.models import autorec_kernels as kernels
from recsys.models.base import Recommender
from recsys.models.config import GradientConfig
from recsys.models.loop import EpochCallback, EpochLoop, History
from recsys.models.params import hyper

ADAM = (0.9, 0.999, 1e-7)  # Keras' defaults: beta_1, beta_2, epsilon


@dataclass(frozen=True)
class AutoRecConfig(GradientConfig):
    hidden: int = hyper(500, "int", "Hidden units", "width of the one hidden layer", low=1, high=4096,
                        search=(100, 1000), log=True, page=True, page_range=(10, 1000))
    l2: float = hyper(0.001, "float", "L2 regularisation", "penalty on the weights", low=0.0, high=100.0,
                      search=(1e-5, 0.1), log=True, page=True, steps=(0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03))
    learning_rate: float = 0.001
    epochs: int = 200
    batch_size: int = 256
    patience: int = 10
    divergence: float = hyper(0.01, "float", "Give up above best",
                              "stop a network as soon as its validation RMSE is this fraction above its best so far "
                              "(0: patience alone). On ml-latest-small AutoRec peaks within a few epochs and then "
                              "climbs steadily; on ml-100k it wanders within 0.8% of its best for tens of epochs",
                              low=0.0, high=1.0)
    members: int = hyper(2, "int", "Networks", "networks trained from different seeds, each early-stopped on "
                         "its own, their reconstructions averaged (one network's result varies with its seed)",
                         low=1, high=16,
                         page=True, page_range=(1, 4))
    max_cells: int = hyper(50_000_000, "int", "Largest matrix", "movies x users cells it agrees to hold densely",
                           low=1)


@dataclass
class _Member:
    """One network of the bag: its weights, Adam's moments, its own random stream and step count."""

    weights: dict[str, np.ndarray]
    moments: dict[str, tuple[np.ndarray, np.ndarray]]
    rng: np.random.Generator
    steps: int = 0


@dataclass
class _Columns:
    """Each movie's ratings as compressed rows (movie -> the users who rated it, and the values)."""

    indptr: np.ndarray
    users: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, ratings: Ratings, n_items: int) -> "_Columns":
        order = np.argsort(ratings.items, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(ratings.items, minlength=n_items))].astype(np.int64)
        return cls(indptr, ratings.users[order].astype(np.int64), ratings.values[order].astype(np.float32))

    def codes(self, rows: np.ndarray, weights: dict[str, np.ndarray]) -> np.ndarray:
        return kernels.encode(self.indptr, self.users, self.values, rows, weights["w_in"], weights["b_in"])


class AutoRec(Recommender):
    """Item-based AutoRec: reconstruct each movie's ratings from a 500-unit sigmoid code (a bag of such networks)."""

    name = "autorec"
    seconds_per_100k = 4
    config_type = AutoRecConfig
    description = "I-AutoRec: autoencoder over each movie's ratings (dense output; small and medium data)"
    learns_from_validation = True

    @classmethod
    def refuses(cls, config: AutoRecConfig, shape: Shape) -> str:
        return dense_refusal("autorec", "movies x users", shape.n_items * shape.n_users, config.max_cells,
                             "small and medium data")

    @classmethod
    def estimate(cls, config: AutoRecConfig, shape: Shape) -> Cost:
        cells = shape.n_items * shape.n_users
        parameters = 2 * shape.n_users * config.hidden + config.hidden + shape.n_users
        return Cost(parameters, cells * 4 + shape.n_items * config.hidden * 4 + parameters * 4 * 4
                    + rows_cost(shape), f"a dense {shape.n_items:,} x {shape.n_users:,} movies x users reconstruction")

    def _member(self, seed: int) -> "_Member":
        """A fresh network: Glorot-uniform kernels and zero biases, as Keras' Dense layers start."""
        rng = np.random.default_rng(seed)
        hidden, limit = self.config.hidden, np.sqrt(6.0 / (self.n_users + self.config.hidden))
        weights = {"w_in": rng.uniform(-limit, limit, (self.n_users, hidden)).astype(np.float32),
                   "b_in": np.zeros(hidden, dtype=np.float32),
                   "w_out_t": rng.uniform(-limit, limit, (self.n_users, hidden)).astype(np.float32),
                   "b_out": np.zeros(self.n_users, dtype=np.float32)}
        return _Member(weights, {key: (np.zeros_like(value), np.zeros_like(value)) for key, value in weights.items()},
                       rng)

    def _epoch(self, columns: _Columns, rated: np.ndarray, member: "_Member") -> float:
        """One pass of Adam over the rated movies in shuffled batches; the mean batch loss."""
        cfg = self.config
        beta1, beta2, epsilon = ADAM
        order = member.rng.permutation(rated)
        losses = []
        for start in range(0, len(order), cfg.batch_size):
            rows = order[start:start + cfg.batch_size]
            weights = member.weights
            loss, *gradients = kernels.batch_gradients(columns.indptr, columns.users, columns.values, rows,
                                                       weights["w_in"], weights["b_in"], weights["w_out_t"],
                                                       weights["b_out"], np.float32(cfg.l2))
            member.steps += 1
            rate = cfg.learning_rate * np.sqrt(1 - beta2 ** member.steps) / (1 - beta1 ** member.steps)
            for (key, value), gradient in zip(weights.items(), gradients):
                decay = 2 * cfg.l2 if key.startswith("w_") else 0.0  # the kernels' L2, not the biases'
                first, second = member.moments[key]
                kernels.adam_step(value, gradient, first, second, np.float32(rate), np.float32(beta1),
                                  np.float32(beta2), np.float32(epsilon), np.float32(decay))
            losses.append(loss)
        return float(np.mean(losses))

    def _at(self, columns: _Columns, members: list[dict], ratings: Ratings) -> np.ndarray:
        """The mean of the members' reconstructions (each clipped to the scale) at the cells of
        `ratings` (the movies read from `columns`)."""
        rows, where = np.unique(ratings.items, return_inverse=True)
        total = np.zeros(len(ratings), dtype=np.float64)
        for weights in members:
            codes = columns.codes(rows.astype(np.int64), weights)
            total += self.scale.clip(kernels.decode_at(codes, where.astype(np.int64), ratings.users.astype(np.int64),
                                                       weights["w_out_t"], weights["b_out"]))
        return total / len(members)

    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        cfg = self.config
        reason = self.refuses(cfg, Shape(self.n_users, self.n_items, len(train)))
        if reason:
            raise ConfigError(reason)
        columns = _Columns.of(train, self.n_items)
        rated = np.flatnonzero(np.diff(columns.indptr)).astype(np.int64)
        checking = valid is not None and len(valid) > 0
        best, history = [], History()
        for number in range(cfg.members):  # each network stops at its own best epoch; the curve is the first's
            member = self._member(cfg.seed + number)
            loop = EpochLoop(cfg.epochs, callbacks if number == 0 else [], stop, patience=cfg.patience,
                             divergence=cfg.divergence,
                             snapshot=lambda m=member: {key: value.copy() for key, value in m.weights.items()})
            for _ in loop:
                loss = self._epoch(columns, rated, member)
                val_rmse = (float(np.sqrt(np.mean((self._at(columns, [member.weights], valid) - valid.values) ** 2)))
                            if checking else None)
                loop.end(loss, None, val_rmse)
            if loop.history.stopped:
                return loop.history
            history = loop.history if number == 0 else history
            best.append(loop.best_state if loop.best_state is not None else member.weights)
        if checking:  # out of sample, then read with the validation ratings too
            self.validation_predictions = self._at(columns, best, valid)
            columns = _Columns.of(train.concat(valid), self.n_items)
        every = np.arange(self.n_items, dtype=np.int64)
        self._reconstruction = (sum(self.scale.clip(columns.codes(every, weights) @ weights["w_out_t"].T
                                                    + weights["b_out"]) for weights in best) / len(best)
                                ).astype(np.float32)
        return history

    def _predict_known(self, users, items):
        return self._reconstruction[items, users].astype(np.float64)

    def _score_known(self, users):
        return self._reconstruction[:, np.asarray(users, dtype=np.int64)].T.astype(np.float64)

    def _state(self):
        return {"reconstruction": self._reconstruction}

    def _load_state(self, arrays):
        self._reconstruction = arrays["reconstruction"]
        if self._reconstruction.shape != (self.n_items, self.n_users):
            raise ValueError(f"autorec reconstruction has shape {self._reconstruction.shape}")
