"""A blend's weights, fitted on the parts' out-of-sample predictions of the validation part.

With `by_support`, each part's weight (and the intercept) is a linear function of how much the
training data says about the rating's user and movie, s = log(1 + ratings) / 5 for each
(feature-weighted linear stacking, Sill et al. 2009): a part that is good on well-known users can
lean less on the others there and more where little is known. Without it, one weight per part.
The ridge penalty is picked by 5-fold cross-validation within the validation part.
"""
from __future__ import annotations

import numpy as np

#: candidate ridge penalties; the smallest keeps the fit stable when two parts agree closely
RIDGES = (1e-3, 0.1, 1.0, 10.0, 100.0)
FOLDS = 5
SUPPORT_SCALE = 5.0


def support(counts: np.ndarray) -> np.ndarray:
    """log(1 + ratings) / 5 per user or movie: about 0 to 1.5 on MovieLens."""
    return np.log1p(np.asarray(counts, dtype=np.float64)) / SUPPORT_SCALE


def _meta(users: np.ndarray | float, items: np.ndarray | float, width: int) -> list:
    """The terms a weight is linear in: 1, then the user's and the movie's support."""
    return [1.0, users, items][:width]


def design(columns: list[np.ndarray], users: np.ndarray, items: np.ndarray, width: int) -> np.ndarray:
    """One row per rating: each part's prediction times each term, then the terms (the intercept)."""
    terms = [np.broadcast_to(np.asarray(t, dtype=np.float64), users.shape) for t in _meta(users, items, width)]
    return np.column_stack([c * t for c in columns for t in terms] + terms)


def fit(columns: list[np.ndarray], target: np.ndarray, users: np.ndarray, items: np.ndarray,
        by_support: bool, seed: int = 0) -> np.ndarray:
    """Weights, shape (parts + 1, terms): row j is part j's weight terms, the last row the intercept's."""
    width = 3 if by_support else 1
    x, y = design(columns, users, items, width), np.asarray(target, dtype=np.float64)
    ridge = _cross_validated_ridge(x, y, seed) if len(y) >= 10 * FOLDS else RIDGES[0]
    return _solve(x, y, ridge).reshape(len(columns) + 1, width)


def _solve(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)


def _cross_validated_ridge(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    fold = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    errors = []
    for ridge in RIDGES:
        squared = 0.0
        for k in range(FOLDS):
            inside, out = fold != k, fold == k
            squared += float(np.sum((x[out] @ _solve(x[inside], y[inside], ridge) - y[out]) ** 2))
        errors.append(squared)
    return RIDGES[int(np.argmin(errors))]


def combine(weights: np.ndarray, columns: list[np.ndarray], users: np.ndarray | float,
            items: np.ndarray | float) -> np.ndarray:
    """The blended values; `users` and `items` are supports that broadcast against the columns
    (per rating, or a user's column against a row of movies)."""
    return sum(_weight(row, users, items) * c for row, c in zip(weights[:-1], columns)) \
        + _weight(weights[-1], users, items)


def typical(weights: np.ndarray, users: float, items: float) -> np.ndarray:
    """Each part's weight and the intercept for a rating of this support (for reporting)."""
    return np.array([float(_weight(row, users, items)) for row in weights])


def _weight(row: np.ndarray, users: np.ndarray | float, items: np.ndarray | float):
    """One part's weight (or the intercept) at these supports."""
    return sum(w * t for w, t in zip(row, _meta(users, items, len(row))))
