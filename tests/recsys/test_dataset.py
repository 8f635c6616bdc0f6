import numpy as np
import pytest

from recsys.data import sources
from recsys.data.readers import mini_dataset
from recsys.errors import DataError, UnknownIdError


def test_mini_has_the_tutorial_ratings_and_two_blanks():
    mini = mini_dataset()
    assert (mini.n_users, mini.n_items, mini.n_ratings) == (4, 5, 18)
    bob, beauty = mini.user_index("Bob"), mini.item_index("Beauty Inside")
    carol, love = mini.user_index("Carol"), mini.item_index("Love Story")
    pairs = set(zip(mini.ratings.users.tolist(), mini.ratings.items.tolist()))
    assert (bob, beauty) not in pairs and (carol, love) not in pairs
    alice = mini.ratings.values[mini.ratings.users == mini.user_index("Alice")]
    assert sorted(alice.tolist()) == [1, 1, 5, 5, 5]


def test_mini_rejects_a_wrong_shape_and_range():
    with pytest.raises(DataError, match="must be"):
        mini_dataset(np.ones((3, 5)))
    grid = np.ones((4, 5))
    grid[0, 0] = 9
    with pytest.raises(DataError, match="between 1 and 5"):
        mini_dataset(grid)


def test_ml_latest_small_counts_and_metadata(ml_small):
    assert (ml_small.n_ratings, ml_small.n_users, ml_small.n_items) == (100836, 610, 9724)
    assert ml_small.scale.low == 0.5 and ml_small.scale.step == 0.5
    toy = ml_small.item_index(1)
    assert ml_small.items.at[toy, "title"] == "Toy Story (1995)"
    assert ml_small.items.at[toy, "year"] == 1995
    assert "Animation" in ml_small.items.at[toy, "genres"]
    # contiguous indices, raw ids recoverable
    assert ml_small.ratings.users.max() == ml_small.n_users - 1
    assert ml_small.user_ids[ml_small.ratings.users[0]] == 1


def test_ml100k_has_users_and_official_folds(ml100k):
    assert (ml100k.n_ratings, ml100k.n_users, ml100k.n_items) == (100000, 943, 1682)
    assert ml100k.users is not None and set(ml100k.users.columns) >= {"age", "gender", "occupation"}
    assert set(ml100k.folds) == {"u1", "u2", "u3", "u4", "u5", "ua", "ub"}
    assert len(ml100k.folds["u1"]) == 20000
    union = np.concatenate([ml100k.folds[f] for f in ("u1", "u2", "u3", "u4", "u5")])
    assert np.array_equal(np.sort(union), np.arange(100000))


def test_fingerprint_is_stable_and_content_based(ml_small):
    again = sources.load("ml-latest-small", download=False)
    assert again.fingerprint == ml_small.fingerprint
    assert mini_dataset().fingerprint != ml_small.fingerprint
    edited = np.array([[5, 5, 5, 1, 1], [np.nan, 4, 5, 1, 1], [1, 1, np.nan, 5, 5], [1, 1, 1, 5, 5]])
    assert mini_dataset(edited).fingerprint != mini_dataset().fingerprint


def test_unknown_ids_raise_a_clear_error(ml_small):
    with pytest.raises(UnknownIdError, match="unknown user id 999999"):
        ml_small.user_index(999999)
    with pytest.raises(UnknownIdError, match="unknown item id 'abc'"):
        ml_small.item_index("abc")
    assert ml_small.user_index("1") == 0


def test_arrays_are_read_only(ml_small):
    with pytest.raises(ValueError):
        ml_small.ratings.values[0] = 1.0
