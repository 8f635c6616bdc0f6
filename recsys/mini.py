"""The mini romance/sci-fi demo: factorise the 4 x 5 matrix with NMF and with the 2-factor Keras
model, and report P, Q, the reconstruction and the predicted blanks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.models import Recommender, make_model
from recsys.readers import MINI_MATRIX, MINI_MOVIES, MINI_USERS, mini_dataset

#: The Keras model of the demo: r = p.q with p, q >= 0 and 2 factors (the Keras twin of NMF).
MINI_KERAS_CONFIG = dict(factors=2, epochs=80, learning_rate=0.05, l2=0.0, batch_size=2, patience=0,
                         center=False, non_negative=True, seed=7)
FACTOR_NAMES = ("romance", "sci-fi")


@dataclass(frozen=True)
class MiniFactorisation:
    """One model's view of the mini matrix."""

    model: str
    user_factors: pd.DataFrame     # P, 4 x 2
    movie_factors: pd.DataFrame    # Q, 5 x 2
    reconstruction: pd.DataFrame   # 4 x 5 predicted ratings
    blanks: pd.DataFrame           # user, movie, predicted


def factorise(model_name: str, matrix: np.ndarray | None = None) -> MiniFactorisation:
    """Fit `model_name` ("nmf" or "mf") on all known cells of the (possibly edited) mini matrix."""
    grid = MINI_MATRIX if matrix is None else np.asarray(matrix, dtype=float)
    dataset = mini_dataset(grid)
    model: Recommender = make_model("nmf") if model_name == "nmf" else make_model("mf", **MINI_KERAS_CONFIG)
    model.fit(dataset.ratings)
    users = np.repeat(np.arange(4), 5)
    items = np.tile(np.arange(5), 4)
    # dataset indices follow sorted raw ids; map them back to the fixed display order
    user_index = [dataset.user_index(u) for u in MINI_USERS]
    item_index = [dataset.item_index(m) for m in MINI_MOVIES]
    predicted = model.predict(np.array(user_index)[users], np.array(item_index)[items]).reshape(4, 5)
    factors = model.factors()
    p, q = _orient(factors.users[user_index], factors.items[item_index])
    recon = pd.DataFrame(predicted, index=list(MINI_USERS), columns=list(MINI_MOVIES))
    blank_rows = [{"user": MINI_USERS[u], "movie": MINI_MOVIES[m], "predicted": float(predicted[u, m])}
                  for u, m in zip(*np.nonzero(np.isnan(grid)))]
    return MiniFactorisation(model_name, pd.DataFrame(p, index=list(MINI_USERS), columns=list(FACTOR_NAMES)),
                             pd.DataFrame(q, index=list(MINI_MOVIES), columns=list(FACTOR_NAMES)),
                             recon, pd.DataFrame(blank_rows, columns=["user", "movie", "predicted"]))


def _orient(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order the two factors so that the first loads on the romance films (the first three)."""
    if q.shape[1] == 2 and q[:3, 0].sum() - q[3:, 0].sum() < q[:3, 1].sum() - q[3:, 1].sum():
        return p[:, ::-1], q[:, ::-1]
    return p, q
