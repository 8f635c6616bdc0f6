"""One conformance test that every model passes, plus config validation."""
import threading

import numpy as np
import pytest

from recsys.data.split import Split, validation_split
from recsys.errors import ConfigError
from recsys.models import make_model, model_class
from recsys.models.fallback import fit_biases
from recsys.models.persistence import load_model, save_model
from recsys.work.catalog import builtin_labels, known_parameters, preset

FAST = {"epochs": 2, "factors": 8, "batch_size": 4096}


def _small_model(label: str):
    chosen = preset(label)
    names = known_parameters(chosen.model)
    overrides = {k: v for k, v in FAST.items() if k in names}
    if chosen.model == "nmf":
        overrides = {"factors": 4, "em_rounds": 3}
    if chosen.model == "bayes-fm":
        overrides = {"iterations": 8, "samples": 4, "rank": 4}
    if "layers" in names:
        overrides["layers"] = (16,)
    if chosen.model == "blend":  # the interface, not AutoRec's accuracy (it has its own row here)
        overrides = {"components": ("recommender-net", "item-knn"), "optional": ()}
    return make_model(chosen.model, **{**overrides, **chosen.overrides})


@pytest.fixture(scope="module")
def ml100k_split(ml100k):
    return Split("official", name="u1").apply(ml100k)


@pytest.fixture(scope="module")
def cold_setup(ml100k_split):
    """u1 with 30 users and 20 movies taken out of training (they stay in the test part), and a
    seeded validation part: the models see (fit, valid) and must treat the 50 as unknown."""
    train, test = ml100k_split
    rng = np.random.default_rng(7)
    counts = np.bincount(train.users, minlength=train.n_users)
    in_test = np.unique(test.users)
    new_users = rng.choice(in_test[counts[in_test] >= 20], 30, replace=False)
    item_counts = np.bincount(train.items, minlength=train.n_items)
    tested_items = np.unique(test.items)
    new_items = rng.choice(tested_items[item_counts[tested_items] >= 5], 20, replace=False)
    cold = np.isin(train.users, new_users) | np.isin(train.items, new_items)
    known_part, held_out = train.take(~cold), train.take(cold)
    fit_part, valid_part = validation_split(known_part, 0.1, seed=0)
    return fit_part, valid_part, held_out, test, new_users, new_items


@pytest.mark.parametrize("label", builtin_labels())
def test_model_conformance(label, cold_setup, tmp_path):
    fit_part, valid_part, held_out, test, new_users, new_items = cold_setup
    model = _small_model(label)
    history = model.fit(fit_part, valid_part)
    known = fit_part.concat(valid_part)
    warm_rows = np.isin(test.users, known.users) & np.isin(test.items, known.items)
    warm = test.take(warm_rows)
    # predict: shape and range, on the scale
    predicted = model.predict(warm.users[:500], warm.items[:500])
    assert predicted.shape == (500,) and predicted.dtype == np.float32
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0 and np.isfinite(predicted).all()
    # recommend: k items, best first, none already rated in training
    user = int(warm.users[0])
    recs = model.recommend(user, k=10)
    assert len(recs.items) == 10 and len(set(recs.items.tolist())) == 10 and not recs.fallback
    assert not set(recs.items.tolist()) & set(fit_part.concat(valid_part).items[
        fit_part.concat(valid_part).users == user].tolist())
    assert np.all(np.diff(recs.scores) <= 1e-6)
    assert not set(recs.items.tolist()) & set(new_items.tolist())  # a movie it never saw is never ranked
    _assert_known_means_trained(model, known, test, new_users, new_items, warm)
    # indices outside the data: the same fallback, never an IndexError
    fallback = model.predict(np.array([-1, user, 10**6]), np.array([0, 10**6, -5]))
    assert np.isfinite(fallback).all() and fallback.shape == (3,)
    assert len(model.recommend(10**6, k=5).items) == 5
    # save / load round trip gives the same predictions, lists and knowledge
    save_model(model, tmp_path)
    again = load_model(model_class(model.name), tmp_path, model.config)
    assert np.allclose(again.predict(warm.users[:500], warm.items[:500]), predicted, atol=1e-5)
    assert np.array_equal(again.recommend(user, k=10).items, recs.items)
    both = np.r_[warm.users[:50], test.users[~warm_rows][:50]], np.r_[warm.items[:50], test.items[~warm_rows][:50]]
    assert np.allclose(again.predict(*both), model.predict(*both), atol=1e-5)
    fitted = [log for log in history.logs if log.phase == "fit"]
    if fitted:
        assert fitted[-1].epochs >= len(fitted)
        refits = [log for log in history.logs if log.phase == "refit"]
        assert len(refits) in (0, history.best_epoch)  # refit on all training data for the best epoch count
    if model.can_fold_in:  # a new user's ratings give a full score row over the known movies
        mine = held_out.users == new_users[0]
        scores = model.fold_in(held_out.items[mine], held_out.values[mine])
        assert scores.shape == (model.n_items,)
        assert np.isfinite(scores[model.known_items(np.arange(model.n_items))]).all()
        assert np.isneginf(scores[new_items]).all()


