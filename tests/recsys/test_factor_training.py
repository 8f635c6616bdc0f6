"""The compiled trainer of the dot-product models: its steps are Keras' steps (loss, gradients,
row-sparse Adam, the non-negative constraint), it early-stops and refits as the Keras loop does,
its tables become the Keras network's weights, and the blend's Keras part uses it."""
import threading

import numpy as np
import pytest

from recsys.data.dataset import Ratings, RatingScale
from recsys.data.split import validation_split
from recsys.errors import ConfigError
from recsys.evaluation.evaluate import rmse
from recsys.models import make_model
from recsys.models.factor_training import CompiledTrainer
from recsys.models.persistence import load_model, save_model


def _ratings(seed: int = 0, n_users: int = 40, n_items: int = 30, n: int = 500) -> Ratings:
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_items, n, replace=False)
    users, items = cells % n_users, cells // n_users
    taste = rng.normal(size=n_users)[users] * rng.normal(size=n_items)[items]
    values = np.clip(np.round((3.2 + taste + rng.normal(0, 0.4, n)) * 2) / 2, 0.5, 5.0).astype(np.float32)
    return Ratings(users, items, values, np.arange(n, dtype=np.int64), n_users, n_items, RatingScale(0.5, 5.0, 0.5))


def _keras_steps(model, trainer: CompiledTrainer, users, items, targets, batch: int, steps: int):
    """The Keras network of `model`, starting from the trainer's tables, after `steps` batches of
    Keras' own training step (LazyAdam, the model's loss) in the order given, and the mean of
    those batches' losses."""
    import keras

    from recsys.models.optimizers import lazy_adam

    network = model.build(int(users.max()) + 1, int(items.max()) + 1)
    for layer, weights in trainer.layer_weights().items():
        network.get_layer(layer).set_weights([weights.copy()])
    loss = keras.losses.BinaryCrossentropy(from_logits=True) if model._uses_sigmoid else "mse"
    network.compile(optimizer=lazy_adam(model.config.learning_rate), loss=loss, jit_compile=False)
    losses = []
    for step in range(steps):
        part = slice(step * batch, (step + 1) * batch)
        losses.append(float(network.train_on_batch([users[part], items[part]], targets[part, None])))
    return {layer: network.get_layer(layer).get_weights()[0] for layer in trainer.layer_weights()}, np.mean(losses)


@pytest.mark.parametrize("name,options", [("recommender-net", {}), ("biased-mf", {}), ("mf", {}),
                                          ("mf", {"non_negative": True, "center": False})])
def test_compiled_steps_are_keras_steps(name, options):
    ratings = _ratings()
    model = make_model(name, trainer="compiled", factors=6, learning_rate=0.05, **options)
    model.scale = ratings.scale
    model._offset = float(ratings.values.mean()) if model.rating_head == "centered" and model.config.center else 0.0
    users, items = ratings.users.astype(np.int32), ratings.items.astype(np.int32)
    targets = model._rating_targets(ratings).astype(np.float32)
    trainer = CompiledTrainer(ratings.n_users, ratings.n_items, 6, model.has_biases, model.config.non_negative, 3)
    for table in trainer.tables[2:]:  # non-zero biases, so their gradients and penalty count
        table[...] = np.random.default_rng(4).normal(0, 0.2, table.shape)
    batch, steps = 64, 5
    expected, expected_loss = _keras_steps(model, trainer, users, items, targets, batch, steps)

    class InOrder:  # the kernel shuffles with the generator it is given: here, no shuffle
        def permutation(self, n):
            return np.arange(n)
    loss = trainer.epoch(users[:batch * steps], items[:batch * steps], targets[:batch * steps], InOrder(), batch,
                         model.config.learning_rate, model.config.l2, model._uses_sigmoid, lambda: False)
    assert loss == pytest.approx(expected_loss, rel=1e-4) and trainer.step == steps
    for layer, weights in trainer.layer_weights().items():  # within 0.2% of one step of the learning rate
        np.testing.assert_allclose(weights, expected[layer], atol=1e-4, err_msg=layer)
    if model.config.non_negative:
        assert (trainer.tables[0] >= 0).all() and (trainer.tables[1] >= 0).all()


