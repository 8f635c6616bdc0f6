"""Recommendations checked against what the user rated later (time and temporal splits)."""
import math

import numpy as np
import pytest

from recsys.data.split import Split
from recsys.explain.recommend import against_the_future, users_who_rated_later
from recsys.models import make_model


@pytest.fixture(scope="module")
def temporal(ml_small):
    split = Split("temporal", fraction=0.2)
    train, test = split.apply(ml_small)
    model = make_model("ease")
    model.fit(train)
    return split, model, train, test


def test_marks_the_top10_movies_the_user_rated_later(ml_small, temporal):
    split, model, train, test = temporal
    checked = [against_the_future(model, ml_small, split, user) for user in range(40)]
    assert sum(c.hits for c in checked) > 0  # ease finds some of what people went on to watch
    for user, check in enumerate(checked):
        later = dict(zip(test.items[test.users == user].tolist(), test.values[test.users == user].tolist()))
        assert len(check.table) == 10 and check.later == len(later)
        for row in check.table.itertuples(index=False):
            assert row[2] == (row.item in later)  # "rated later"
            assert (row[3] == later[row.item]) if row.item in later else math.isnan(row[3])
        trained = set(train.items[train.users == user].tolist())
        assert not trained & set(check.table["item"].tolist())  # only movies unseen in training
        assert check.hits == int(check.table["rated later"].sum())
        assert (check.hits == 0) <= (check.ndcg == 0 or math.isnan(check.ndcg))
        assert "rated by this user later" in check.note


def test_ndcg_matches_the_evaluation(ml_small, temporal):
    from recsys.evaluation.evaluate import evaluate_top_k

    split, model, train, test = temporal
    users = np.unique(test.users[test.values >= 4.0])[:25]
    mine = [against_the_future(model, ml_small, split, int(u)).ndcg for u in users]
    overall = evaluate_top_k(model, train, test.take(np.isin(test.users, users)))
    assert np.mean(mine) == pytest.approx(overall.ndcg)


def test_full_split_has_nothing_to_check(ml_small):
    model = make_model("global-mean")
    model.fit(ml_small.ratings)
    assert against_the_future(model, ml_small, Split("full"), 0) is None


def test_users_who_rated_later_come_most_first(ml_small, temporal):
    split, _, _, test = temporal
    ids = users_who_rated_later(ml_small, split, n=3)
    counts = np.bincount(test.users, minlength=ml_small.n_users)
    assert [ml_small.user_ids[u] for u in np.argsort(-counts, kind="stable")[:3]] == ids
    assert counts[list(ml_small.user_ids).index(ids[0])] == counts.max()
