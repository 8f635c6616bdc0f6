"""The mini romance/sci-fi demo: factorise the 4 x 5 matrix into P (people x 2) and Q (films x 2)
and report P, Q, the reconstruction and the predicted blanks.

Four methods: scikit-learn NMF (with the blanks imputed by EM), gradient descent and alternating
least squares written out in NumPy on the known cells only (each answers an edit in milliseconds
and keeps every step, for the step-by-step view), and the 2-factor Keras model of the product
(the same objective as gradient descent, trained by Keras; seconds, so the page runs it on request).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys.data.readers import MINI_MATRIX, MINI_MOVIES, MINI_USERS, mini_dataset
from recsys.errors import ConfigError
from recsys.models import Recommender, make_model

#: The Keras model of the demo: r = p.q with p, q >= 0 and 2 factors (the Keras twin of NMF).
MINI_KERAS_CONFIG = dict(factors=2, epochs=80, learning_rate=0.05, l2=0.0, batch_size=2, patience=0,
                         center=False, non_negative=True, seed=7)
FACTOR_NAMES = ("romance", "sci-fi")
METHODS = {"nmf": "NMF (scikit-learn)", "gd": "gradient descent", "als": "alternating least squares",
           "keras": "Keras 2-factor model"}


@dataclass(frozen=True)
class MiniSettings:
    """The knobs of the NumPy methods (gradient descent uses all; ALS uses reg, steps and seed)."""

    learning_rate: float = 0.02
    reg: float = 0.2
    steps: int = 400
    seed: int = 7

    def validate(self) -> None:
        if not 0 < self.learning_rate <= 0.2:
            raise ConfigError(f"learning rate must lie in (0, 0.2], got {self.learning_rate}")
        if not 0 <= self.reg <= 10:
            raise ConfigError(f"regularisation must lie in [0, 10], got {self.reg}")
        if not 1 <= self.steps <= 5000:
            raise ConfigError(f"steps must lie between 1 and 5000, got {self.steps}")


@dataclass(frozen=True)
class MiniStep:
    """The factors after one step of an iterative method, and the error on the known cells."""

    p: np.ndarray
    q: np.ndarray
    rmse: float


@dataclass(frozen=True)
class MiniFactorisation:
    """One method's view of the mini matrix."""

    model: str
    user_factors: pd.DataFrame     # P, 4 x 2
    movie_factors: pd.DataFrame    # Q, 5 x 2
    reconstruction: pd.DataFrame   # 4 x 5 predicted ratings
    blanks: pd.DataFrame           # user, movie, predicted
    steps: tuple[MiniStep, ...] = field(default=())  # every step, for gd and als


def factorise(model_name: str, matrix: np.ndarray | None = None,
              settings: MiniSettings = MiniSettings()) -> MiniFactorisation:
    """Factorise the (possibly edited) mini matrix with `model_name`: "nmf", "gd", "als" or
    "keras" ("mf" is another name for "keras"). P and Q come oriented (romance first) and
    balanced: each factor's scale is split evenly between people and films, since only their
    product is determined."""
    grid = MINI_MATRIX if matrix is None else np.asarray(matrix, dtype=float)
    mini_dataset(grid)  # validates the grid's shape and values
    settings.validate()
    if model_name in ("gd", "als"):
        steps = (gradient_descent if model_name == "gd" else alternating_least_squares)(grid, settings)
        p, q = steps[-1].p, steps[-1].q
        predicted = p @ q.T
    elif model_name in ("nmf", "keras", "mf"):
        p, q, predicted = _fit_model("nmf" if model_name == "nmf" else "keras", grid)
        steps = ()
    else:
        raise ConfigError(f"unknown mini method {model_name!r}; choose among {', '.join(METHODS)}")
    p, q = balance(*orient(p, q))
    steps = tuple(MiniStep(*balance(*orient(s.p, s.q, reference=q)), s.rmse) for s in steps)
    return MiniFactorisation(model_name, pd.DataFrame(p, index=list(MINI_USERS), columns=list(FACTOR_NAMES)),
                             pd.DataFrame(q, index=list(MINI_MOVIES), columns=list(FACTOR_NAMES)),
                             pd.DataFrame(predicted, index=list(MINI_USERS), columns=list(MINI_MOVIES)),
                             blank_predictions(grid, predicted), steps)