def test_compiled_fit_early_stops_refits_and_hands_its_tables_to_keras(tmp_path):
    ratings = _ratings(1, n_users=60, n_items=40, n=1200)
    train, test = validation_split(ratings, 0.2, seed=1)
    fit, valid = validation_split(train, 0.1, seed=42)
    logs = []
    model = make_model("recommender-net", trainer="compiled", epochs=12, patience=2)
    history = model.fit(fit, valid, callbacks=[logs.append])
    phases = [log.phase for log in logs]
    assert phases.count("refit") == history.best_epoch and "fit" in phases
    assert all(log.val_rmse is not None for log in logs if log.phase == "fit")
    assert model.validation_predictions.shape == (len(valid),)
    users, bias, items, _ = model._linear
    np.testing.assert_array_equal(users, model.keras_model.get_layer("user_embedding").get_weights()[0])
    assert np.isfinite(rmse(model.predict(test.users, test.items), test.values))
    save_model(model, tmp_path)
    loaded = load_model(type(model), tmp_path, model.config)
    np.testing.assert_allclose(loaded.predict(test.users, test.items), model.predict(test.users, test.items),
                               atol=1e-5)
    again = make_model("recommender-net", trainer="compiled", epochs=12, patience=2)
    again.fit(fit, valid)
    np.testing.assert_array_equal(again.predict(test.users, test.items), model.predict(test.users, test.items))


def test_compiled_fit_matches_keras_fit_in_accuracy():
    ratings = _ratings(2, n_users=80, n_items=50, n=2500)
    train, test = validation_split(ratings, 0.2, seed=1)
    fit, valid = validation_split(train, 0.1, seed=42)
    scores = {}
    for trainer in ("keras", "compiled"):
        model = make_model("biased-mf", trainer=trainer, epochs=8, factors=8)
        model.fit(fit, valid)
        scores[trainer] = rmse(model.predict(test.users, test.items), test.values)
    assert abs(scores["compiled"] - scores["keras"]) < 0.02, scores


def test_a_stop_ends_the_compiled_fit_with_the_tables_it_had():
    ratings = _ratings(3, n_users=60, n_items=40, n=1200)
    fit, valid = validation_split(ratings, 0.1, seed=42)
    stop = threading.Event()
    model = make_model("mf", trainer="compiled", epochs=50, patience=50)
    history = model.fit(fit, valid, callbacks=[lambda log: stop.set() if log.epoch == 2 else None], stop=stop)
    assert history.stopped and len(history.logs) == 2
    assert model.keras_model is not None and np.isfinite(model.predict(valid.users, valid.items)).all()


def test_the_compiled_trainer_is_declared_where_it_applies():
    with pytest.raises(ConfigError, match="trainer=compiled"):
        make_model("recommender-net", trainer="compiled", objective="ranking")
    with pytest.raises(ConfigError, match="trainer=compiled"):
        make_model("mf", trainer="compiled", strategy="mirrored")
    with pytest.raises(ConfigError, match="trainer"):
        make_model("deep-mf", trainer="compiled")
    assert make_model("recommender-net").config.trainer == "keras"


def test_the_blends_keras_part_trains_compiled_unless_told_otherwise():
    keras_part = {"components": ("recommender-net", "item-knn"), "optional": ()}
    blend = make_model("blend", **keras_part)
    assert blend._components()[0].config.trainer == "compiled"
    told = make_model("blend", **keras_part, part_settings=("recommender-net.trainer=keras",))
    assert told._components()[0].config.trainer == "keras"
    assert make_model("blend", **keras_part, part_trainer="keras")._components()[0].config.trainer == "keras"
    with pytest.raises(ConfigError, match="trainer=compiled"):
        make_model("blend", **keras_part, part_settings=("recommender-net.strategy=mirrored",))


