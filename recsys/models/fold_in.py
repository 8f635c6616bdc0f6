"""Fold-in maths: a new user's weights solved against a trained model's movie side."""
from __future__ import annotations

import numpy as np

from recsys.data.dataset import RatingScale
from recsys.errors import ConfigError

FOLD_IN_BIAS_REG = 3.0  # L2 on a folded-in user bias


def penalised_logistic(basis: np.ndarray, targets: np.ndarray, offset: np.ndarray, penalty: np.ndarray,
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


def liked_for_fold_in(items: np.ndarray, ratings: np.ndarray, scale: RatingScale) -> np.ndarray:
    """The items a new user liked (rated at or above the scale's midpoint), for implicit fold-in."""
    items = np.asarray(items, dtype=np.int64)
    liked = items[np.asarray(ratings, dtype=float) >= (scale.low + scale.high) / 2]
    if liked.size == 0:
        raise ConfigError("rate at least one movie at or above the middle of the scale")
    return liked
