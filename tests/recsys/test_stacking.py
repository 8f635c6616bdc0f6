"""The blend's weights: constant or linear in the user's and the movie's support."""
import numpy as np
import pytest

from recsys.models import stacking


def _ratings(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    users, items = rng.uniform(0, 1.5, n), rng.uniform(0, 1.5, n)
    truth = rng.normal(3.5, 1.0, n)
    good = truth + rng.normal(0, 0.2 + 0.6 * (1.5 - users), n)  # better for users with more ratings
    steady = truth + rng.normal(0, 0.6, n)
    return [good, steady], truth, users, items


def test_constant_weights_are_the_least_squares_fit():
    columns, truth, users, items = _ratings()
    weights = stacking.fit(columns, truth, users, items, by_support=False)
    x = np.column_stack(columns + [np.ones(len(truth))])
    exact = np.linalg.lstsq(x, truth, rcond=None)[0]
    assert weights.shape == (3, 1) and np.allclose(weights[:, 0], exact, atol=0.02)
    assert np.allclose(stacking.combine(weights, columns, users, items), x @ weights[:, 0])


def test_weights_by_support_follow_where_a_part_is_good_and_fit_better():
    columns, truth, users, items = _ratings()
    test_columns, test_truth, test_users, test_items = _ratings(seed=1)
    flat = stacking.fit(columns, truth, users, items, by_support=False)
    shaped = stacking.fit(columns, truth, users, items, by_support=True)
    assert shaped.shape == (3, 3)
    light, heavy = stacking.typical(shaped, 0.1, 0.7), stacking.typical(shaped, 1.4, 0.7)
    assert heavy[0] > light[0] and heavy[1] < light[1]  # the good-on-heavy-users part gains weight there

    def rmse(w):
        return np.sqrt(np.mean((stacking.combine(w, test_columns, test_users, test_items) - test_truth) ** 2))
    assert rmse(shaped) < rmse(flat) - 0.01


def test_a_users_row_of_scores_broadcasts_like_single_predictions():
    columns, truth, users, items = _ratings(600)
    weights = stacking.fit(columns, truth, users, items, by_support=True)
    grid = [np.outer(np.ones(3), c[:50]) for c in columns]  # three users' scores of 50 movies
    user_support = users[:3][:, None]
    rows = stacking.combine(weights, grid, user_support, items[None, :50])
    one = stacking.combine(weights, [c[:50] for c in columns], users[1], items[:50])
    assert rows.shape == (3, 50) and np.allclose(rows[1], one)


@pytest.mark.parametrize("counts, expected", [(0, 0.0), (np.e ** 5 - 1, 1.0)])
def test_support_is_log_ratings_over_five(counts, expected):
    assert stacking.support(np.array([counts]))[0] == pytest.approx(expected)