def test_the_blends_bag_averages_its_networks_and_saves_each(tmp_path):
    from recsys.models.bag import Bag

    ratings = _ratings(5, n_users=70, n_items=45, n=1800)
    train, test = validation_split(ratings, 0.2, seed=1)
    fit, valid = validation_split(train, 0.1, seed=42)
    logs = []
    blend = make_model("blend", components=("recommender-net", "biases"), optional=(), part_networks=3,
                       part_epochs=6)
    blend.fit(fit, valid, callbacks=[logs.append])
    bag = blend.parts[0]
    assert isinstance(bag, Bag) and [m.config.seed for m in bag.members] == [42, 43, 44]
    assert "3 networks" in blend.stages()[0].name
    first = []
    make_model("recommender-net", trainer="compiled", epochs=6).fit(fit, valid, callbacks=[first.append])
    assert [log.loss for log in logs] == [log.loss for log in first]  # the curve is the first network's
    alone = make_model("recommender-net", trainer="compiled", epochs=6, seed=43)
    alone.fit(fit, valid)
    np.testing.assert_allclose(bag.members[1].predict(test.users, test.items), alone.predict(test.users, test.items),
                               atol=1e-6)  # the same network, trained beside the others
    members = [m.scale.clip(m._predict_known(test.users, test.items)) for m in bag.members]
    np.testing.assert_allclose(bag._predict_known(test.users, test.items), np.mean(members, axis=0), atol=1e-6)
    np.testing.assert_allclose(bag.validation_predictions, np.mean([m.validation_predictions for m in bag.members],
                                                                   axis=0))
    assert blend.factors() is not None and np.array_equal(blend.factors().items, bag.members[0].factors().items)
    assert np.isfinite(blend.fold_in(np.array([0, 1, 2]), np.array([5.0, 4.0, 1.0]))).all()
    save_model(blend, tmp_path)
    assert {p.name for p in tmp_path.glob("*.keras")} == {"model.keras", "model-2.keras", "model-3.keras"}
    loaded = load_model(type(blend), tmp_path, blend.config)
    np.testing.assert_allclose(loaded.predict(test.users, test.items), blend.predict(test.users, test.items),
                               atol=1e-5)


def test_a_stop_ends_the_bag_and_the_blend():
    ratings = _ratings(6, n_users=60, n_items=40, n=1200)
    fit, valid = validation_split(ratings, 0.1, seed=42)
    stop = threading.Event()
    blend = make_model("blend", components=("recommender-net", "biases"), optional=(), part_networks=4,
                       part_epochs=40)
    history = blend.fit(fit, valid, callbacks=[lambda log: stop.set()], stop=stop)
    assert history.stopped


def test_the_bag_is_one_network_at_scale():
    from recsys.models import sizing
    from recsys.models.blend import Blend

    overrides, notes = Blend.settings_for_size(sizing.LARGE_RATINGS + 1, 50_000)
    assert overrides["part_networks"] == 1 and overrides["components"] == ("bayes-fm",)
    assert Blend.settings_for_size(100_000, 9_000)[0].get("part_networks") is None


def test_a_bag_of_keras_fit_networks_trains_them_in_turn_and_seeded():
    ratings = _ratings(7, n_users=50, n_items=30, n=900)
    fit, valid = validation_split(ratings, 0.1, seed=42)
    runs = []
    for _ in range(2):
        blend = make_model("blend", components=("recommender-net", "biases"), optional=(), part_networks=2,
                           part_trainer="keras", part_epochs=2)
        assert not blend._components()[0].members[0].fits_in_threads
        blend.fit(fit, valid)
        runs.append(blend.predict(valid.users, valid.items))
    np.testing.assert_array_equal(runs[0], runs[1])  # each network seeded as if alone
