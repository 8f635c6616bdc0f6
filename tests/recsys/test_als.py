"""Explicit ALS against its definition: each half step is the exact ridge solution, the penalised
loss never rises, a folded-in person is one half step, and no penalty over-fits."""
from __future__ import annotations

import numpy as np
import pytest

from recsys.data.dataset import Ratings, RatingScale
from recsys.data.split import validation_split
from recsys.models import make_model
from recsys.models.als import Side, solve_side


def _random_ratings(seed: int = 0, users: int = 40, items: int = 30, n: int = 500) -> Ratings:
    rng = np.random.default_rng(seed)
    cells = rng.choice(users * items, n, replace=False)
    u, i = cells // items, cells % items
    values = np.clip(np.round(3 + rng.normal(0, 1, n) + (u % 3 == i % 3)), 1, 5).astype(np.float32)
    return Ratings(u, i, values, np.arange(n), users, items, RatingScale(1, 5, 1))


def _penalised_loss(model, data: Ratings) -> float:
    cfg, mean, bx, by = model.config, *model.biases()
    x, y = model.factors().users, model.factors().items
    error = data.values - (mean + bx[data.users] + by[data.items] + np.einsum("nk,nk->n", x[data.users], y[data.items]))
    nu, ni = np.bincount(data.users, minlength=data.n_users), np.bincount(data.items, minlength=data.n_items)
    return float(np.sum(error ** 2) + cfg.reg * (np.sum((nu + cfg.prior) * (np.sum(x ** 2, 1) + bx ** 2))
                                                 + np.sum((ni + cfg.prior) * (np.sum(y ** 2, 1) + by ** 2))))


def test_a_half_step_is_each_rows_exact_ridge_solution():
    data = _random_ratings()
    rng = np.random.default_rng(1)
    y, by = rng.normal(0, 0.5, (data.n_items, 3)), rng.normal(0, 0.3, data.n_items)
    mean, reg, prior = float(data.values.mean()), 0.2, 3.0
    x, bx = solve_side(Side.of(data.users, data.items, data.values - mean, data.n_users, data.n_items), y, by, reg, prior)
    for user in range(data.n_users):
        rows = data.users == user
        features = np.hstack([y[data.items[rows]], np.ones((rows.sum(), 1))])
        target = data.values[rows] - mean - by[data.items[rows]]
        expected = np.linalg.solve(features.T @ features + reg * (rows.sum() + prior) * np.eye(4), features.T @ target)
        np.testing.assert_allclose(np.r_[x[user], bx[user]], expected, atol=1e-8)


def test_the_penalised_loss_never_rises_from_one_iteration_to_the_next():
    data = _random_ratings(2)
    losses = [_penalised_loss(_fitted(data, n), data) for n in range(1, 7)]
    assert all(b <= a + 1e-9 for a, b in zip(losses, losses[1:])), losses
    model = _fitted(data, 6)  # its own record, half step by half step, agrees
    recorded = model.half_steps[:, 2]
    assert np.all(np.diff(recorded) <= 1e-9), recorded
    assert recorded[-1] == pytest.approx(np.sqrt(losses[-1] / len(data)))


def _fitted(data: Ratings, iterations: int):
    model = make_model("als", factors=4, iterations=iterations, seed=3)
    model.fit(data)
    return model


def test_a_folded_in_person_is_one_half_step_against_the_fixed_movies():
    data = _random_ratings(3)
    model = _fitted(data, 5)
    items, ratings = np.array([0, 4, 7, 9]), np.array([5.0, 1.0, 4.0, 2.0])
    vector, bias = model.user_vector(items, ratings)
    mean, _, by = model.biases()
    y = model.factors().items
    features = np.hstack([y[items], np.ones((4, 1))])
    cfg = model.config
    expected = np.linalg.solve(features.T @ features + cfg.reg * (4 + cfg.prior) * np.eye(cfg.factors + 1),
                               features.T @ (ratings - mean - by[items]))
    np.testing.assert_allclose(np.r_[vector, bias], expected, atol=1e-8)
    np.testing.assert_allclose(model.fold_in(items, ratings), mean + bias + by + y @ vector, atol=1e-8)


def test_without_a_penalty_it_over_fits_and_with_it_generalises(ml_small):
    fit, valid = validation_split(ml_small.ratings, 0.1, seed=0)
    free, kept = make_model("als", reg=0.0, prior=0.0, iterations=5), make_model("als", iterations=5)
    free.fit(fit, valid)
    kept.fit(fit, valid)
    assert free.half_steps[-1, 0] < kept.half_steps[-1, 0]   # lower training error ...
    assert free.half_steps[-1, 1] > kept.half_steps[-1, 1] + 0.2   # ... far higher validation error
    assert kept.half_steps[-1, 1] < 0.88


@pytest.mark.parametrize("setting, value", [("reg", -1.0), ("factors", 0), ("iterations", 0), ("prior", -2.0)])
def test_bad_settings_are_refused(setting, value):
    from recsys.errors import ConfigError

    with pytest.raises(ConfigError):
        make_model("als", **{setting: value})
