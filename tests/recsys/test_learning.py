"""Learning on real ml-latest-small with a fixed seed and the default hyper-parameters.

Each rating model must beat the global mean clearly; the models with biases (biased-mf,
recommender-net) must beat the regularised bias baseline. mf and gmf have no bias terms and must
learn them through the factors, and the dense towers (deep-mf, mlp, neumf) overfit ml-latest-small
within two or three epochs, so they are held to "close to the bias baseline" (within 0.03).
Ranking-trained models must produce clearly better top-10 lists than the rating-trained BiasedMF.
"""
import numpy as np
import pytest

from recsys.catalog import preset
from recsys.evaluate import evaluate
from recsys.models import make_model
from recsys.split import Split, validation_split


@pytest.fixture(scope="module")
def parts(ml_small):
    train, test = Split().apply(ml_small)
    fit, valid = validation_split(train, 0.1, seed=42)
    return train, test, fit, valid


@pytest.fixture(scope="module")
def baseline_rmse(parts):
    train, test, _, _ = parts
    rmse = {}
    for name in ("global-mean", "biases"):
        model = make_model(name)
        model.fit(train)
        rmse[name] = evaluate(model, train, test)["rmse"]
    return rmse


def _rmse(name, parts):
    train, test, fit, valid = parts
    model = make_model(name)
    model.fit(fit, valid)
    return evaluate(model, train, test)


@pytest.mark.parametrize("name", ["biased-mf", "recommender-net"])
def test_biased_models_beat_the_bias_baseline(name, parts, baseline_rmse):
    assert baseline_rmse["biases"] < baseline_rmse["global-mean"] - 0.1
    assert _rmse(name, parts)["rmse"] < baseline_rmse["biases"] - 0.005


@pytest.mark.parametrize("name", ["mf", "gmf", "deep-mf", "mlp", "neumf"])
def test_other_rating_models_learn(name, parts, baseline_rmse):
    rmse = _rmse(name, parts)["rmse"]
    assert rmse < baseline_rmse["global-mean"] - 0.1
    assert rmse < baseline_rmse["biases"] + 0.06


def test_ranking_training_gives_better_top10(parts):
    train, test, fit, valid = parts
    rating = make_model("biased-mf")
    rating.fit(fit, valid)
    chosen = preset("gmf-ranking")
    ranking = make_model(chosen.model, **chosen.overrides)
    ranking.fit(fit, valid)
    by_rating, by_ranking = evaluate(rating, train, test), evaluate(ranking, train, test)
    assert np.isnan(by_ranking["rmse"])
    assert by_ranking["ndcg"] > 1.3 * by_rating["ndcg"] and by_ranking["ndcg"] > 0.1
    assert by_ranking["precision"] > by_rating["precision"]
