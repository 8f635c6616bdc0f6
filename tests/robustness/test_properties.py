"""Property-based tests (hypothesis) for the loader, the splits and the metrics."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys.data.dataset import build_dataset
from recsys.data.readers import HALF_STARS
from recsys.data.split import Split
from recsys.data.upload import MIN_RATINGS, read_ratings_file
from recsys.errors import DataError
from recsys.evaluation.evaluate import mae, ranking_metrics, rmse

ratings_rows = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 60), st.sampled_from(HALF_STARS.levels.tolist()),
                                  st.integers(0, 2_000_000_000)), min_size=3, max_size=300)


def _dataset(rows):
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]).drop_duplicates(["user", "item"])
    return build_dataset("prop", frame, None, HALF_STARS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ratings_rows, st.sampled_from(["holdout", "kfold", "temporal"]), st.integers(0, 1000))
def test_splits_are_disjoint_complete_and_deterministic(rows, kind, seed):
    dataset = _dataset(rows)
    split = Split(kind, seed=seed, folds=3, fold=seed % 3, fraction=0.25)
    test_rows = split.test_rows(dataset)
    assert np.array_equal(test_rows, split.test_rows(dataset))
    assert np.unique(test_rows).size == test_rows.size
    if test_rows.size in (0, dataset.n_ratings):  # nothing left to train on or to test with
        with pytest.raises(DataError, match="leaves the (training|test) part empty"):
            split.apply(dataset)
        return
    train, test = split.apply(dataset)
    assert len(train) + len(test) == dataset.n_ratings
    pairs_train = set(zip(train.users.tolist(), train.items.tolist()))
    pairs_test = set(zip(test.users.tolist(), test.items.tolist()))
    assert not pairs_train & pairs_test


@settings(max_examples=60, deadline=None)
@given(ratings_rows)
def test_loader_round_trips_valid_files(rows):
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    text = frame.to_csv(index=False).encode()
    expected = frame.drop_duplicates(["userId", "movieId"]).shape[0]
    if expected < MIN_RATINGS:
        with pytest.raises(DataError, match=f"holds only {expected} rating"):
            read_ratings_file(text)
        return
    dataset = read_ratings_file(text)
    assert dataset.n_ratings == expected
    assert dataset.ratings.values.min() >= 0.5 and dataset.ratings.values.max() <= 5.0


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_loader_never_crashes_on_garbage(data):
    try:
        read_ratings_file(data)
    except DataError as error:
        assert str(error)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=50), st.floats(-3, 3, allow_nan=False))
def test_error_metrics_bounds_and_invariance(values, shift):
    a = np.array(values)
    b = a[::-1].copy()
    assert rmse(a, a) == 0 and mae(a, a) == 0
    assert mae(a, b) <= rmse(a, b) + 1e-12
    assert abs(rmse(a + shift, b + shift) - rmse(a, b)) < 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.permutations(list(range(20))), min_size=1, max_size=5),
       st.lists(st.sets(st.integers(0, 19), min_size=1, max_size=10), min_size=5, max_size=5))
def test_ranking_metrics_stay_in_bounds(orders, relevant_sets):
    top = np.array([order[:10] for order in orders])
    relevant = [np.array(sorted(r)) for r in relevant_sets[: len(orders)]]
    result = ranking_metrics(top, relevant, n_items=20, k=10)
    for value in (result.precision, result.recall, result.ndcg, result.hit_rate, result.map, result.coverage):
        assert 0.0 <= value <= 1.0 + 1e-12
