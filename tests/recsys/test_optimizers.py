import numpy as np

from recsys.models.optimizers import lazy_adam


def test_lazy_adam_touches_only_the_rows_in_the_batch():
    import keras

    user = keras.Input(shape=(), dtype="int32")
    table = keras.layers.Embedding(10, 3, embeddings_initializer="ones", name="table")
    model = keras.Model(user, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(table(user)))
    model.compile(optimizer=lazy_adam(0.1), loss="mse")
    before = table.get_weights()[0].copy()
    model.fit(np.array([2, 2, 5]), np.zeros((3, 1)), batch_size=3, epochs=3, verbose=0)
    after = table.get_weights()[0]
    changed = np.flatnonzero(np.abs(after - before).sum(axis=1) > 0)
    assert changed.tolist() == [2, 5]
    assert (after[[2, 5]] < before[[2, 5]]).all()  # moved towards the zero target
