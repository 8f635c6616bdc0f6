"""The Keras latent-factor family: MF, BiasedMF, DeepMF, RecommenderNet, GMF, MLP and NeuMF.

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
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np

from recsys.budget import Cost, Shape, rows_cost
from recsys.dataset import Ratings
from recsys.distribute import STRATEGIES, strategy_for
from recsys.errors import ArtifactError
from recsys.models.optimizers import lazy_adam
from recsys.models.base import EpochCallback, EpochLog, Factors, GradientConfig, History, ModelConfig, Recommender
from recsys.models import sizing
from recsys.models.params import hyper

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
OBJECTIVES = ("rating", "ranking")
PREDICT_BATCH = 1 << 16


@dataclass(frozen=True)
class KerasConfig(GradientConfig):
    """Hyper-parameters shared by the Keras models (defaults tuned on ml-latest-small)."""

    factors: int = hyper(64, "int", "Factors", "length of each user's and movie's latent vector", low=1, high=1024,
                         search=(8, 256), log=True, page=True, page_range=(1, 256))
    l2: float | None = hyper(None, "float", "L2 regularisation",
                             "penalty on the embeddings (unset: 0.1 for ratings, 0.01 for ranking)", low=0.0,
                             high=10.0, search=(1e-4, 1.0), log=True, page=True,
                             steps=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0))
    objective: str = hyper("rating", "choice", "Objective", "predict ratings, or rank movies from implicit feedback",
                           choices=OBJECTIVES)
    negatives: int = hyper(4, "int", "Negatives", "unrated movies sampled per rating (ranking objective)",
                           low=1, high=100, search=(1, 10))
    center: bool = hyper(True, "bool", "Centre", "learn ratings around the global mean")
    non_negative: bool = hyper(False, "bool", "Non-negative", "keep the factors at or above zero")
    refit: bool = hyper(True, "bool", "Refit", "after early stopping, train again on all training data")
    strategy: str = hyper("default", "choice", "Distribution",
                          "tf.distribute for training: default, mirrored or multi-worker (see recsys.distribute)",
                          choices=STRATEGIES)
    #: L2 used when `l2` is left as None, by objective (ranking logits want a lighter penalty)
    default_l2: ClassVar[dict[str, float]] = {"rating": 0.1, "ranking": 0.01}

    def __post_init__(self) -> None:
        if self.l2 is None and self.objective in self.default_l2:
            object.__setattr__(self, "l2", self.default_l2[self.objective])
        super().__post_init__()


MAX_LAYERS = 8
MAX_UNITS = 4096


@dataclass(frozen=True)
class DeepConfig(KerasConfig):
    """Adds a dense tower: `layers` sizes (ReLU) and `dropout` between them."""

    factors: int = 32
    layers: tuple[int, ...] = hyper((64, 32), "sizes", "Dense layers",
                                    "sizes of the ReLU layers, first to last; deeper towers do not help these models "
                                    "and their cost grows with every layer",
                                    low=1, high=MAX_UNITS, max_count=MAX_LAYERS, page=True)
    dropout: float = hyper(0.0, "float", "Dropout", "fraction of units dropped between dense layers", low=0.0,
                           high=0.9, search=(0.0, 0.5))
    learning_rate: float = 0.002


def _inputs():
    import keras

    return keras.Input(shape=(), dtype="int32", name="user"), keras.Input(shape=(), dtype="int32", name="item")


def _embed(index, count: int, dim: int, l2: float, name: str, init: str = "random_normal",
           non_negative: bool = False):
    import keras

    if init == "random_normal":
        initializer = keras.initializers.RandomUniform(0.0, 0.1) if non_negative else \
            keras.initializers.RandomNormal(stddev=0.05)
    else:
        initializer = init
    return keras.layers.Embedding(count, dim, embeddings_initializer=initializer, name=name,
                                  embeddings_constraint=keras.constraints.NonNeg() if non_negative else None,
                                  activity_regularizer=keras.regularizers.L2(l2) if l2 else None)(index)


def _tower(x, layers: tuple[int, ...], dropout: float, prefix: str):
    import keras

    for depth, units in enumerate(layers):
        x = keras.layers.Dense(units, activation="relu", name=f"{prefix}_dense_{depth}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{depth}")(x)
    return x


class KerasRecommender(Recommender):
    """Shared training loop, scoring and persistence for the Keras models."""
    trains_for_ranking = True
    draws_on_a_map = True
    distributes = True

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
        return Cost(parameters, parameters * 4 * 4 + rows_cost(shape) + activations, detail)

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__(config)
        self.keras_model = None
        self._offset = 0.0
        self._linear = None

    # ----- architecture -----
    def build(self, n_users: int, n_items: int):
        """The Keras model mapping (user, item) index batches to a (batch, 1) score: shared inputs
        and embeddings, then the model's own `_head`."""
        import keras

        cfg = self.config
        user, item = _inputs()
        p = _embed(user, n_users, cfg.factors, cfg.l2, "user_embedding", non_negative=cfg.non_negative)
        q = _embed(item, n_items, cfg.factors, cfg.l2, "item_embedding", non_negative=cfg.non_negative)
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
        import keras

        cfg = self.config
        keras.utils.set_random_seed(cfg.seed)
        centered = self.rating_head == "centered" and self.config.center
        self._offset = train.global_mean if centered else 0.0
        self._linear = None
        loss = keras.losses.BinaryCrossentropy(from_logits=True) if self._uses_sigmoid else "mse"
        # Measured here (biased-mf, 2 cores): on ml-latest-small, dense Adam 0.67 s per epoch, with
        # XLA 0.30, row-sparse LazyAdam without XLA 0.29; on 1M synthetic ratings (batch 65536)
        # dense Adam + XLA 9.4 s, LazyAdam 1.7 s, LazyAdam + XLA 3.3 s (XLA cannot compile the
        # row de-duplication). So: LazyAdam, no XLA.
        with strategy_for(cfg.strategy).scope():  # variables, optimizer slots and the step on its replicas
            self.keras_model = self.build(train.n_users, train.n_items)
            self.keras_model.compile(optimizer=lazy_adam(cfg.learning_rate), loss=loss, jit_compile=False)
        rng = np.random.default_rng(cfg.seed)
        valid_data = self._validation_data(valid, rng) if valid is not None and len(valid) else None
        monitor = _EpochMonitor(self, valid, valid_data, callbacks, stop)
        if self.predicts_ratings:  # one Keras loop over fixed data: no per-epoch call overhead
            users, items, targets = self._epoch_data(train, rng)
            self._fit_keras([users, items], targets[:, None], epochs=cfg.epochs, callbacks=[monitor.callback])
        else:  # fresh negatives every epoch
            for epoch in range(cfg.epochs):
                users, items, targets = self._epoch_data(train, rng)
                self._fit_keras([users, items], targets[:, None], initial_epoch=epoch, epochs=epoch + 1,
                                callbacks=[monitor.callback])
                if monitor.finished:
                    break
        if monitor.best_weights is not None:
            self.keras_model.set_weights(monitor.best_weights)
        history = monitor.history
        if valid is not None and len(valid):  # out-of-sample, before any refit sees them (for blends)
            self.validation_predictions = self.scale.clip(self._predict_known(valid.users, valid.items))
        if cfg.refit and valid is not None and len(valid) and history.best_epoch and not history.stopped:
            self._refit(train, valid, history, callbacks, stop, rng)
        self._to_one_device(train)
        self._linear = self._linear_terms()
        return history

    def _refit(self, train: Ratings, valid: Ratings, history: History, callbacks: list[EpochCallback],
               stop: threading.Event | None, rng: np.random.Generator) -> None:
        """Train a fresh model on train + validation for the best epoch count found with early
        stopping: the validation ratings are used for learning too, not only for choosing when to
        stop. The early-stopped weights stay if this run is stopped."""
        import keras

        cfg, epochs = self.config, int(history.best_epoch)
        everything = train.concat(valid)
        best_model = self.keras_model
        keras.utils.set_random_seed(cfg.seed + 1)
        with strategy_for(cfg.strategy).scope():
            self.keras_model = self.build(train.n_users, train.n_items)
            self.keras_model.compile(optimizer=lazy_adam(cfg.learning_rate), loss=best_model.loss, jit_compile=False)
        monitor = _EpochMonitor(self, None, None, [], stop)
        for epoch in range(epochs):
            users, items, targets = self._epoch_data(everything, rng)
            started = time.perf_counter()
            result = self._fit_keras([users, items], targets[:, None], initial_epoch=epoch, epochs=epoch + 1,
                                     callbacks=[monitor.callback])
            if monitor.history.stopped:
                self.keras_model = best_model
                return
            log = EpochLog(epoch + 1, epochs, float(result.history["loss"][-1]), None, None,
                           time.perf_counter() - started, phase="refit")
            history.logs.append(log)
            for callback in callbacks:
                callback(log)

    def _to_one_device(self, train: Ratings) -> None:
        """A model trained under a strategy becomes an ordinary one-device Keras model with the
        same weights, so scoring, saving and loading never depend on the strategy."""
        if self.config.strategy == "default":
            return
        import tensorflow as tf

        with tf.distribute.get_strategy().scope():
            plain = self.build(train.n_users, train.n_items)
        plain.set_weights(self.keras_model.get_weights())
        plain.compile(optimizer=lazy_adam(self.config.learning_rate), loss=self.keras_model.loss, jit_compile=False)
        self.keras_model = plain

    def _fit_keras(self, x: list[np.ndarray], y: np.ndarray, epochs: int, callbacks: list,
                   initial_epoch: int = 0):
        """Keras' `fit` (default and mirrored strategies), or, under multi-worker, the same loop
        written with `strategy.run`: Keras 3's `fit` cannot feed MultiWorkerMirroredStrategy
        (it hands a PerReplica value to the model; keras-team/keras #20585)."""
        cfg = self.config
        if cfg.strategy != "multi-worker":
            return self.keras_model.fit(x, y, batch_size=cfg.batch_size, initial_epoch=initial_epoch, epochs=epochs,
                                        shuffle=True, verbose=0, callbacks=callbacks)
        return _strategy_fit(self.keras_model, strategy_for(cfg.strategy), x, y, cfg.batch_size, epochs,
                             initial_epoch, callbacks, cfg.seed)

    def _epoch_data(self, train: Ratings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.predicts_ratings:
            return train.users, train.items, self._rating_targets(train).astype(np.float32)
        return self._with_negatives(train.users, train.items, rng)

    def _with_negatives(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator):
        """Positives plus `negatives` sampled unrated items per positive, labelled 1 and 0."""
        n_neg = self.config.negatives
        neg_users = np.repeat(users, n_neg)
        neg_items = rng.integers(0, self.n_items, neg_users.size, dtype=np.int64)
        seen_keys = (users.astype(np.int64) * self.n_items + items).copy()
        seen_keys.sort()
        for _ in range(3):  # resample the few negatives that hit a rated item
            keys = neg_users.astype(np.int64) * self.n_items + neg_items
            pos = np.searchsorted(seen_keys, keys)
            hit = seen_keys[np.minimum(pos, seen_keys.size - 1)] == keys
            if not hit.any():
                break
            neg_items[hit] = rng.integers(0, self.n_items, int(hit.sum()))
        all_users = np.concatenate([users, neg_users]).astype(np.int32)
        all_items = np.concatenate([items, neg_items]).astype(np.int32)
        labels = np.concatenate([np.ones(users.size), np.zeros(neg_users.size)]).astype(np.float32)
        return all_users, all_items, labels

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
            weights = _penalised_logistic(basis, targets, bi[items], penalty)
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
        self.keras_model.save(folder / "model.keras")

    def _load_extra(self, folder: Path) -> None:
        import keras

        path = folder / "model.keras"
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


FOLD_IN_BIAS_REG = 3.0  # L2 on a folded-in user bias


def _penalised_logistic(basis: np.ndarray, targets: np.ndarray, offset: np.ndarray, penalty: np.ndarray,
                        steps: int = 25) -> np.ndarray:
    """Weights w minimising the cross-entropy of sigmoid(basis @ w + offset) against targets in
    [0, 1] plus sum(penalty * w^2) / 2, by Newton's method (a small, convex problem)."""
    weights = np.zeros(basis.shape[1])
    for _ in range(steps):
        prob = 1.0 / (1.0 + np.exp(-(basis @ weights + offset)))
        gradient = basis.T @ (prob - targets) + penalty * weights
        hessian = (basis * (prob * (1 - prob))[:, None]).T @ basis + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


def _strategy_fit(model, strategy, x: list[np.ndarray], y: np.ndarray, batch_size: int, epochs: int,
                  initial_epoch: int, callbacks: list, seed: int) -> SimpleNamespace:
    """A custom training loop with `strategy.run`: each global batch (a seeded permutation per
    epoch, the same on every worker) is split across the replicas, the per-example loss is averaged
    over the global batch and the gradients (sparse ones as IndexedSlices) are all-reduced by the
    optimizer. Keras callbacks see the same hooks as under `fit`; returns `.history["loss"]`."""
    import keras
    import tensorflow as tf

    per_example = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
    if isinstance(per_example, keras.losses.Loss):
        per_example = per_example.call  # unreduced, one value per example

    @tf.function
    def step(users, items, targets):
        def replica(users, items, targets):
            with tf.GradientTape() as tape:
                predicted = model([users, items], training=True)
                loss = tf.nn.compute_average_loss(tf.reshape(per_example(targets, predicted), [-1]),
                                                  global_batch_size=batch_size)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica, args=(users, items, targets)),
                               axis=None)

    rng = np.random.default_rng(seed + initial_epoch)
    history: dict[str, list[float]] = {"loss": []}
    for callback in callbacks:
        callback.set_model(model)
    model.stop_training = False
    for epoch in range(initial_epoch, epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        order = rng.permutation(len(y))
        batches = tf.data.Dataset.from_tensor_slices((x[0][order], x[1][order], y[order].astype(np.float32)))
        total, count = 0.0, 0
        for batch, (users, items, targets) in enumerate(strategy.experimental_distribute_dataset(
                batches.batch(batch_size))):
            total += float(step(users, items, targets))
            count += 1
            for callback in callbacks:
                callback.on_train_batch_end(batch)
            if model.stop_training:
                break
        logs = {"loss": total / max(count, 1)}
        history["loss"].append(logs["loss"])
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return SimpleNamespace(history=history)


class _EpochMonitor:
    """Per-epoch validation, logging, early stopping with best weights, and the stop flag
    (checked after every batch), as one Keras callback."""

    def __init__(self, owner: KerasRecommender, valid: Ratings | None, valid_data,
                 callbacks: list[EpochCallback], stop: threading.Event | None) -> None:
        import keras

        self.history = History()
        self.best_weights = None
        self.finished = False
        best = {"metric": np.inf, "waited": 0, "started": time.perf_counter()}
        monitor = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                best["started"] = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                if stop is not None and stop.is_set():
                    monitor.history.stopped = monitor.finished = True
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                if monitor.history.stopped:
                    return
                cfg = owner.config
                val_loss, val_rmse = owner._validate(valid, valid_data)
                log = EpochLog(epoch + 1, cfg.epochs, float((logs or {}).get("loss", np.nan)), val_loss,
                               val_rmse, time.perf_counter() - best["started"])
                monitor.history.logs.append(log)
                for callback in callbacks:
                    callback(log)
                metric = val_rmse if val_rmse is not None else val_loss
                if metric is None:
                    monitor.history.best_epoch = epoch + 1
                elif metric < best["metric"] - 1e-5:
                    best.update(metric=metric, waited=0)
                    monitor.best_weights = self.model.get_weights()
                    monitor.history.best_epoch = epoch + 1
                else:
                    best["waited"] += 1
                    if best["waited"] > cfg.patience:
                        monitor.finished = True
                        self.model.stop_training = True

        self.callback = Callback()


class MF(KerasRecommender):
    """Dot product of user and item embeddings around the global mean: r = mu + p_u . q_i.
    With center=False and non_negative=True it is the Keras twin of NMF (r = p_u . q_i, p, q >= 0),
    which the mini demo uses so that its two axes read as "romance" and "sci-fi"."""

    name = "mf"
    seconds_per_100k = 10
    description = "dot product of user and item embeddings (L2)"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        return keras.layers.Dot(axes=1, name="score")([p, q])

    def _linear_terms(self):
        p, q = self._weights("user_embedding"), self._weights("item_embedding")
        return p, np.zeros(len(p)), q, np.zeros(len(q))


def _biases(user, item, n_users, n_items, l2):
    bu = _embed(user, n_users, 1, l2, "user_bias", init="zeros")
    bi = _embed(item, n_items, 1, l2, "item_bias", init="zeros")
    return bu, bi


class BiasedMF(MF):
    """r = mu + b_u + b_i + p_u . q_i."""

    name = "biased-mf"
    seconds_per_100k = 6
    description = "dot product + user bias + item bias + global mean"
    has_biases = True

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        bu, bi = _biases(user, item, n_users, n_items, self.config.l2)
        dot = keras.layers.Dot(axes=1, name="dot")([p, q])
        return keras.layers.Add(name="score")([dot, bu, bi])

    def _linear_terms(self):
        return (self._weights("user_embedding"), self._weights("user_bias")[:, 0],
                self._weights("item_embedding"), self._weights("item_bias")[:, 0])


@dataclass(frozen=True)
class RecommenderNetConfig(KerasConfig):
    """RecommenderNet works in logit space, where a lighter L2 fits best."""

    default_l2: ClassVar[dict[str, float]] = {"rating": 0.01, "ranking": 0.01}


class RecommenderNet(BiasedMF):
    """The Keras example's model, fixed: sigmoid(p_u . q_i + b_u + b_i) on min-max scaled ratings
    with binary cross-entropy, rescaled to the rating scale. The original computes
    `ops.tensordot(user, movie, 2)`, which sums over the whole batch so every row shares one
    interaction term; here the dot product is per row (`Dot(axes=1)`)."""

    name = "recommender-net"
    seconds_per_100k = 8
    config_type = RecommenderNetConfig
    rating_head = "sigmoid"
    fold_in_reg = 1.0
    description = "sigmoid(dot + biases) on scaled ratings, per-row dot product"


class DeepMF(KerasRecommender):
    """Concatenated user/item embeddings and biases into a configurable dense tower."""

    name = "deep-mf"
    seconds_per_100k = 6
    draws_on_a_map = False  # its embeddings are concatenated into dense layers, never compared
    config_type = DeepConfig
    description = "concatenated embeddings and biases into dense layers"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        cfg = self.config
        bu, bi = _biases(user, item, n_users, n_items, cfg.l2)
        x = keras.layers.Concatenate(name="concat")([p, q, bu, bi])
        return keras.layers.Dense(1, name="score")(_tower(x, cfg.layers, cfg.dropout, "tower"))


class GMF(KerasRecommender):
    """Generalised MF (He et al. 2017): a learned weighting of p_u * q_i."""

    name = "gmf"
    seconds_per_100k = 5
    scores_by_dot_product = False  # h . (p * q): each factor weighed before the sum
    description = "NCF: weighted element-wise product of embeddings"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        return keras.layers.Dense(1, name="score")(keras.layers.Multiply(name="product")([p, q]))

    def _linear_terms(self):
        weight, bias = self.keras_model.get_layer("score").get_weights()
        p = self._weights("user_embedding")
        q = self._weights("item_embedding") * weight[:, 0][None, :]
        return p, np.zeros(len(p)), q, np.full(len(q), float(bias[0]))


class MLP(KerasRecommender):
    """NCF's MLP: concatenated embeddings through a ReLU tower."""

    name = "mlp"
    seconds_per_100k = 6
    config_type = DeepConfig
    description = "NCF: concatenated embeddings through a ReLU tower"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        cfg = self.config
        x = _tower(keras.layers.Concatenate(name="concat")([p, q]), cfg.layers, cfg.dropout, "tower")
        return keras.layers.Dense(1, name="score")(x)


class NeuMF(KerasRecommender):
    """NCF's NeuMF: a GMF branch and an MLP branch (separate embeddings) fused by one dense layer."""

    embedding_pairs = 2
    name = "neumf"
    seconds_per_100k = 8
    config_type = DeepConfig
    description = "NCF: GMF and MLP branches fused"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        cfg = self.config
        gmf = keras.layers.Multiply(name="product")([p, q])
        pm = _embed(user, n_users, cfg.factors, cfg.l2, "user_embedding_mlp")
        qm = _embed(item, n_items, cfg.factors, cfg.l2, "item_embedding_mlp")
        mlp = _tower(keras.layers.Concatenate(name="concat")([pm, qm]), cfg.layers, cfg.dropout, "tower")
        return keras.layers.Dense(1, name="score")(keras.layers.Concatenate(name="fuse")([gmf, mlp]))
