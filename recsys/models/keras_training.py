"""How Keras' epochs meet the shared epoch loop: a callback that hands each batch and epoch to
`EpochLoop`, and, under multi-worker distribution, the training loop Keras' `fit` cannot run."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

import numpy as np

from recsys.models.loop import EpochLoop


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
