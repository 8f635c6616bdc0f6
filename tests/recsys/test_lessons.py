"""The Lessons page's numbers (recsys.explain.lessons) against hand-computed values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.dataset import Ratings, RatingScale
from recsys.data.split import Split, validation_split
from recsys.errors import ConfigError
from recsys.explain import lessons
from recsys.models import make_model


@pytest.fixture(scope="module")
def taught(ml_small):
    train, test = Split().apply(ml_small)
    fit, valid = validation_split(train, 0.1, seed=42)
    model = make_model("als", iterations=4)
    model.fit(fit, valid)
    return ml_small, train, test, model


def _tiny() -> Ratings:
    # users 0, 1; items 0, 1: ratings 5, 3 | 4, -
    return Ratings(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([5.0, 3.0, 4.0], np.float32), np.arange(3), 2, 2,
                   RatingScale(1, 5, 1))


def test_damped_biases_are_the_shrunk_means_of_what_is_left():
    mean, movie, user = lessons.damped_biases(_tiny())
    assert mean == pytest.approx(4.0)
    assert movie == pytest.approx([(1 + 0) / (2 + lessons.ITEM_DAMPING), -1 / (1 + lessons.ITEM_DAMPING)])
    left0 = (5 - 4 - movie[0]) + (3 - 4 - movie[1])
    assert user == pytest.approx([left0 / (2 + lessons.USER_DAMPING), (4 - 4 - movie[0]) / (1 + lessons.USER_DAMPING)])


def test_the_bias_ladder_starts_at_the_mean_and_each_part_is_scored_on_the_test_part(taught):
    dataset, train, test, model = taught
    ladder = lessons.bias_ladder(train, test, model)
    assert list(ladder["model"]) == ["global mean", "+ movie biases", "+ user biases", "+ factors (als)"]
    mean = train.values.mean()
    assert ladder["rmse"][0] == pytest.approx(np.sqrt(np.mean((mean - test.values) ** 2)), rel=1e-6)
    assert ladder["rmse"].is_monotonic_decreasing
    table = lessons.bias_extremes(dataset, train, min_count=50, k=5)
    assert list(table["side"]) == ["above"] * 5 + ["below"] * 5
    assert table["bias"].iloc[0] == table["bias"].max() and table["bias"].iloc[5] == table["bias"].min()  # most below first
    assert (table["ratings"] >= 50).all()


def test_half_steps_are_labelled_by_the_side_just_solved():
    table = lessons.alternation_table(np.array([[1.0, 1.1], [0.9, 1.0], [0.8, 0.95]]))
    assert list(table["solved"]) == ["random start", "people solved", "movies solved"] and table["objective"].isna().all()
    assert list(table["iteration"]) == [0, 0.5, 1.0]
    mini = lessons.mini_alternation(iterations=4)
    assert len(mini) == 9 and mini["valid_rmse"].isna().all() and mini["train_rmse"].iloc[-1] < 0.3
    assert (np.diff(mini["objective"]) <= 1e-9).all()  # what ALS lowers falls at every half step
    with pytest.raises(ConfigError):
        lessons.alternation_table(np.zeros((3, 4)))


def test_directions_are_named_by_their_ends_and_a_walk_finds_the_nearest():
    points = pd.DataFrame({"item": [0, 1, 2, 3], "title": ["a", "b", "c", "d"], "count": [9, 5, 3, 1],
                           "d1": [2.0, -1.0, 0.5, -3.0], "d2": [0.0, 1.0, -1.0, 0.2]})
    found = lessons.Directions(points, np.array([0.6, 0.3]))
    ends = lessons.direction_ends(found, 1, k=2)
    assert list(ends["− end"]) == ["d", "b"] and list(ends["+ end"]) == ["a", "c"]
    walked = lessons.walk(found, 1, 1.8, k=2)
    assert list(walked["title"]) == ["a", "c"] and walked["distance"][0] == pytest.approx(0.2)
    with pytest.raises(ConfigError):
        lessons.walk(found, 3, 0.0)


def test_the_main_directions_put_the_most_rated_movie_on_the_plus_side(taught):
    dataset, _, _, model = taught
    found = lessons.directions(dataset, model, n=3, min_count=20)
    top = found.points["count"].idxmax()
    assert found.points.loc[top, "d1"] >= 0 and found.explained[0] >= found.explained[1] >= found.explained[2]


def test_movies_to_rate_spread_out_from_the_most_rated(taught):
    dataset, _, _, model = taught
    picked = lessons.movies_to_rate(dataset, model, n=10)
    counts = np.bincount(dataset.ratings.items, minlength=dataset.n_items)
    assert len(set(picked.tolist())) == 10 and picked[0] == np.argmax(counts)
    assert (counts[picked] >= np.sort(counts)[-150]).all()


def test_a_new_person_lands_where_their_folded_in_vector_projects(taught):
    dataset, _, _, model = taught
    items, ratings = lessons.movies_to_rate(dataset, model, n=10), np.array([5, 5, 5, 1, 1, 1, 4, 2, 3, 5.0])
    placed = lessons.place_you(dataset, model, items, ratings)
    from recsys.explain.explore import pca_basis

    vector, bias = model.user_vector(items, ratings)
    expected = pca_basis(model.factors().users)[1](vector[None, :])[0]
    assert placed.you == pytest.approx(tuple(expected)) and placed.bias == pytest.approx(bias)
    assert len(placed.top) == 10 and not set(placed.top["title"]) & set(dataset.titles(items))
    assert len(placed.people) == dataset.n_users
    with pytest.raises(ConfigError):
        lessons.place_you(dataset, model, np.array([], dtype=int), np.array([]))


def test_dot_product_and_cosine_neighbours_match_their_definitions(taught):
    dataset, _, _, model = taught
    item = int(np.argmax(np.bincount(dataset.ratings.items)))
    table = lessons.neighbours_both_ways(dataset, model, item, k=5, min_count=10)
    vectors = model.factors().items
    counts = np.bincount(dataset.ratings.items, minlength=dataset.n_items)
    among = np.flatnonzero((counts >= 10) & (np.arange(len(vectors)) != item))
    dot = among[np.argsort(-(vectors[among] @ vectors[item]))[:5]]
    lengths = np.linalg.norm(vectors, axis=1)
    cosine = among[np.argsort(-(vectors[among] @ vectors[item]) / lengths[among])[:5]]
    assert list(table["by dot product"]) == dataset.titles(dot) and list(table["by cosine"]) == dataset.titles(cosine)
    frame, rho = lessons.length_and_popularity(dataset, model)
    from scipy.stats import spearmanr

    assert rho == pytest.approx(spearmanr(frame["ratings"], frame["length"]).statistic, abs=1e-9)


def test_cold_start_rebuilds_people_from_their_first_ratings(taught):
    dataset, train, test, model = taught
    found = lessons.cold_start(dataset, train, test, model, sizes=(1, 3, 10), users=40)
    assert list(found.errors["ratings known"]) == ["0", "1", "3", "10", "all"]
    rmse = dict(zip(found.errors["ratings known"], found.errors["rmse"]))
    assert rmse["10"] < rmse["1"] and rmse["all"] < rmse["10"]
    assert (found.example.groupby("ratings known").size() == 10).all()
    with pytest.raises(ConfigError):
        lessons.cold_start(dataset, train, test, model, sizes=(0,))
