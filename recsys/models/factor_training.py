"""The compiled trainer of the dot-product Keras models (mf, biased-mf, recommender-net): their
tables, Adam's moments and the epochs, run by `factor_kernels` instead of Keras' `fit`.

It starts from the tables Keras would draw (normal, sd 0.05, or uniform on [0, 0.1] when
non-negative; zero biases), shuffles every epoch, trains in batches with Keras' loss and
row-sparse Adam, and hands its tables to a Keras model of the same architecture at the end, so
scoring, fold-in and the saved `.keras` file are those of a Keras-trained model. What it saves
is Keras' per-call work: tracing the training graph (about 1.3 s per model here) and the trips
through Python per batch.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from recsys.data.dataset import Ratings
from recsys.models.factor_kernels import train_batches
from recsys.models.loop import EpochLoop

#: ratings per kernel call (whole batches): the caller's stop flag is read between calls
RATINGS_PER_CALL = 1 << 16


class CompiledTrainer:
    """Tables, moments and the Adam step count of one dot-product model."""

    def __init__(self, n_users: int, n_items: int, factors: int, has_biases: bool, non_negative: bool,
                 seed: int) -> None:
        self.shape = (n_users, n_items, factors)
        self.has_biases = has_biases
        self.non_negative = non_negative
        self.reset(seed)

    def reset(self, seed: int) -> None:
        """Fresh tables from `seed` and zero moments (a new model, as Keras would build it)."""
        n_users, n_items, k = self.shape
        rng = np.random.default_rng(seed)

        def table(rows: int) -> np.ndarray:
            drawn = rng.uniform(0.0, 0.1, (rows, k)) if self.non_negative else rng.normal(0.0, 0.05, (rows, k))
            return drawn.astype(np.float32)
        bias_rows = (n_users, n_items) if self.has_biases else (0, 0)
        self.tables = (table(n_users), table(n_items), np.zeros((bias_rows[0], 1), np.float32),
                       np.zeros((bias_rows[1], 1), np.float32))
        self.moments = tuple(np.zeros_like(t) for t in self.tables for _ in range(2))
        self.grads = tuple(np.zeros_like(t) for t in self.tables)
        self._touched = (np.zeros(n_users, np.int8), np.zeros(n_items, np.int8))
        self.step = 0

    def epoch(self, users: np.ndarray, items: np.ndarray, targets: np.ndarray, rng: np.random.Generator,
              batch_size: int, learning_rate: float, l2: float, sigmoid: bool,
              stopped: Callable[[], bool]) -> float | None:
        """One pass over the ratings in a fresh random order; the mean training loss (as Keras
        logs it), or None when `stopped()` turned true between two calls."""
        order = rng.permutation(users.size)
        chunk = max(1, RATINGS_PER_CALL // batch_size) * batch_size
        total = 0.0
        for start in range(0, users.size, chunk):
            if stopped():
                return None
            part, self.step = train_batches(users, items, targets, order, start, min(start + chunk, users.size),
                                            batch_size, self.tables, self.moments, self.grads, *self._touched,
                                            learning_rate, l2, self.step, sigmoid, self.has_biases,
                                            self.non_negative)
            total += part
        return total / max(users.size, 1)

    def terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(user vectors, user biases, movie vectors, movie biases), live views of the tables."""
        users, items, user_bias, item_bias = self.tables
        n_users, n_items, _ = self.shape
        return (users, user_bias[:, 0] if self.has_biases else np.zeros(n_users, np.float32),
                items, item_bias[:, 0] if self.has_biases else np.zeros(n_items, np.float32))

    def state(self) -> tuple[np.ndarray, ...]:
        """A copy of the tables (the best epoch's, for early stopping)."""
        return tuple(t.copy() for t in self.tables)

    def restore(self, state: tuple[np.ndarray, ...]) -> None:
        for table, kept in zip(self.tables, state):
            table[...] = kept

    def layer_weights(self) -> dict[str, np.ndarray]:
        """The tables by the Keras layer that holds them."""
        users, items, user_bias, item_bias = self.tables
        named = {"user_embedding": users, "item_embedding": items}
        if self.has_biases:
            named.update(user_bias=user_bias, item_bias=item_bias)
        return named


class CompiledSteps:
    """The epochs of a dot-product Keras model through `CompiledTrainer` (for `keras_training.drive`);
    at the end its tables become the weights of the model's Keras network (`building`: held while
    the network is built, as a blend's bag builds its networks from two threads)."""

    def __init__(self, model, building: threading.Lock) -> None:
        self.model, self.building, self.trainer = model, building, None
        self.capture = (lambda epoch, phase, val_rmse: model._capture(
            epoch, phase, val_rmse, self.trainer.tables[1], self.trainer.tables[0])) if model.keeps_snapshots else None

    def start(self, train: Ratings) -> None:
        cfg = self.model.config
        self.trainer = CompiledTrainer(train.n_users, train.n_items, cfg.factors, self.model.has_biases,
                                       cfg.non_negative, cfg.seed)
        self.model.keras_model, self.model._linear = None, self.trainer.terms()  # scoring reads the live tables

    def run(self, loop: EpochLoop, epochs: int, data: Ratings, rng: np.random.Generator, validate) -> None:
        model, cfg = self.model, self.model.config
        users, items, targets = model._epoch_data(data, rng)
        for _ in loop:
            loss = self.trainer.epoch(users, items, targets, rng, cfg.batch_size, cfg.learning_rate, cfg.l2,
                                      model._uses_sigmoid, lambda: loop.stop_requested)
            if loss is None:
                return
            loop.end(loss, *validate())

    def state(self):
        return self.trainer.state()

    def restore(self, state) -> None:
        self.trainer.restore(state)

    def reset(self, seed: int, train: Ratings) -> None:
        self.trainer.reset(seed)

    def finish(self, train: Ratings) -> None:
        model = self.model
        with self.building:
            model.keras_model = model.build(train.n_users, train.n_items)
        for layer, weights in self.trainer.layer_weights().items():
            model.keras_model.get_layer(layer).set_weights([weights])
        model._linear = model._linear_terms()
