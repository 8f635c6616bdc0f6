"""What the Keras latent-factor models share: building, training through the epoch loop,
scoring, fold-in and persistence.

Each model is a small builder from its frozen config to a Keras functional model that maps
(user index, item index) to one raw score. One training loop serves them all, for two
objectives:
- "rating": regress the rating (MSE on the rating minus the global mean; RecommenderNet uses a
  sigmoid on min-max scaled ratings with binary cross-entropy instead);
- "ranking": implicit feedback; every rated item is a positive, `negatives` unrated items per
  positive are sampled afresh each epoch, and the score is a logit under binary cross-entropy
  (He et al. 2017). Ranking models predict a relevance probability, so their RMSE is not
  reported.
L2 regularisation applies to the embeddings looked up in each batch (Keras activity
regularisation, averaged over the batch), not to whole tables every step, which pins rarely seen
vectors at zero. Models are saved in the native `.keras` format and loaded with safe_mode=True;
no Lambda layers or custom objects are used.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np

from recsys.budget import Cost, Shape, rows_cost
from recsys.data.dataset import Ratings
from recsys.distribute import strategy_for
from recsys.errors import ArtifactError
from recsys.models import sizing, snapshots
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.models.factor_training import CompiledSteps
from recsys.models.fold_in import FOLD_IN_BIAS_REG, penalised_logistic
from recsys.models.keras_config import KerasConfig
from recsys.models.keras_layers import embed, inputs
from recsys.models.keras_training import KerasSteps, drive, keras_fit, one_device_copy, with_negatives
from recsys.models.loop import EpochCallback, History
from recsys.models.optimizers import lazy_adam
from recsys.models.outputs import Factors

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PREDICT_BATCH = 1 << 16
#: ratings Keras trains on per call of its compiled function (`steps_per_execution`, at most 64
#: batches): fewer trips through Python per epoch, while the stop flag, read between calls, is
#: still read every fraction of a second (recommender-net, P2: 5.0 s instead of 6.4 s, same weights)
RATINGS_PER_CALL = 1 << 16
_BUILDING = threading.Lock()


class KerasRecommender(Recommender):
    """Shared training loop, scoring and persistence for the Keras models."""
    trains_for_ranking = True
    draws_on_a_map = True
    distributes = True
    keeps_snapshots = True

    config_type: ClassVar[type[ModelConfig]] = KerasConfig

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """The batch grows with the data and the epochs are capped, so a run stays within about
        10 minutes at 25M ratings."""
        return sizing.epochs_at_scale(n_ratings)

    #: "centered" (rating - mean, MSE) or "sigmoid" (min-max scaled, BCE) for the rating objective
    rating_head: ClassVar[str] = "centered"
    #: whether the score has a user bias term (fold-in then solves a bias too)
    has_biases: ClassVar[bool] = False
    learns_from_validation = True
    #: L2 on a folded-in user vector. Measured on ml-100k u1 with 60 users taken out of training
    #: and folded in from their training ratings (test RMSE of those users, bias fallback 1.015):
    #: centred models best at 3 (mf 0.899, biased-mf 0.901; 1: 0.920/0.929, 10: 0.918/0.902),
    #: sigmoid models at 1 in logit space (recommender-net 0.895; 3: 0.903).
    fold_in_reg: ClassVar[float] = 3.0
    #: user/movie embedding tables per side (NeuMF has a GMF and an MLP pair)
    embedding_pairs: ClassVar[int] = 1
    #: the saved network's file name without `.keras` (a blend's bag numbers its networks)
    file_stem: str = "model"

    @classmethod
    def estimate(cls, config: KerasConfig, shape: Shape) -> Cost:
        """Embeddings (and biases), the dense tower, with Adam's two slots and the gradients:
        four float32 copies of every weight, plus the training rows and a batch's activations."""
        entities = shape.n_users + shape.n_items
        embedding = entities * config.factors * cls.embedding_pairs + (entities if cls.has_biases else 0)
        layers = tuple(getattr(config, "layers", ()))
        width, tower = 2 * config.factors + (2 if cls.has_biases else 0), 0
        for units in layers:
            tower += width * units + units
            width = units
        parameters = embedding + tower + width + 1
        activations = config.batch_size * (sum(layers) + 2 * config.factors) * 4 * 3
        detail = f"{config.factors} factors for {entities:,} users and movies"
        if layers:
            detail += f", dense layers {', '.join(map(str, layers))} ({tower:,} weights)"
        kept = snapshots.cost(shape.n_items, shape.n_users, config.factors, 2 * config.epochs) \
            if cls.keeps_snapshots else 0
        return Cost(parameters, parameters * 4 * 4 + rows_cost(shape) + activations + kept, detail)

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__(config)
        self.keras_model = None
        self._offset = 0.0
        self._linear = None

    @property
    def trains_compiled(self) -> bool:
        """Its config asks for the compiled trainer (`DotConfig.trainer`; the others have none)."""
        return getattr(self.config, "trainer", "keras") == "compiled"

    @property
    def fits_in_threads(self) -> bool:
        """Only the compiled trainer: Keras' `fit` seeds and builds through process-wide state."""
        return self.trains_compiled

    # ----- architecture -----
    def build(self, n_users: int, n_items: int):
        """The Keras model mapping (user, item) index batches to a (batch, 1) score: shared inputs
        and embeddings, then the model's own `_head`."""
        import keras

        cfg = self.config
        user, item = inputs()
        p = embed(user, n_users, cfg.factors, cfg.l2, "user_embedding", non_negative=cfg.non_negative)
        q = embed(item, n_items, cfg.factors, cfg.l2, "item_embedding", non_negative=cfg.non_negative)
        score = self._head(user, item, p, q, n_users, n_items)
        return keras.Model([user, item], score, name=self.name)

    def _head(self, user, item, p, q, n_users: int, n_items: int):
        """The layers from the looked-up embeddings p, q to the (batch, 1) score."""
        raise NotImplementedError

    def _linear_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(user_vecs, user_bias, item_vecs, item_bias) when score = bu + bi + p.q (+ offset)."""
        return None

    # ----- objective -----
    @property
    def _uses_sigmoid(self) -> bool:
        return not self.predicts_ratings or self.rating_head == "sigmoid"

    def _rating_targets(self, ratings: Ratings) -> np.ndarray:
        if self.rating_head == "sigmoid":
            return (ratings.values - self.scale.low) / (self.scale.high - self.scale.low)
        return ratings.values - self._offset

    def scores_to_output(self, scores: np.ndarray) -> np.ndarray:
        if not self.predicts_ratings:
            return 1.0 / (1.0 + np.exp(-scores))
        return self.scale.clip(self._score_to_rating(scores))

    def _score_to_rating(self, scores: np.ndarray) -> np.ndarray:
        if self._uses_sigmoid:
            return self.scale.low + (self.scale.high - self.scale.low) / (1.0 + np.exp(-scores))
        return scores + self._offset

    # ----- training -----
    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        centered = self.rating_head == "centered" and self.config.center
        self._offset = train.global_mean if centered else 0.0
        self._linear = None
        steps = CompiledSteps(self, _BUILDING) if self.trains_compiled else \
            KerasSteps(self, lambda: self._compile_network(train), lambda: self._fresh_network(train))
        return drive(self, steps, train, valid, callbacks, stop)

    def _compile_network(self, train: Ratings) -> None:
        """A new network, compiled for Keras' `fit`.

        Measured here (biased-mf, 2 cores): on ml-latest-small, dense Adam 0.67 s per epoch, with
        XLA 0.30, row-sparse LazyAdam without XLA 0.29; on 1M synthetic ratings (batch 65536)
        dense Adam + XLA 9.4 s, LazyAdam 1.7 s, LazyAdam + XLA 3.3 s (XLA cannot compile the row
        de-duplication). So: LazyAdam, no XLA."""
        import keras

        cfg = self.config
        loss = keras.losses.BinaryCrossentropy(from_logits=True) if self._uses_sigmoid else "mse"
        with strategy_for(cfg.strategy).scope():  # variables, optimizer slots and the step on its replicas
            self.keras_model = self.build(train.n_users, train.n_items)
            self.keras_model.compile(optimizer=lazy_adam(cfg.learning_rate), loss=loss, jit_compile=False,
                                     steps_per_execution=max(1, min(64, RATINGS_PER_CALL // cfg.batch_size)))

    def _fresh_network(self, train: Ratings) -> None:
        """Fresh weights and optimizer state in the compiled network (no second trace), for the refit."""
        import keras

        with strategy_for(self.config.strategy).scope():
            self.keras_model.set_weights(self.build(train.n_users, train.n_items).get_weights())
            optimizer = self.keras_model.optimizer
            for variable in optimizer.variables:
                if variable is not optimizer._learning_rate:
                    variable.assign(keras.ops.zeros_like(variable))

    def _capture(self, epoch: int, phase: str, val_rmse: float | None, items: np.ndarray | None = None,
                 users: np.ndarray | None = None) -> snapshots.Snapshot:
        """The sampled movie and user vectors now (the rows of the two embedding tables)."""
        items = self._weights("item_embedding") if items is None else items
        users = self._weights("user_embedding") if users is None else users
        return snapshots.take(epoch, phase, val_rmse, items, users, self.snapshot_items, self.snapshot_users)

    def _to_one_device(self, train: Ratings) -> None:
        if self.config.strategy != "default":
            self.keras_model = one_device_copy(self.keras_model, lambda: self.build(train.n_users, train.n_items),
                                               lazy_adam(self.config.learning_rate))

    def _fit_keras(self, x: list[np.ndarray], y: np.ndarray, epochs: int, callbacks: list,
                   initial_epoch: int = 0):
        cfg = self.config
        return keras_fit(self.keras_model, cfg.strategy, x, y, cfg.batch_size, epochs, initial_epoch, callbacks,
                         cfg.seed)

    def _epoch_data(self, train: Ratings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.predicts_ratings:
            return train.users, train.items, self._rating_targets(train).astype(np.float32)
        return self._with_negatives(train.users, train.items, rng)

    def _with_negatives(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator):
        return with_negatives(users, items, self.n_items, self.config.negatives, rng)

    def _validation_data(self, valid: Ratings, rng: np.random.Generator):
        if self.predicts_ratings:
            return valid.users, valid.items, self._rating_targets(valid)
        return self._with_negatives(valid.users, valid.items, rng)

    def _validate(self, valid: Ratings | None, data) -> tuple[float | None, float | None]:
        if data is None:
            return None, None
        users, items, targets = data
        scores = self._raw_scores(users, items)
        if self._uses_sigmoid:
            probs = np.clip(1.0 / (1.0 + np.exp(-scores)), 1e-7, 1 - 1e-7)
            val_loss = float(-np.mean(targets * np.log(probs) + (1 - targets) * np.log(1 - probs)))
        else:
            val_loss = float(np.mean((scores - targets) ** 2))
        if not self.predicts_ratings:
            return val_loss, None
        predicted = self.scale.clip(self._score_to_rating(scores))
        return val_loss, float(np.sqrt(np.mean((predicted - valid.values) ** 2)))

    # ----- scoring -----
    def _raw_scores(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self._linear is not None:
            p, bu, q, bi = self._linear
            return np.einsum("nk,nk->n", p[users], q[items]) + bu[users] + bi[items]
        users = np.asarray(users, dtype=np.int32)
        items = np.asarray(items, dtype=np.int32)
        out = np.empty(users.size, dtype=np.float32)
        distributed = self.config.strategy != "default"  # its predict_on_batch splits batches over replicas
        for start in range(0, users.size, PREDICT_BATCH):
            batch = [users[start:start + PREDICT_BATCH], items[start:start + PREDICT_BATCH]]
            scores = self.keras_model(batch, training=False) if distributed else self.keras_model.predict_on_batch(batch)
            out[start:start + PREDICT_BATCH] = np.asarray(scores).ravel()
        return out

    def _predict_known(self, users, items):
        return self._score_to_rating(self._raw_scores(users, items))

    def _score_known(self, users):
        users = np.asarray(users, dtype=np.int64)
        if self._linear is not None:
            p, bu, q, bi = self._linear
            return p[users] @ q.T + bu[users][:, None] + bi[None, :]
        grid_u = np.repeat(users, self.n_items)
        grid_i = np.tile(np.arange(self.n_items), users.size)
        return self._raw_scores(grid_u, grid_i).reshape(users.size, self.n_items)

    def _weights(self, layer: str) -> np.ndarray:
        return np.asarray(self.keras_model.get_layer(layer).get_weights()[0])

    def factors(self) -> Factors:
        return Factors(self._weights("user_embedding"), self._weights("item_embedding"))

    @property
    def can_fold_in(self) -> bool:
        """Models whose score is linear in the user vector (mf, biased-mf, recommender-net, gmf)."""
        return self._linear is not None

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Scores of every item for a new user, without retraining: the user's vector (and, for
        models with biases, their bias) fitted to their ratings against the trained movie vectors
        and biases with an L2 penalty: ridge regression in closed form for the centred models,
        the same penalised fit by Newton's method (IRLS) on the sigmoid models' cross-entropy
        in logit space, or on liked/disliked labels for ranking models."""
        _, bu, q, bi = self._linear
        has_bias = self.has_biases
        basis = q[items] if not has_bias else np.hstack([q[items], np.ones((items.size, 1))])
        penalty = np.full(basis.shape[1], self.fold_in_reg)
        if has_bias:
            penalty[-1] = FOLD_IN_BIAS_REG
        if self._uses_sigmoid:
            if self.predicts_ratings:
                targets = (ratings - self.scale.low) / (self.scale.high - self.scale.low)
            else:
                targets = (ratings >= (self.scale.low + self.scale.high) / 2).astype(np.float64)
            weights = penalised_logistic(basis, targets, bi[items], penalty)
        else:
            targets = ratings - self._offset - bi[items]
            weights = np.linalg.solve(basis.T @ basis + np.diag(penalty), basis.T @ targets)
        user_bias = weights[-1] if has_bias else 0.0
        return q @ weights[: q.shape[1]] + bi + user_bias

    # ----- persistence -----
    def _state(self):
        return {"offset": np.array([self._offset])}

    def _load_state(self, arrays):
        self._offset = float(arrays["offset"][0])

    def _save_extra(self, folder: Path) -> None:
        self.keras_model.save(folder / f"{self.file_stem}.keras")

    def _load_extra(self, folder: Path) -> None:
        import keras

        path = folder / f"{self.file_stem}.keras"
        try:
            self.keras_model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # Keras raises many types for a bad file; all mean "corrupt"
            raise ArtifactError(f"{path} could not be loaded safely: {type(error).__name__}: "
                                f"{str(error)[:300]}") from None
        shapes = [tuple(w.shape) for w in self.keras_model.get_layer("user_embedding").get_weights()] + \
                 [tuple(w.shape) for w in self.keras_model.get_layer("item_embedding").get_weights()]
        if shapes[0][0] != self.n_users or shapes[1][0] != self.n_items:
            raise ArtifactError(f"{path} embeddings {shapes} do not match {self.n_users} users x {self.n_items} items")
        self._linear = self._linear_terms()
