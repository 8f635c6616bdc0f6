"""Pure pieces of the latent-map explorer: 3-D projection, search, selection summary, a movie's
card, a user's overlay and direction, and the genre colours."""
import numpy as np
import pandas as pd
import pytest

from dashboard.figure_base import genre_colours
from recsys.errors import ConfigError
from recsys.explain import explore
from recsys.models import make_model


@pytest.fixture(scope="module")
def mf_small(ml_small):
    model = make_model("mf", factors=6, epochs=1)
    model.fit(ml_small.ratings)
    return model


@pytest.fixture(scope="module")
def points(ml_small, mf_small):
    return explore.item_map(ml_small, mf_small, "pca", min_count=20)


def test_3d_maps_and_bad_dimensions(ml_small, mf_small):
    three = explore.item_map(ml_small, mf_small, "pca", min_count=50, dims=3)
    assert {"x", "y", "z"} <= set(three.columns) and np.asarray(three.attrs["components"]).shape == (3, 6)
    assert explore.project(np.eye(5)[:, :2], "raw", dims=3)[:, 2].tolist() == [0.0] * 5
    with pytest.raises(ConfigError, match="2 or 3 dimensions"):
        explore.project(np.eye(5), "pca", dims=4)


def test_search_is_case_insensitive_and_most_rated_first(points):
    found = explore.search_titles(points, "STAR wars")
    assert len(found) >= 2 and found["title"].str.contains("Star Wars").all()
    assert found["count"].is_monotonic_decreasing
    assert explore.search_titles(points, "   ").empty and explore.search_titles(points, "(").shape[0] > 0


def test_selection_summary_lists_the_movies_and_their_genre_mix(points):
    chosen = points.nlargest(4, "count")["item"].tolist()
    table, mix = explore.selection_summary(points, chosen + [10**9])  # an item not on the map is ignored
    assert len(table) == 4 and table["count"].is_monotonic_decreasing
    genres = [g for text in points[points["item"].isin(chosen)]["genres"] for g in text.split(" | ")]
    assert mix.set_index("genre")["movies"].to_dict() == pd.Series(genres).value_counts().to_dict()
    assert mix["share"].max() <= 1.0


def test_movie_card(ml_small):
    item = ml_small.item_index(2571)
    card = explore.movie_card(ml_small, item)
    mine = ml_small.ratings.values[ml_small.ratings.items == item]
    assert card["count"] == mine.size == card["histogram"]["count"].sum()
    assert card["mean"] == pytest.approx(mine.mean())
    assert card["top_raters"]["rating"].is_monotonic_decreasing and card["top_raters"]["rating"].iloc[0] == 5.0


def test_user_overlay_and_direction(ml_small, mf_small, points):
    favourites = points["item"].to_numpy()[:3]
    overlay = explore.user_overlay(points, np.append(favourites, 10**9), points["item"].to_numpy()[3:5])
    assert overlay["role"].tolist() == ["favourite"] * 3 + ["recommended"] * 2
    vector = mf_small.factors().users[0]
    direction = explore.user_direction(points, vector)
    components = np.asarray(points.attrs["components"])
    expected = components @ vector
    assert np.allclose(direction / np.linalg.norm(direction), expected / np.linalg.norm(expected))
    tsne_like = points.copy()
    tsne_like.attrs = {"method": "tsne"}
    assert explore.user_direction(tsne_like, vector) is None


def test_every_genre_gets_its_own_colour(ml_small):
    genres = sorted({g for gs in ml_small.items["genres"] for g in gs}) + ["(none)"]
    colours = genre_colours(genres)
    assert len(set(colours.values())) == len(genres) == 20
    assert genre_colours(list(reversed(genres))) == colours  # stable whatever the order


def test_the_map_minimum_adapts_to_a_small_dataset(ml_small):
    from recsys.explain.explore import adapted_min_count

    assert adapted_min_count(ml_small, 20) == 20  # ml-latest-small has hundreds of movies with 20 ratings
    assert adapted_min_count(ml_small, 20, at_least=5000) == 1 or adapted_min_count(ml_small, 20, at_least=5000) < 20
    counts = np.bincount(ml_small.ratings.items)
    low = adapted_min_count(ml_small, 500)
    assert (counts >= low).sum() >= 100 and low < 500
