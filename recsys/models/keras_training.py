"""The one training driver of the Keras models (`drive`: early stopping on the validation part,
the best state kept, out-of-sample validation predictions, then a refit from fresh seed+1 weights on
train + validation for the best epoch count), run with Keras' own `fit` (`KerasSteps`) or the
compiled trainer of the dot-product models (`factor_training.CompiledSteps`); how Keras' epochs
meet the shared epoch loop; and, under multi-worker distribution, the loop Keras' `fit` cannot run."""
from __future__ import annotations

from types import SimpleNamespace
import threading
from typing import Callable, Protocol

import numpy as np

from recsys.data.dataset import Ratings
from recsys.models import snapshots
from recsys.models.loop import EpochCallback, EpochLoop, History


def strategy_fit(model, strategy, x: list[np.ndarray], y: np.ndarray, batch_size: int, epochs: int,
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


def keras_listener(loop: EpochLoop, validate: Callable[[], tuple[float | None, float | None]]):
    """A Keras callback that hands Keras' epochs to the shared `EpochLoop`: the stop flag after
    every batch, the validation scores and the loss at each epoch's end."""
    import keras

    class Listener(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            loop.begin(epoch)

        def on_train_batch_end(self, batch, logs=None):
            if loop.stop_requested:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if loop.history.stopped:
                return
            val_loss, val_rmse = validate()
            loop.end(float((logs or {}).get("loss", np.nan)), val_loss, val_rmse)
            if loop.finished:
                self.model.stop_training = True

    return Listener()


def keras_fit(model, strategy: str, x: list[np.ndarray], y: np.ndarray, batch_size: int, epochs: int,
              initial_epoch: int, callbacks: list, seed: int):
    """Keras' `fit` (default and mirrored strategies), or, under multi-worker, the same loop
    written with `strategy.run`: Keras 3's `fit` cannot feed MultiWorkerMirroredStrategy (it hands
    a PerReplica value to the model; keras-team/keras #20585)."""
    from recsys.distribute import strategy_for

    if strategy != "multi-worker":
        return model.fit(x, y, batch_size=batch_size, initial_epoch=initial_epoch, epochs=epochs, shuffle=True,
                         verbose=0, callbacks=callbacks)
    return strategy_fit(model, strategy_for(strategy), x, y, batch_size, epochs, initial_epoch, callbacks, seed)


def one_device_copy(model, build: Callable, optimizer):
    """A model trained under a strategy as an ordinary one-device Keras model with the same
    weights, so scoring, saving and loading never depend on the strategy."""
    import tensorflow as tf

    with tf.distribute.get_strategy().scope():
        plain = build()
    plain.set_weights(model.get_weights())
    plain.compile(optimizer=optimizer, loss=model.loss, jit_compile=False)
    return plain


def with_negatives(users: np.ndarray, items: np.ndarray, n_items: int, negatives: int, rng: np.random.Generator):
    """Positives plus `negatives` sampled unrated items per positive, labelled 1 and 0."""
    neg_users = np.repeat(users, negatives)
    neg_items = rng.integers(0, n_items, neg_users.size, dtype=np.int64)
    seen_keys = (users.astype(np.int64) * n_items + items).copy()
    seen_keys.sort()
    for _ in range(3):  # resample the few negatives that hit a rated item
        keys = neg_users.astype(np.int64) * n_items + neg_items
        pos = np.searchsorted(seen_keys, keys)
        hit = seen_keys[np.minimum(pos, seen_keys.size - 1)] == keys
        if not hit.any():
            break
        neg_items[hit] = rng.integers(0, n_items, int(hit.sum()))
    all_users = np.concatenate([users, neg_users]).astype(np.int32)
    all_items = np.concatenate([items, neg_items]).astype(np.int32)
    labels = np.concatenate([np.ones(users.size), np.zeros(neg_users.size)]).astype(np.float32)
    return all_users, all_items, labels


class Steps(Protocol):
    """How one trainer runs the epochs `drive` asks for."""

    capture: Callable | None

    def start(self, train: Ratings) -> None: ...
    def run(self, loop: EpochLoop, epochs: int, data: Ratings, rng: np.random.Generator, validate) -> None: ...
    def state(self): ...
    def restore(self, state) -> None: ...
    def reset(self, seed: int, train: Ratings) -> None: ...
    def finish(self, train: Ratings) -> None: ...


def drive(model, steps: Steps, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
          stop: threading.Event | None) -> History:
    """Fit with early stopping on `valid` (the best state kept), predict `valid` out of sample (for
    blends), then refit from fresh seed+1 weights on train + valid for the best epoch count; a stop
    during the refit keeps the early-stopped state."""
    cfg = model.config
    steps.start(train)
    rng = np.random.default_rng(cfg.seed)
    has_valid = valid is not None and len(valid) > 0
    valid_data = model._validation_data(valid, rng) if has_valid else None
    model.snapshot_items, model.snapshot_users = snapshots.sample(train)
    loop = EpochLoop(cfg.epochs, callbacks, stop, patience=cfg.patience, snapshot=steps.state, capture=steps.capture)
    steps.run(loop, cfg.epochs, train, rng, lambda: model._validate(valid, valid_data))
    if loop.best_state is not None:
        steps.restore(loop.best_state)
    history = loop.history
    model.snapshots = history.snapshots
    if has_valid:  # out of sample, before the refit sees them
        model.validation_predictions = model.scale.clip(model._predict_known(valid.users, valid.items))
        if cfg.refit and history.best_epoch and not history.stopped:
            best, epochs = steps.state(), int(history.best_epoch)
            steps.reset(cfg.seed + 1, train)
            refit = EpochLoop(epochs, callbacks, stop, phase="refit", history=history, capture=steps.capture)
            steps.run(refit, epochs, train.concat(valid), rng, lambda: (None, None))
            if history.stopped:
                steps.restore(best)
    steps.finish(train)
    return history


class KerasSteps:
    """Epochs through Keras' `fit`: the whole run in one call for rating models, one call per epoch
    (fresh negatives) for ranking ones."""

    def __init__(self, model, compile_model: Callable[[], None], fresh_start: Callable[[], None]) -> None:
        self.model, self._compile, self._fresh = model, compile_model, fresh_start
        self.capture = model._capture if model.keeps_snapshots else None

    def start(self, train: Ratings) -> None:
        import keras

        keras.utils.set_random_seed(self.model.config.seed)
        self._compile()

    def run(self, loop: EpochLoop, epochs: int, data: Ratings, rng: np.random.Generator, validate) -> None:
        model, listener = self.model, keras_listener(loop, validate)
        if model.predicts_ratings:  # one Keras loop over fixed data: no per-epoch call overhead
            users, items, targets = model._epoch_data(data, rng)
            model._fit_keras([users, items], targets[:, None], epochs=epochs, callbacks=[listener])
            return
        for epoch in range(epochs):  # fresh negatives every epoch
            users, items, targets = model._epoch_data(data, rng)
            model._fit_keras([users, items], targets[:, None], initial_epoch=epoch, epochs=epoch + 1,
                             callbacks=[listener])
            if loop.finished or loop.history.stopped:
                break

    def state(self):
        return self.model.keras_model.get_weights()

    def restore(self, state) -> None:
        self.model.keras_model.set_weights(state)

    def reset(self, seed: int, train: Ratings) -> None:
        import keras

        keras.utils.set_random_seed(seed)
        self._fresh()

    def finish(self, train: Ratings) -> None:
        self.model._to_one_device(train)
        self.model._linear = self.model._linear_terms()
