"""I-AutoRec on its sparse kernels: the same loss and gradients as the dense network, seeded runs,
averaged networks, and a blend that stops while AutoRec fits beside its Keras part."""
import threading

import numpy as np
import pytest

from recsys.data.dataset import Ratings, RatingScale
from recsys.data.split import Split, validation_split
from recsys.evaluation.evaluate import rmse
from recsys.models import autorec_kernels as kernels
from recsys.models import make_model
from recsys.models.autorec import _Columns


def _tiny(seed: int = 0, n_users: int = 7, n_items: int = 9, n: int = 30) -> Ratings:
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_items, n, replace=False)
    return Ratings(cells % n_users, cells // n_users, rng.choice([1.0, 2.5, 4.0, 5.0], n).astype(np.float32),
                   np.zeros(n, dtype=np.int64), n_users, n_items, RatingScale(0.5, 5.0, 0.5))


def _dense_loss(matrix, rows, w_in, b_in, w_out_t, b_out, l2):
    """The Keras network's loss, written densely: masked mean squared error plus L2 on both kernels."""
    x = matrix[rows]
    out = (1 / (1 + np.exp(-(x @ w_in + b_in)))) @ w_out_t.T + b_out
    mask = x != 0
    return ((out - x) ** 2 * mask).sum() / max(mask.sum(), 1) + l2 * ((w_in ** 2).sum() + (w_out_t ** 2).sum())


def test_kernels_give_the_dense_networks_loss_and_gradient():
    ratings = _tiny()
    columns = _Columns.of(ratings, ratings.n_items)
    matrix = np.zeros((ratings.n_items, ratings.n_users))
    matrix[ratings.items, ratings.users] = ratings.values
    rng = np.random.default_rng(1)
    hidden, l2 = 4, 0.01
    params = [rng.normal(0, 0.3, (ratings.n_users, hidden)), rng.normal(0, 0.3, hidden),
              rng.normal(0, 0.3, (ratings.n_users, hidden)), rng.normal(0, 0.3, ratings.n_users)]
    rows = np.array([0, 3, 4, 8], dtype=np.int64)
    loss, *gradients = kernels.batch_gradients(columns.indptr, columns.users, columns.values, rows,
                                               *[p.astype(np.float32) for p in params], np.float32(l2))
    assert loss == pytest.approx(_dense_loss(matrix, rows, *params, l2), rel=1e-4)
    gradients[0] = gradients[0] + 2 * l2 * params[0]  # the kernels' L2 gradient is added by adam_step
    gradients[2] = gradients[2] + 2 * l2 * params[2]
    step = 1e-6
    for which, gradient in enumerate(gradients):
        for index in list(np.ndindex(params[which].shape))[:12]:
            shifted = [p.copy() for p in params]
            shifted[which][index] += step
            up = _dense_loss(matrix, rows, *shifted, l2)
            shifted[which][index] -= 2 * step
            numeric = (up - _dense_loss(matrix, rows, *shifted, l2)) / (2 * step)
            assert gradient[index] == pytest.approx(numeric, abs=2e-4), (which, index)


def test_adam_step_is_keras_adam_with_the_l2_gradient():
    weights, gradient = np.array([0.5, -1.0], np.float32), np.array([0.2, -0.1], np.float32)
    first, second = np.zeros(2, np.float32), np.zeros(2, np.float32)
    rate = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)  # step 1's bias correction
    kernels.adam_step(weights, gradient, first, second, np.float32(rate), np.float32(0.9), np.float32(0.999),
                      np.float32(1e-7), np.float32(0.1))
    g = np.array([0.2, -0.1]) + 0.1 * np.array([0.5, -1.0])
    m, v = 0.1 * g, 0.001 * g * g
    assert np.allclose(weights, np.array([0.5, -1.0]) - rate * m / (np.sqrt(v) + 1e-7), atol=1e-6)


@pytest.fixture(scope="module")
def parts(ml100k):
    train, test = Split("official", name="u1").apply(ml100k)
    return train, test, *validation_split(train, 0.1, seed=42)


def test_autorec_is_seeded_and_averages_its_networks(parts):
    train, test, fit, valid = parts
    one = make_model("autorec", members=1, epochs=4)
    one.fit(fit, valid)
    again = make_model("autorec", members=1, epochs=4)
    again.fit(fit, valid)
    assert np.array_equal(one._reconstruction, again._reconstruction)  # same seed, same network
    two = make_model("autorec", members=2, epochs=4)
    history = two.fit(fit, valid)
    assert len(history.logs) == 4  # the curve is the first network's
    other = make_model("autorec", members=1, epochs=4, seed=43)
    other.fit(fit, valid)
    both = [m._reconstruction for m in (one, other)]  # each clipped to the scale
    assert np.allclose(two._reconstruction, (both[0] + both[1]) / 2, atol=1e-5)
    assert np.allclose(two.validation_predictions, (one.validation_predictions + other.validation_predictions) / 2,
                       atol=1e-5)
    mean = np.full(len(test), fit.global_mean)
    assert rmse(two.predict(test.users, test.items), test.values) < rmse(mean, test.values) - 0.05


def test_a_blend_stopped_while_autorec_fits_beside_it_stops(parts):
    train, test, fit, valid = parts
    stop = threading.Event()
    model = make_model("blend", components=("biases", "autorec"), optional=())
    original = model._components

    def components(names=None):
        made = original(names)
        for part in made:
            if part.name == "autorec":
                fit_part = part._fit

                def stopping(*args, fit_part=fit_part):
                    stop.set()  # the user presses Stop as AutoRec starts
                    return fit_part(*args)
                part._fit = stopping
        return made
    model._components = components
    history = model.fit(fit, valid, stop=stop)
    assert history.stopped


def test_the_epoch_loop_gives_up_once_clearly_past_its_best():
    from recsys.models.loop import EpochLoop

    def run(divergence: float) -> list[int]:
        scores = iter([1.0, 0.9, 0.905, 0.95, 0.96, 0.97, 0.98, 0.99])
        loop, seen = EpochLoop(8, patience=10, divergence=divergence), []
        for epoch in loop:
            seen.append(epoch)
            loop.end(0.0, None, next(scores))
        assert loop.history.best_epoch == 2
        return seen
    assert len(run(0.0)) == 8  # patience alone: every epoch
    assert len(run(0.01)) == 4  # 0.905 is within 1% of 0.9; 0.95 is not
