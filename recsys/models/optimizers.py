"""A sparse-aware Adam for embedding tables.

Keras' Adam turns an embedding gradient (a `tf.IndexedSlices` holding only the rows in the batch)
into a dense update of the whole table and of both moment tables, every step. With 160k users and
60k movies that dense work, not the model, decides the speed. `LazyAdam` updates the moments and
the weights of the rows in the batch only (as TensorFlow Addons' LazyAdam did); dense variables
get ordinary Adam."""
from __future__ import annotations

_CLASS = None


def lazy_adam(learning_rate: float):
    """A LazyAdam optimizer (the class is built on first use so TensorFlow loads lazily)."""
    global _CLASS
    if _CLASS is None:
        _CLASS = _build_class()
    return _CLASS(learning_rate)


def _build_class():
    import keras
    import tensorflow as tf
    from keras import ops

    @keras.saving.register_keras_serializable(package="recsys")
    class LazyAdam(keras.optimizers.Adam):
        """Adam that, for sparse (embedding) gradients, touches only the rows in the batch."""

        def update_step(self, gradient, variable, learning_rate):
            if not isinstance(gradient, tf.IndexedSlices):
                return super().update_step(gradient, variable, learning_rate)
            dtype = variable.dtype
            rows, positions = tf.unique(gradient.indices)
            grads = tf.cast(tf.math.unsorted_segment_sum(gradient.values, positions, tf.shape(rows)[0]), dtype)
            step = ops.cast(self.iterations + 1, dtype)
            beta_1_power = ops.power(ops.cast(self.beta_1, dtype), step)
            beta_2_power = ops.power(ops.cast(self.beta_2, dtype), step)
            alpha = ops.cast(learning_rate, dtype) * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            index = self._get_variable_index(variable)
            m, v = self._momentums[index], self._velocities[index]
            m_rows = self.beta_1 * tf.gather(m.value, rows) + (1 - self.beta_1) * grads
            v_rows = self.beta_2 * tf.gather(v.value, rows) + (1 - self.beta_2) * tf.square(grads)
            self.assign(m, tf.IndexedSlices(m_rows, rows))
            self.assign(v, tf.IndexedSlices(v_rows, rows))
            self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon), rows))

    return LazyAdam
