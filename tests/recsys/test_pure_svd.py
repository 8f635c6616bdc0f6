"""PureSVD against its definition, and as the pages' quick stand-in."""
import numpy as np
import pytest
from scipy import sparse

from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.models import make_model, model_class
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL, STAND_IN, stand_in


@pytest.fixture(scope="module")
def ml100k_split(ml100k):
    return Split("official", name="u1").apply(ml100k)


def _dense(train) -> np.ndarray:
    return sparse.csr_matrix((train.values, (train.users, train.items)), shape=(train.n_users, train.n_items)).toarray()


def test_pure_svd_scores_are_the_rows_projected_on_the_top_singular_vectors(ml100k_split):
    train, test = ml100k_split
    model = make_model("pure-svd", factors=20)
    model.fit(train)
    ratings = _dense(train)
    _, _, vt = np.linalg.svd(ratings, full_matrices=False)
    top = vt[:20].T
    users = np.array([0, 5, 400])
    assert np.allclose(model.score_all(users)[:, model._item_known], (ratings[users] @ top @ top.T)[:, model._item_known],
                       atol=1e-6)
    # a user folded in from their own ratings gets the same scores as when trained
    rated = np.flatnonzero(ratings[5])
    assert np.allclose(model.fold_in(rated, ratings[5, rated])[model._item_known],
                       model.score_all(np.array([5]))[0, model._item_known], atol=1e-6)
    # the same fit twice is the same map (the sign of each factor is fixed)
    again = make_model("pure-svd", factors=20)
    again.fit(train)
    assert np.allclose(again.factors().items, model.factors().items)
    assert model.factors().items.shape == (train.n_items, 20) and model_class("pure-svd").draws_on_a_map


def test_pure_svd_on_a_matrix_smaller_than_its_factors():
    train, _ = Split(fraction=0.25).apply(mini_dataset())
    model = make_model("pure-svd", factors=32)
    model.fit(train)
    assert model.factors().items.shape[1] <= min(train.n_users, train.n_items)
    assert np.isfinite(model.score_all(np.arange(train.n_users))[:, model._item_known]).all()


@pytest.mark.parametrize("label, expected", [(DEFAULT_RANKING_MODEL, STAND_IN), (DEFAULT_FACTOR_MODEL, STAND_IN),
                                             (DEFAULT_RATING_MODEL, None), ("biased-mf", None)])
def test_the_page_defaults_have_a_quick_stand_in(label, expected):
    assert stand_in(label) == expected
