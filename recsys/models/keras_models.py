"""The Keras latent-factor family: MF, BiasedMF, DeepMF, RecommenderNet, GMF, MLP and NeuMF,
each the score head it puts on the shared `KerasRecommender` (see `keras_base`)."""
from __future__ import annotations

import numpy as np

from recsys.models.keras_base import KerasRecommender
from recsys.models.keras_config import DeepConfig, DotConfig, KerasConfig, RecommenderNetConfig
from recsys.models.keras_layers import biases, embed, tower

__all__ = ["KerasRecommender", "KerasConfig", "DotConfig", "DeepConfig", "MF", "BiasedMF", "RecommenderNet", "DeepMF", "GMF",
           "MLP", "NeuMF"]


class MF(KerasRecommender):
    """Dot product of user and item embeddings around the global mean: r = mu + p_u . q_i.
    With center=False and non_negative=True it is the Keras twin of NMF (r = p_u . q_i, p, q >= 0),
    which the mini demo uses so that its two axes read as "romance" and "sci-fi"."""

    name = "mf"
    seconds_per_100k = 10
    config_type = DotConfig
    description = "dot product of user and item embeddings (L2)"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        return keras.layers.Dot(axes=1, name="score")([p, q])

    def _linear_terms(self):
        p, q = self._weights("user_embedding"), self._weights("item_embedding")
        return p, np.zeros(len(p)), q, np.zeros(len(q))


class BiasedMF(MF):
    """r = mu + b_u + b_i + p_u . q_i."""

    name = "biased-mf"
    seconds_per_100k = 6
    description = "dot product + user bias + item bias + global mean"
    has_biases = True

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        bu, bi = biases(user, item, n_users, n_items, self.config.l2)
        dot = keras.layers.Dot(axes=1, name="dot")([p, q])
        return keras.layers.Add(name="score")([dot, bu, bi])

    def _linear_terms(self):
        return (self._weights("user_embedding"), self._weights("user_bias")[:, 0],
                self._weights("item_embedding"), self._weights("item_bias")[:, 0])


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
    keeps_snapshots = False  # so its training is not replayed on a map either
    config_type = DeepConfig
    description = "concatenated embeddings and biases into dense layers"

    def _head(self, user, item, p, q, n_users, n_items):
        import keras

        cfg = self.config
        bu, bi = biases(user, item, n_users, n_items, cfg.l2)
        x = keras.layers.Concatenate(name="concat")([p, q, bu, bi])
        return keras.layers.Dense(1, name="score")(tower(x, cfg.layers, cfg.dropout, "tower"))


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
        x = tower(keras.layers.Concatenate(name="concat")([p, q]), cfg.layers, cfg.dropout, "tower")
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
        pm = embed(user, n_users, cfg.factors, cfg.l2, "user_embedding_mlp")
        qm = embed(item, n_items, cfg.factors, cfg.l2, "item_embedding_mlp")
        mlp = tower(keras.layers.Concatenate(name="concat")([pm, qm]), cfg.layers, cfg.dropout, "tower")
        return keras.layers.Dense(1, name="score")(keras.layers.Concatenate(name="fuse")([gmf, mlp]))