def blank_predictions(grid: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """The predicted value of every blank cell of the grid."""
    rows = [{"user": MINI_USERS[u], "movie": MINI_MOVIES[m], "predicted": float(predicted[u, m])}
            for u, m in zip(*np.nonzero(np.isnan(grid)))]
    return pd.DataFrame(rows, columns=["user", "movie", "predicted"])


def _start(grid: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Small positive random factors whose products start near the mean rating."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(np.nanmean(grid) / 2)
    return rng.uniform(0.5, 1.0, (grid.shape[0], 2)) * scale, rng.uniform(0.5, 1.0, (grid.shape[1], 2)) * scale


def _rmse(grid: np.ndarray, known: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt(np.mean((p @ q.T - grid)[known] ** 2)))


def gradient_descent(grid: np.ndarray, settings: MiniSettings = MiniSettings()) -> list[MiniStep]:
    """Full-batch gradient descent on the known cells: minimise sum (r - p.q)^2 + reg (|p|^2 + |q|^2)
    with p, q kept non-negative (a step that would make a factor negative stops it at 0)."""
    known = ~np.isnan(grid)
    target = np.where(known, grid, 0.0)
    p, q = _start(grid, settings.seed)
    steps = [MiniStep(p.copy(), q.copy(), _rmse(grid, known, p, q))]
    for _ in range(settings.steps):
        error = np.where(known, p @ q.T - target, 0.0)
        grad_p = 2 * (error @ q + settings.reg * p)
        grad_q = 2 * (error.T @ p + settings.reg * q)
        p = np.maximum(p - settings.learning_rate * grad_p, 0.0)
        q = np.maximum(q - settings.learning_rate * grad_q, 0.0)
        steps.append(MiniStep(p.copy(), q.copy(), _rmse(grid, known, p, q)))
    return steps


def alternating_least_squares(grid: np.ndarray, settings: MiniSettings = MiniSettings()) -> list[MiniStep]:
    """Alternating least squares: each step solves P exactly with Q fixed, then Q with P fixed
    (ridge regression per person and per film on their known cells). At most 50 steps: it
    converges in a handful."""
    known = ~np.isnan(grid)
    p, q = _start(grid, settings.seed)
    steps = [MiniStep(p.copy(), q.copy(), _rmse(grid, known, p, q))]
    ridge = max(settings.reg, 1e-6) * np.eye(2)
    for _ in range(min(settings.steps, 50)):
        p = np.stack([np.linalg.solve(q[known[u]].T @ q[known[u]] + ridge, q[known[u]].T @ grid[u, known[u]])
                      for u in range(grid.shape[0])])
        q = np.stack([np.linalg.solve(p[known[:, m]].T @ p[known[:, m]] + ridge,
                                      p[known[:, m]].T @ grid[known[:, m], m]) for m in range(grid.shape[1])])
        steps.append(MiniStep(p.copy(), q.copy(), _rmse(grid, known, p, q)))
    return steps


def _fit_model(name: str, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P, Q and the predictions of the product's own NMF or Keras model on the mini dataset."""
    dataset = mini_dataset(grid)
    model: Recommender = make_model("nmf") if name == "nmf" else make_model("mf", **MINI_KERAS_CONFIG)
    model.fit(dataset.ratings)
    users, items = np.repeat(np.arange(4), 5), np.tile(np.arange(5), 4)
    # dataset indices follow sorted raw ids; map them back to the fixed display order
    user_index = np.array([dataset.user_index(u) for u in MINI_USERS])
    item_index = np.array([dataset.item_index(m) for m in MINI_MOVIES])
    predicted = model.predict(user_index[users], item_index[items]).reshape(4, 5)
    factors = model.factors()
    return factors.users[user_index], factors.items[item_index], predicted


def orient(p: np.ndarray, q: np.ndarray, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order the two factors so that the first loads on the romance films (the first three), or,
    given the final `reference` Q, so that they line up with it (a step's frames do not swap)."""
    if q.shape[1] != 2:
        return p, q
    if reference is not None:
        same = abs(np.corrcoef(q[:, 0], reference[:, 0])[0, 1]) if q[:, 0].std() and reference[:, 0].std() else 1
        crossed = abs(np.corrcoef(q[:, 0], reference[:, 1])[0, 1]) if q[:, 0].std() and reference[:, 1].std() else 0
        return (p[:, ::-1], q[:, ::-1]) if crossed > same else (p, q)
    if q[:3, 0].sum() - q[3:, 0].sum() < q[:3, 1].sum() - q[3:, 1].sum():
        return p[:, ::-1], q[:, ::-1]
    return p, q


def balance(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale each factor so that people and films carry its scale equally (|p_k| = |q_k|):
    P Q^T is unchanged, and both sit on comparable axes in a picture."""
    p_norm, q_norm = np.linalg.norm(p, axis=0), np.linalg.norm(q, axis=0)
    scale = np.sqrt(np.where((p_norm > 0) & (q_norm > 0), q_norm / np.where(p_norm > 0, p_norm, 1), 1.0))
    return p * scale, q / scale


#: frames an animation of a long gradient descent keeps (the early steps, where most happens, densely)
MAX_FRAMES = 60


def frame_steps(n_steps: int, most: int = MAX_FRAMES) -> list[int]:
    """The step indices an animation shows: every step when there are few, else a geometric
    spacing that keeps the fast early changes and always the first and the last step."""
    if n_steps <= most:
        return list(range(n_steps))
    picked = np.unique(np.round(np.geomspace(1, n_steps - 1, most - 1)).astype(int))
    return [0, *picked.tolist()]


def step_sentence(method: str, index: int, steps: tuple[MiniStep, ...], settings: MiniSettings = MiniSettings()) -> str:
    """What step `index` of gradient descent ("gd") or ALS ("als") did, in plain words."""
    now = steps[index].rmse
    if index == 0:
        return (f"Step 0: every person and film starts from small random tastes (seed {settings.seed}); "
                f"their products miss the known ratings by {now:.2f} on average (RMSE).")
    before = steps[index - 1].rmse
    change = ("lower: better" if now < before else "unchanged" if now == before else
              "slightly higher: the step lowers the error plus the regularisation penalty, not the error alone")
    if method == "als":
        return (f"Step {index}: with the films' tastes fixed, each person's two tastes were solved exactly from "
                f"their ratings; then each film's, with the people fixed. RMSE {before:.4f} → {now:.4f} ({change}).")
    return (f"Step {index}: every taste moved a little (learning rate {settings.learning_rate:g}) in the direction "
            f"that lowers the error on the known cells, and was pulled slightly towards 0 (regularisation "
            f"{settings.reg:g}). RMSE {before:.4f} → {now:.4f} ({change}).")
