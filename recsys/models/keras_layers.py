"""The layers the Keras models are built from: the two index inputs, embeddings with their
initialiser and penalty, bias terms and the ReLU tower. No Lambda layers or custom objects, so
a saved model loads with safe_mode=True."""
from __future__ import annotations


def inputs():
    import keras

    return keras.Input(shape=(), dtype="int32", name="user"), keras.Input(shape=(), dtype="int32", name="item")


def embed(index, count: int, dim: int, l2: float, name: str, init: str = "random_normal",
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


def tower(x, layers: tuple[int, ...], dropout: float, prefix: str):
    import keras

    for depth, units in enumerate(layers):
        x = keras.layers.Dense(units, activation="relu", name=f"{prefix}_dense_{depth}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{depth}")(x)
    return x


def biases(user, item, n_users, n_items, l2):
    bu = embed(user, n_users, 1, l2, "user_bias", init="zeros")
    bi = embed(item, n_items, 1, l2, "item_bias", init="zeros")
    return bu, bi
