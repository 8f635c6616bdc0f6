"""Per-size settings: what the pages train at MovieLens-25M's size, and the sampled maps."""
import numpy as np
import pytest

from recsys.data.synthetic import synthetic_dataset
from recsys.errors import ConfigError
from recsys.explain import explore
from recsys.models import make_model
from recsys.models.sizing import LARGE_EPOCHS, LARGE_RATINGS
from recsys.work.catalog import preset, size_defaults
from recsys.work.plan import resolve_config


def test_small_sets_keep_every_default():
    for label in ("ease", "blend", "bayes-fm", "recommender-net", "gmf-ranking", "item-knn"):
        assert size_defaults(label, 100_836, 9_724) == ({}, "")


def test_at_25m_each_default_model_gets_settings_that_fit_and_says_so():
    ease, note = size_defaults("ease", 25_000_000, 59_047)
    assert ease == {"most_rated": True, "max_items": 10_000} and "10,000 most-rated of 59,047" in note
    blend, note = size_defaults("blend", 25_000_000, 59_047)
    assert blend["components"] == ("bayes-fm",) and "bayes-fm part alone" in note
    fm, fm_note = size_defaults("bayes-fm", 25_000_000, 59_047)
    assert fm["refit"] is False and fm["max_ratings"] == 12_000_000 and not fm["user_implicit"] \
        and "16 Gibbs iterations" in fm_note
    from recsys.budget import Shape, model_budget
    from recsys.models import model_class

    assert model_class("blend").estimate(make_model("blend", **blend).config, Shape(162_541, 59_047, 25_000_000)).bytes \
        < model_budget()  # the default trains at 25M under the per-training budget
    assert fm_note in note  # the blend says what its part was cut to
    blended = make_model("blend", **blend)
    assert {k: getattr(blended.config.part_config("bayes-fm"), k) for k in fm} == fm  # and its part trains so
    net, _ = size_defaults("recommender-net", 25_000_000, 59_047)
    assert net == {"batch_size": 65_536, "epochs": LARGE_EPOCHS}
    for label, overrides in (("ease", ease), ("blend", blend), ("bayes-fm", fm), ("recommender-net", net)):
        chosen = preset(label, **overrides)
        resolve_config(chosen.model, chosen.overrides)  # valid settings
    assert size_defaults("blend", LARGE_RATINGS, 20_000)[0].get("components") is None


def test_a_blend_sized_for_its_data_gives_each_part_the_settings_it_would_take_alone():
    blend, note = size_defaults("blend", 2_000_000, 40_000)
    assert blend == {"parts_sized_for": 2_000_000} and note == ""
    sized = make_model("blend", components=("recommender-net", "item-knn"), optional=(), **blend)
    net, knn = sized._components()
    alone, _ = size_defaults("recommender-net", 2_000_000, 40_000)
    assert {k: getattr(net.config, k) for k in alone} == alone and knn.config == make_model("item-knn").config


def test_a_blend_passes_its_scale_settings_to_its_keras_part():
    blend = make_model("blend", components=("recommender-net",), optional=(), part_batch_size=4096, part_epochs=2)
    (part,) = blend._components()
    assert part.config.batch_size == 4096 and part.config.epochs == 2
    with pytest.raises(ConfigError):
        make_model("blend", part_batch_size=-1)


def test_ease_keeps_the_most_rated_items_when_asked_and_refuses_otherwise():
    data = synthetic_dataset(30_000, n_users=800, n_items=600, seed=2)
    with pytest.raises(ConfigError, match="most_rated"):
        make_model("ease", max_items=100, min_count=1).fit(data.ratings)
    model = make_model("ease", max_items=100, min_count=1, most_rated=True)
    model.fit(data.ratings)
    counts = np.bincount(data.ratings.items, minlength=data.n_items)
    assert model._keep.size == 100 and counts[model._keep].min() >= np.sort(counts)[-100]
    top = model.recommend(0, 10)
    assert np.isin(top.items, model._keep).all()


def test_tsne_maps_of_big_catalogues_run_on_the_most_rated_sample(monkeypatch):
    data = synthetic_dataset(40_000, n_users=500, n_items=2_000, seed=4)
    model = make_model("mf", factors=4, epochs=1)
    model.fit(data.ratings)
    monkeypatch.setattr(explore, "TSNE_MAX_POINTS", 300)
    monkeypatch.setattr(explore, "project", lambda vectors, method, dims=2: np.asarray(vectors)[:, :dims])
    points = explore.item_map(data, model, "tsne")
    assert len(points) == 300 and "300 most-rated" in points.attrs["note"]
    counts = np.bincount(data.ratings.items, minlength=data.n_items)
    assert counts[points["item"]].min() >= np.sort(counts)[-300]
    assert explore.item_map(data, model, "pca").attrs["note"] == ""
    monkeypatch.setattr(explore, "USER_MAP_MAX_POINTS", 100)
    users = explore.user_map(data, model)
    assert len(users) == 100 and "100 most active of 500" in users.attrs["note"]
