import numpy as np
import pytest

from recsys.data.split import Split, fold_splits, validation_split
from recsys.errors import ConfigError


def test_holdout_is_the_documented_recipe(ml_small):
    n = ml_small.n_ratings
    perm = np.random.default_rng(42).permutation(n)
    expected = np.sort(perm[: int(0.2 * n)])
    assert np.array_equal(Split().test_rows(ml_small), expected)
    train, test = Split().apply(ml_small)
    assert len(train) + len(test) == n and len(test) == int(0.2 * n)


def test_same_value_same_rows_and_hashable(ml_small):
    a, b = Split(seed=3), Split(seed=3)
    assert a == b and hash(a) == hash(b)
    assert np.array_equal(a.test_rows(ml_small), b.test_rows(ml_small))
    assert not np.array_equal(a.test_rows(ml_small), Split(seed=4).test_rows(ml_small))


def test_kfold_covers_every_rating_once(ml_small):
    rows = [Split("kfold", folds=5, fold=f).test_rows(ml_small) for f in range(5)]
    assert np.array_equal(np.sort(np.concatenate(rows)), np.arange(ml_small.n_ratings))


def test_temporal_holds_out_each_users_latest(ml_small):
    rows = Split("temporal", fraction=0.2).test_rows(ml_small)
    r = ml_small.ratings
    test = np.zeros(len(r), bool)
    test[rows] = True
    for user in (0, 5, 100):
        mine = r.users == user
        n_test = max(1, int(0.2 * mine.sum()))
        assert test[mine].sum() == n_test
        assert r.timestamps[mine & test].min() >= r.timestamps[mine & ~test].max()
    assert np.unique(r.users[test]).size == ml_small.n_users


def test_official_folds(ml100k, ml_small):
    train, test = Split("official", name="u1").apply(ml100k)
    assert (len(train), len(test)) == (80000, 20000)
    with pytest.raises(ConfigError, match="no official fold"):
        Split("official", name="u1").apply(ml_small)
    assert [s.name for s in fold_splits(ml100k)] == ["u1", "u2", "u3", "u4", "u5"]
    assert [s.fold for s in fold_splits(ml_small, folds=3)] == [0, 1, 2]


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "random"}, "unknown split kind"),
    ({"fraction": 0.0}, "between 0 and 1"),
    ({"fraction": 1.5}, "between 0 and 1"),
    ({"kind": "kfold", "folds": 1}, "folds >= 2"),
    ({"kind": "kfold", "folds": 5, "fold": 5}, "fold < folds"),
    ({"kind": "official"}, "fold name"),
])
def test_bad_splits_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Split(**kwargs)


def test_validation_split_is_disjoint(ml_small):
    train, _ = Split().apply(ml_small)
    fit, valid = validation_split(train, 0.1, seed=1)
    assert len(fit) + len(valid) == len(train) and len(valid) == int(0.1 * len(train))
