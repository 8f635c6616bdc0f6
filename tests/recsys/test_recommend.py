"""The one "recommend for a user" path: a known user from the model, a user new to the model
folded in from their ratings, the labelled fallback otherwise; never a movie the user rated."""
import numpy as np
import pytest

from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.explain.recommend import FROM_FALLBACK, FROM_FOLD_IN, FROM_MODEL, for_new_user, for_user
from recsys.models import make_model


@pytest.fixture(scope="module")
def time_split(ml_small):
    train, _ = Split("time", fraction=0.2).apply(ml_small)
    known = set(np.unique(train.users).tolist())
    new_user = next(u for u in range(ml_small.n_users) if u not in known)
    return train, int(train.users[0]), new_user


@pytest.mark.parametrize("name, source_for_new", [("biases", FROM_FOLD_IN), ("global-mean", FROM_FALLBACK)])
def test_each_user_gets_the_right_kind_of_list(ml_small, time_split, name, source_for_new):
    train, known_user, new_user = time_split
    model = make_model(name)
    model.fit(train)
    for user, source in ((known_user, FROM_MODEL), (new_user, source_for_new)):
        recs = for_user(model, ml_small, user, k=10)
        rated, _ = ml_small.user_ratings(user)
        assert recs.source == source and len(recs.table) == 10
        assert not set(recs.table["item"]) & set(rated.tolist())
        assert set(recs.table["item"]) <= set(np.unique(train.items).tolist())  # only movies it knows
    assert ("folded" in recs.note) == (source_for_new == FROM_FOLD_IN)
    assert ("cannot fold" in recs.note) == (source_for_new == FROM_FALLBACK)


def test_a_known_user_with_test_ratings_is_told_they_are_left_out(ml_small):
    train, _ = Split().apply(ml_small)
    model = make_model("biases")
    model.fit(train)
    recs = for_user(model, ml_small, 0, k=10)
    assert recs.source == FROM_MODEL and "in its test part" in recs.note


def test_a_new_profile_needs_ratings_and_a_model_that_folds_in(ml_small, time_split):
    train, _, _ = time_split
    model = make_model("global-mean")
    model.fit(train)
    with pytest.raises(ConfigError, match="rate at least one movie"):
        for_new_user(model, ml_small, [], [], k=10)
    with pytest.raises(ConfigError, match="cannot fold in a new user"):
        for_new_user(model, ml_small, [0], [5.0], k=10)
    with pytest.raises(ConfigError, match="k must be a positive"):
        for_user(model, ml_small, 0, k=0)


def test_a_list_shows_the_score_it_ranks_by_when_predictions_pass_the_top_of_the_scale(ml100k):
    """Issue 33: GMF's top-10 all read "5" (clipped); the list is ranked by the model's own score,
    which is shown beside the clipped prediction."""
    from recsys.data.split import Split
    from recsys.models import make_model

    train, _ = Split("official", name="u1").apply(ml100k)
    model = make_model("biases")
    model.fit(train)
    raw = np.full(ml100k.n_items, 3.0)
    raw[[5, 9, 2]] = [5.4, 6.1, 5.0]
    recs = model.top_k(raw, 3)
    assert recs.items.tolist() == [9, 5, 2] and recs.scores.tolist() == [5.0, 5.0, 5.0]
    assert recs.ranked_by.tolist() == [6.1, 5.4, 5.0]
    plain = model.top_k(np.linspace(1, 4, ml100k.n_items), 3)
    assert plain.ranked_by is None  # nothing clipped: one score column
    one = np.full(ml100k.n_items, 3.0)
    one[7] = 5.2
    assert model.top_k(one, 3).ranked_by is None  # one clipped value ties with nothing: no extra column


def test_favourites_are_ratings_of_four_or_more(ml_small):
    from recsys.data import stats

    r = ml_small.ratings
    low = np.bincount(r.users[r.values < 1], minlength=ml_small.n_users)
    user = int(np.argmax(low))  # someone who gave a 0.5
    favourites = stats.user_favourites(ml_small, user, 1000)
    assert stats.favourite_threshold(ml_small) == 4.0
    assert len(favourites) == int(((r.users == user) & (r.values >= 4)).sum()) and (favourites["rating"] >= 4).all()
