"""One conformance test that every model passes, plus config validation."""
import threading

import numpy as np
import pytest

from recsys.catalog import all_labels, known_parameters, preset
from recsys.errors import ConfigError
from recsys.models import make_model, model_class
from recsys.split import Split

FAST = {"epochs": 2, "factors": 8, "batch_size": 4096}


def _small_model(label: str):
    chosen = preset(label)
    names = known_parameters(chosen.model)
    overrides = {k: v for k, v in FAST.items() if k in names}
    if chosen.model == "nmf":
        overrides = {"factors": 4, "em_rounds": 3}
    if "layers" in names:
        overrides["layers"] = (16,)
    return make_model(chosen.model, **{**overrides, **chosen.overrides})


@pytest.fixture(scope="module")
def ml100k_split(ml100k):
    return Split("official", name="u1").apply(ml100k)


@pytest.mark.parametrize("label", all_labels())
def test_model_conformance(label, ml100k_split, tmp_path):
    train, test = ml100k_split
    model = _small_model(label)
    history = model.fit(train, test)
    # predict: shape and range, on the scale
    predicted = model.predict(test.users[:500], test.items[:500])
    assert predicted.shape == (500,) and predicted.dtype == np.float32
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0 and np.isfinite(predicted).all()
    # recommend: k items, best first, none already rated in train
    user = int(train.users[0])
    recs = model.recommend(user, k=10)
    assert len(recs.items) == 10 and len(set(recs.items.tolist())) == 10
    assert not set(recs.items.tolist()) & set(train.items[train.users == user].tolist())
    assert np.all(np.diff(recs.scores) <= 1e-6)
    # unknown user / item: documented fallback, never an IndexError
    fallback = model.predict(np.array([-1, user, 10**6]), np.array([0, 10**6, -5]))
    assert np.isfinite(fallback).all() and fallback.shape == (3,)
    assert len(model.recommend(10**6, k=5).items) == 5
    # save / load round trip gives the same predictions and lists
    model.save(tmp_path)
    again = model_class(model.name).load(tmp_path, model.config)
    assert np.allclose(again.predict(test.users[:500], test.items[:500]), predicted, atol=1e-5)
    assert np.array_equal(again.recommend(user, k=10).items, recs.items)
    fitted = [log for log in history.logs if log.phase == "fit"]
    if fitted:
        assert fitted[-1].epochs >= len(fitted)
        refits = [log for log in history.logs if log.phase == "refit"]
        assert len(refits) in (0, history.best_epoch)  # refit on all training data for the best epoch count


def test_factors_shapes(ml100k_split):
    train, _ = ml100k_split
    model = make_model("biased-mf", factors=6, epochs=1)
    model.fit(train)
    factors = model.factors()
    assert factors.users.shape == (943, 6) and factors.items.shape == (1682, 6)
    assert make_model("biases").factors() is None


def test_stop_flag_ends_training_early(ml100k_split):
    train, test = ml100k_split
    stop = threading.Event()
    seen = []

    def halt(log):
        seen.append(log.epoch)
        stop.set()
    history = make_model("mf", epochs=50, factors=4).fit(train, test, callbacks=[halt], stop=stop)
    assert history.stopped and seen == [1] and len(history.logs) == 1


def test_training_is_reproducible(ml100k_split):
    train, test = ml100k_split
    a = make_model("biased-mf", epochs=2, factors=8, seed=5)
    b = make_model("biased-mf", epochs=2, factors=8, seed=5)
    a.fit(train)
    b.fit(train)
    assert np.allclose(a.predict(test.users, test.items), b.predict(test.users, test.items), atol=1e-4)


def test_fold_in_recommends_for_a_new_user(ml100k_split):
    train, _ = ml100k_split
    model = make_model("biased-mf", epochs=3, factors=8)
    model.fit(train)
    scores = model.fold_in(np.array([0, 1, 2]), np.array([5.0, 4.0, 1.0]))
    assert scores.shape == (1682,) and np.isfinite(scores).all()
    with pytest.raises(ConfigError, match="at least one rated"):
        model.fold_in(np.array([], dtype=int), np.array([]))
    deep = make_model("deep-mf", epochs=1, layers=(8,))
    deep.fit(train)
    with pytest.raises(ConfigError, match="no linear item factors"):
        deep.fold_in(np.array([0]), np.array([5.0]))


@pytest.mark.parametrize("name, kwargs, message", [
    ("mf", {"factors": -3}, "factors must be between 1"),
    ("mf", {"factors": 2.5}, "factors must be a whole number"),
    ("mf", {"epochs": 0}, "epochs must be between 1"),
    ("mf", {"learning_rate": 0.0}, r"learning_rate must be in \(0"),
    ("mf", {"learning_rate": 5.0}, "learning_rate must be in"),
    ("mf", {"l2": -1.0}, "l2 must be in"),
    ("mf", {"batch_size": 0}, "batch_size must be between 1"),
    ("mf", {"objective": "fun"}, "objective must be one of"),
    ("mf", {"center": "yes"}, "center must be true or false"),
    ("mf", {"colour": 3}, "unknown hyper-parameter"),
    ("deep-mf", {"layers": ()}, "layers must be"),
    ("deep-mf", {"layers": (64, -1)}, "layers must be"),
    ("deep-mf", {"dropout": 1.5}, "dropout must be in"),
    ("biases", {"reg_user": -1}, "reg_user must be in"),
    ("nmf", {"factors": 0}, "factors must be between 1"),
    ("knn", {}, "unknown model"),
])
def test_bad_hyper_parameters_are_refused(name, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_model(name, **kwargs)


def test_misuse_gives_clear_errors(ml100k_split):
    train, _ = ml100k_split
    with pytest.raises(ConfigError, match="not fitted"):
        make_model("biases").predict(np.array([0]), np.array([0]))
    model = make_model("biases")
    model.fit(train)
    with pytest.raises(ConfigError, match="k must be a positive"):
        model.recommend(0, k=0)
    with pytest.raises(ConfigError, match="same length"):
        model.predict(np.array([0, 1]), np.array([0]))
    with pytest.raises(ConfigError, match="ranking objective"):
        preset("biases-ranking")
    with pytest.raises(ConfigError, match="nmf works on a dense matrix"):
        make_model("nmf", max_cells=10).fit(train)