def _assert_known_means_trained(model, known, test, new_users, new_items, warm):
    """Warm rows come from the model and do not change when mixed with new ones; rows of new
    users, new movies and both equal the regularised-bias fallback fitted on the same data."""
    mu, b_user, b_item = fit_biases(known)
    offset = _newcomer_offset_by_hand(known, mu, b_item)
    new_u, new_i = ~np.isin(test.users, known.users), ~np.isin(test.items, known.items)
    assert model.known_users(new_users).sum() == 0 and model.known_items(new_items).sum() == 0
    assert model.known_users(warm.users).all() and model.known_items(warm.items).all()
    for rows, expected in (
            (new_u & ~new_i, lambda u, i: mu + offset + b_item[i]),
            (~new_u & new_i, lambda u, i: mu + b_user[u]),
            (new_u & new_i, lambda u, i: np.full(u.shape, mu + offset))):
        u, i = test.users[rows], test.items[rows]
        assert u.size, "the cold set-up must produce every kind of row"
        assert np.allclose(model.predict(u, i), np.clip(expected(u, i), 1, 5), atol=1e-5)
    cold_u, cold_i = test.users[new_u | new_i][:200], test.items[new_u | new_i][:200]
    alone = model.predict(warm.users[:200], warm.items[:200])
    mixed = model.predict(np.r_[cold_u, warm.users[:200]], np.r_[cold_i, warm.items[:200]])
    assert np.allclose(mixed[cold_u.size:], alone, atol=1e-6)
    # a new user's list is the fallback ranking; known users never see unknown movies
    recs = model.recommend(int(new_users[0]), k=10)
    expected_top = np.argsort(-np.where(model.known_items(np.arange(model.n_items)), b_item, -np.inf),
                              kind="stable")[:10]
    assert recs.fallback and np.array_equal(np.sort(recs.items), np.sort(expected_top))
    scores = model.score_all(np.array([int(warm.users[0]), int(new_users[1])]))
    assert np.isneginf(scores[:, new_items]).all()
    assert np.isneginf(scores[:, np.setdiff1d(np.arange(model.n_items), known.items)]).all()
    assert np.allclose(scores[1][np.isfinite(scores[1])], (mu + offset + b_item)[np.isfinite(scores[1])])


def _newcomer_offset_by_hand(known, mu, b_item, first=15, reg=10.0):
    """The mean residual of every user's first 15 ratings by time, shrunk by 10 pseudo-ratings."""
    frame = known.frame().reset_index().sort_values(["user", "timestamp", "index"])
    early = frame.groupby("user").head(first)
    residual = early["rating"].to_numpy(float) - mu - b_item[early["item"].to_numpy()]
    return residual.sum() / (len(residual) + reg)


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
    known = model.known_items(np.arange(1682))
    assert scores.shape == (1682,) and np.isfinite(scores[known]).all() and np.isneginf(scores[~known]).all()
    with pytest.raises(ConfigError, match="at least one rated movie that the model knows"):
        model.fold_in(np.array([], dtype=int), np.array([]))
    with pytest.raises(ConfigError, match="one rating per movie"):
        model.fold_in(np.array([0, 1]), np.array([5.0]))
    deep = make_model("deep-mf", epochs=1, layers=(8,))
    deep.fit(train)
    assert not deep.can_fold_in
    with pytest.raises(ConfigError, match="cannot fold in a new user"):
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
    with pytest.raises(ConfigError, match="nmf works on a dense users x movies matrix"):
        make_model("nmf", max_cells=10).fit(train)


def test_ials_reports_its_weighted_loss_and_it_falls(ml100k_split):
    from recsys.models.baselines import _ials_loss

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))

    class Rated:
        users, items = np.array([0, 1, 2, 4]), np.array([0, 3, 2, 1])

        def __len__(self):
            return 4
    scores, confidence, preference = x @ y.T, np.ones((5, 4)), np.zeros((5, 4))
    confidence[Rated.users, Rated.items], preference[Rated.users, Rated.items] = 3.0, 1.0
    dense = (np.sum(confidence * (preference - scores) ** 2) + 0.5 * (np.sum(x * x) + np.sum(y * y))) / 4
    assert _ials_loss(x, y, Rated(), 0.5, 2.0) == pytest.approx(dense)
    train, _ = ml100k_split
    history = make_model("ials", factors=8, iterations=4).fit(train)
    losses = history.frame()["loss"].to_numpy()
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_blend_declares_its_stages_and_announces_them():
    model = make_model("blend", components=("recommender-net", "item-knn"), optional=())
    names = [stage.name for stage in model.stages()]
    assert names == ["part 1 of 2: recommender-net (4 networks)", "part 2 of 2: item-knn", "blend weights"]
    assert model.stages()[0].refits and not model.stages()[1].refits
    one = make_model("blend", components=("recommender-net", "item-knn"), optional=(), part_networks=1)
    assert one.stages()[0].name == "part 1 of 2: recommender-net"


def test_declared_abilities_match_what_the_models_do():
    """Pages and the CLI read abilities from the classes; each declaration matches the class."""
    from recsys.models import MODELS
    from recsys.models.base import Recommender
    from recsys.models.outputs import RankingOnly
    from recsys.work.catalog import blend_parts, map_labels, ranking_capable

    for name, cls in MODELS.items():
        assert cls.explains == hasattr(cls, "because"), name
        assert cls.trains_for_ranking == ("objective" in known_parameters(name)), name
        if cls.draws_on_a_map:
            assert cls.factors is not Recommender.factors, name
        assert cls.blendable == (not issubclass(cls, RankingOnly) and name != "blend"), name
        assert cls.distributes == ("strategy" in known_parameters(name)), name
        assert cls.seconds_per_100k > 0, name
        assert cls.curve_note == "" or name in ("blend", "bayes-fm"), name  # curves that are not plain epochs say so
    assert "recommender-net" in map_labels() and "gmf-ranking" in map_labels() and "deep-mf" not in map_labels()
    assert "ease" not in blend_parts() and "blend" not in blend_parts() and "autorec" in blend_parts()
    assert set(ranking_capable()) == {"mf", "biased-mf", "deep-mf", "recommender-net", "gmf", "mlp", "neumf"}
