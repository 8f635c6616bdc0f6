"""I-AutoRec (Sedhain et al. 2015): an autoencoder over each movie's column of ratings.

Each movie is the vector of its ratings by every user (0 where there is none); one sigmoid hidden
layer encodes it and a linear layer reconstructs it, trained on the observed entries only
(masked squared error) with L2 on the weights. The prediction for (user, movie) is the user's
entry of the movie's reconstruction. Its errors differ from those of the factor and neighbourhood
models, which is what a blend needs.

No refit: the early-stopped network reads every movie's column with the validation ratings in
it (a refit with another seed for the best epoch count was less stable). The input is a dense
movies x users matrix, so the model states its limit (`max_cells`) and
refuses larger data with a clear message. After training, the reconstruction of the training
matrix is all the model needs to answer, so that is what it saves (no Keras file to load).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from recsys.budget import Cost, Shape, rows_cost
from recsys.dataset import Ratings
from recsys.errors import ConfigError
from recsys.models.params import hyper
from recsys.models.base import Recommender
from recsys.models.config import GradientConfig
from recsys.models.loop import EpochCallback, EpochLoop, History


@dataclass(frozen=True)
class AutoRecConfig(GradientConfig):
    hidden: int = hyper(500, "int", "Hidden units", "width of the one hidden layer", low=1, high=4096,
                        search=(100, 1000), log=True, page=True, page_range=(10, 1000))
    l2: float = hyper(0.001, "float", "L2 regularisation", "penalty on the weights", low=0.0, high=100.0,
                      search=(1e-5, 0.1), log=True, page=True, steps=(0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03))
    learning_rate: float = 0.003
    epochs: int = 200
    batch_size: int = 256
    patience: int = 10
    max_cells: int = hyper(50_000_000, "int", "Largest matrix", "movies x users cells it agrees to hold densely",
                           low=1)


def masked_squared_error(y_true, y_pred):
    """Mean squared error over the observed entries (a rating is never 0; 0 means missing)."""
    import keras

    mask = keras.ops.cast(keras.ops.not_equal(y_true, 0.0), y_pred.dtype)
    return keras.ops.sum(mask * keras.ops.square(y_true - y_pred)) / keras.ops.maximum(keras.ops.sum(mask), 1.0)


class AutoRec(Recommender):
    """Item-based AutoRec: reconstruct each movie's ratings from a 500-unit sigmoid code."""

    name = "autorec"
    seconds_per_100k = 10
    config_type = AutoRecConfig
    description = "I-AutoRec: autoencoder over each movie's ratings (dense; small and medium data)"
    learns_from_validation = True
    fits_apart = True  # seeded, and its state is one array: a blend fits it beside its Keras part

    @classmethod
    def estimate(cls, config: AutoRecConfig, shape: Shape) -> Cost:
        cells = shape.n_items * shape.n_users
        parameters = 2 * shape.n_users * config.hidden + config.hidden + shape.n_users
        return Cost(parameters, cells * 4 * 3 + parameters * 4 * 4 + rows_cost(shape),
                    f"a dense {shape.n_items:,} x {shape.n_users:,} movies x users matrix")

    def _matrix(self, ratings: Ratings) -> np.ndarray:
        matrix = np.zeros((self.n_items, self.n_users), dtype=np.float32)
        matrix[ratings.items, ratings.users] = ratings.values
        return matrix

    def _build(self):
        import keras

        cfg = self.config
        regulariser = keras.regularizers.L2(cfg.l2) if cfg.l2 else None
        ratings = keras.Input(shape=(self.n_users,), name="movie_ratings")
        code = keras.layers.Dense(cfg.hidden, activation="sigmoid", kernel_regularizer=regulariser,
                                  name="encoder")(ratings)
        out = keras.layers.Dense(self.n_users, kernel_regularizer=regulariser, name="decoder")(code)
        model = keras.Model(ratings, out, name="autorec")
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=masked_squared_error,
                      jit_compile=False)
        return model

    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        import keras

        cfg = self.config
        cells = self.n_items * self.n_users
        if cells > cfg.max_cells:
            raise ConfigError(f"autorec works on a dense movies x users matrix: {cells:,} cells is more than "
                              f"max_cells ({cfg.max_cells:,}); use it on small and medium data")
        keras.utils.set_random_seed(cfg.seed)
        inputs = self._matrix(train)
        model = self._build()
        loop = EpochLoop(cfg.epochs, callbacks, stop, patience=cfg.patience, snapshot=model.get_weights)
        for _ in loop:
            loss = model.fit(inputs, inputs, batch_size=cfg.batch_size, epochs=1, shuffle=True, verbose=0)
            val_rmse = None
            if valid is not None and len(valid):
                recon = np.asarray(model.predict_on_batch(inputs))
                predicted = self.scale.clip(recon[valid.items, valid.users])
                val_rmse = float(np.sqrt(np.mean((predicted - valid.values) ** 2)))
            loop.end(float(loss.history["loss"][-1]), None, val_rmse)
        history = loop.history
        if history.stopped:
            return history
        if loop.best_state is not None:
            model.set_weights(loop.best_state)
        if valid is not None and len(valid):  # out of sample, then read with the validation ratings too
            self.validation_predictions = self.scale.clip(
                np.asarray(model.predict_on_batch(inputs))[valid.items, valid.users])
            inputs = self._matrix(train.concat(valid))
        self._reconstruction = np.asarray(model.predict_on_batch(inputs), dtype=np.float32)
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
