"""Learning on real ml-latest-small with a fixed seed and the default hyper-parameters.

Each rating model must beat the global mean clearly; the models with biases (biased-mf,
recommender-net) must beat the regularised bias baseline. mf and gmf have no bias terms and must
learn them through the factors, and the dense towers (deep-mf, mlp, neumf) overfit ml-latest-small
within two or three epochs, so they are held to "close to the bias baseline" (within 0.03).
Ranking-trained models must produce clearly better top-10 lists than the rating-trained BiasedMF.
"""
import numpy as np
import pytest

from recsys.data.split import Split, validation_split
from recsys.evaluation.evaluate import evaluate
from recsys.models import make_model
from recsys.work.catalog import preset


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


@pytest.fixture(scope="module")
def new_user_setup(ml100k):
    """ml-100k u1 with 60 test users taken out of training: their training ratings are held out
    and later folded in, as for a person who shows up with a few ratings."""
    train, test = Split("official", name="u1").apply(ml100k)
    rng = np.random.default_rng(7)
    counts = np.bincount(train.users, minlength=train.n_users)
    in_test = np.unique(test.users)
    new_users = rng.choice(in_test[counts[in_test] >= 20], 60, replace=False)
    cold = np.isin(train.users, new_users)
    fit, valid = validation_split(train.take(~cold), 0.1, seed=0)
    return fit, valid, train.take(cold), test, new_users


@pytest.mark.parametrize("name", ["biases", "item-knn", "mf", "biased-mf", "recommender-net", "gmf", "blend"])
def test_fold_in_beats_the_bias_fallback_for_new_users(name, new_user_setup):
    """Folding in each new user's held-out ratings predicts their test ratings better, on average
    over users, than the mean + movie bias the model gives a user it does not know."""
    fit, valid, held_out, test, new_users = new_user_setup
    model = make_model(name)
    model.fit(fit, valid)
    assert model.can_fold_in and not model.known_users(new_users).any()
    folded, fallback = [], []
    for user in new_users:
        mine, tested = held_out.users == user, (test.users == user) & model.known_items(test.items)
        if not tested.any():
            continue
        targets, actual = test.items[tested], test.values[tested]
        with_fold_in = model.fold_in_predict(held_out.items[mine], held_out.values[mine], targets)
        without = model.predict(np.full(targets.shape, user), targets)
        folded.append(np.sqrt(np.mean((with_fold_in - actual) ** 2)))
        fallback.append(np.sqrt(np.mean((without - actual) ** 2)))
    assert len(folded) >= 50
    assert np.mean(folded) < np.mean(fallback) - 0.03, (np.mean(folded), np.mean(fallback))


def test_item_knn_is_not_thrown_by_a_new_user_with_one_rating(new_user_setup):
    """A newcomer's one rating used to move every neighbour of that movie by its whole residual
    (sum(sim * r) / sum(sim) with one term is r): worse than knowing nothing. The damping added to
    the summed similarity keeps one rating's pull small."""
    fit, valid, held_out, test, new_users = new_user_setup
    errors = {}
    for damping in (0.0, 0.25):
        model = make_model("item-knn", damping=damping)
        model.fit(fit, valid)
        folded, fallback, actual = [], [], []
        for user in new_users:
            mine = np.flatnonzero(held_out.users == user)
            first = mine[np.argsort(held_out.timestamps[mine], kind="stable")[:1]]
            tested = (test.users == user) & model.known_items(test.items)
            if not tested.any() or not model.known_items(held_out.items[first]).any():
                continue
            folded.append(model.fold_in_predict(held_out.items[first], held_out.values[first], test.items[tested]))
            fallback.append(model.predict(np.full(tested.sum(), user), test.items[tested]))
            actual.append(test.values[tested])
        truth = np.concatenate(actual)
        errors[damping] = [np.sqrt(np.mean((np.concatenate(p) - truth) ** 2)) for p in (folded, fallback)]
    (undamped, fallback_error), (damped, _) = errors[0.0], errors[0.25]
    assert damped < fallback_error + 0.01 < undamped, errors
