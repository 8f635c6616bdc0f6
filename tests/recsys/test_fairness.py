"""Popularity bias (PopRSP, PopREO), genre miscalibration and demographic groups against values
computed by hand on small cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.dataset import Ratings, RatingScale
from recsys.evaluation import fairness
from recsys.evaluation.demographics import help_by_group, user_groups


def _train() -> Ratings:
    # 6 movies: 0 and 1 hold most ratings (the head: 8 of 10 ratings), 2-5 the long tail
    users = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    items = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 3])
    return Ratings(users, items, np.full(10, 4.0, np.float32), np.arange(10), 4, 6, RatingScale(1, 5, 1))


def test_the_head_is_the_movies_holding_80_percent_of_ratings():
    assert fairness.head_mask(_train()).tolist() == [True, True, False, False, False, False]


def test_poprsp_compares_recommendations_per_movie_of_each_group():
    head = fairness.head_mask(_train())
    lists = np.array([[0, 2], [1, 4], [0, -1]])  # popular recommended 3 times (2 movies), tail 2 times (4 movies)
    parts = fairness.rsp_parts(lists, head)
    assert parts.tolist() == [[1, 1], [1, 1], [1, 0]]
    a, b = 3 / 2, 2 / 4
    assert fairness.poprsp_from(parts.sum(axis=0), head)[0] == pytest.approx(np.std([a, b]) / np.mean([a, b]))


def test_popreo_compares_the_recall_of_liked_popular_and_long_tail_movies():
    head = fairness.head_mask(_train())
    lists = np.array([[0, 2], [1, 4]])
    relevant = [np.array([0, 5]), np.array([1, 4, 3])]  # popular liked: 0, 1 (both hit); tail: 5, 4, 3 (one hit)
    parts = fairness.reo_parts(lists, relevant, head)
    assert parts.tolist() == [[1, 0, 1, 1], [1, 1, 1, 2]]
    a, b = 2 / 2, 1 / 3
    assert fairness.popreo_from(parts.sum(axis=0))[0] == pytest.approx(np.std([a, b]) / np.mean([a, b]))


def test_miscalibration_is_the_kl_of_the_watched_mix_from_the_mixed_list_mix():
    genres = [["Drama"], ["Comedy"], ["Drama", "Comedy"], ["Horror"], ["Drama"], ["Comedy"]]
    shares, names = fairness.genre_shares(genres)
    assert names == ["Comedy", "Drama", "Horror"] and shares[2].tolist() == [0.5, 0.5, 0.0]
    train = _train()  # user 0 watched 0 (Drama), 1 (Comedy), 2 (Drama+Comedy): p = (.5, .5, 0)
    p, q = fairness.genre_mixes(np.array([0]), np.array([[3, 4]]), train, shares)  # list: Horror, Drama
    assert p[0].tolist() == [0.5, 0.5, 0.0] and q[0].tolist() == [0.0, 0.5, 0.5]
    blended = 0.99 * q[0] + 0.01 * p[0]
    expected = 0.5 * np.log(0.5 / blended[0]) + 0.5 * np.log(0.5 / blended[1])
    assert fairness.miscalibration(p, q)[0] == pytest.approx(expected)
    assert fairness.miscalibration(p, p)[0] == pytest.approx(0.0, abs=1e-12)


def test_the_bootstrap_interval_holds_the_value_and_narrows_with_more_users():
    rng = np.random.default_rng(0)
    small = np.c_[rng.normal(1, 1, 50), np.ones(50)]
    big = np.c_[rng.normal(1, 1, 5000), np.ones(5000)]
    value, low, high = fairness.bootstrap(small, fairness.weighted_mean, 500)
    assert low < value < high and value == pytest.approx(small[:, 0].mean())
    _, big_low, big_high = fairness.bootstrap(big, fairness.weighted_mean, 500)
    assert big_high - big_low < (high - low) / 5


def test_ml100k_users_fall_into_age_gender_and_occupation_groups(ml100k):
    groups = user_groups(ml100k)
    assert set(groups) == {"age", "gender", "occupation"}
    assert groups["gender"].value_counts().to_dict() == {"men": 670, "women": 273}
    assert groups["age"].isna().sum() == 0 and len(groups["occupation"].categories) == 21


def test_whom_it_helps_by_group_averages_the_change_of_the_groups_users(ml100k):
    frame = pd.DataFrame({"user": ml100k.user_ids[:6], "change": [-0.1, -0.3, 0.2, 0.0, -0.2, 0.1]})
    table = help_by_group(frame, ml100k, resamples=200)
    gender = user_groups(ml100k)["gender"][:6]
    men = table[(table["kind"] == "gender") & (table["group"] == "men")].iloc[0]
    assert men["users"] == int((gender == "men").sum())
    assert men["mean_change"] == pytest.approx(frame["change"][np.asarray(gender == "men")].mean())
