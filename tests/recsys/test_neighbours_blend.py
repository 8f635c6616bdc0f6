"""item-knn against a brute-force reading of its formula, and the blend against its parts."""
import numpy as np
import pytest

from recsys.data.split import Split, validation_split
from recsys.errors import ConfigError
from recsys.evaluation.evaluate import rmse
from recsys.models import make_model, stacking
from recsys.models.persistence import load_model, save_model


@pytest.fixture(scope="module")
def parts(ml100k):
    return Split("official", name="u1").apply(ml100k)


def _rated(model):
    """The residual matrix's pattern (users x movies), 1 where a rating is stored."""
    binary = model._cols.copy()
    binary.data[:] = 1.0
    return binary


def _similarity(model, targets: np.ndarray) -> np.ndarray:
    """Shrunk Pearson-baseline similarities of `targets` with every movie by sparse products,
    the reference the compiled blocks (`knn_walk.pearson_block`) are checked against."""
    a, a_bin = model._cols, _rated(model)
    a_sq = a.multiply(a).tocsc()
    t, t_bin, t_sq = (m[:, targets] for m in (a, a_bin, a_sq))
    numerator = (t.T @ a).toarray()
    support = (t_bin.T @ a_bin).toarray()
    denominator = np.sqrt((t_sq.T @ a_bin).toarray() * (t_bin.T @ a_sq).toarray())
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(denominator > 0, numerator / denominator, 0.0)
    shrunk = np.maximum(support - 1, 0)
    return sim * shrunk / (shrunk + model.config.shrinkage + 1e-12)


def _brute_force_similarity(model, i: int, j: int) -> float:
    """sim(i, j) straight from the definition, over the users who rated both."""
    cols = model._cols.toarray()
    rated = (_rated(model).toarray() > 0)
    both = rated[:, i] & rated[:, j]
    n = both.sum()
    if n == 0:
        return 0.0
    a, b = cols[both, i], cols[both, j]
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    raw = (a * b).sum() / denominator if denominator > 0 else 0.0
    return raw * max(n - 1, 0) / (max(n - 1, 0) + model.config.shrinkage)


def test_item_knn_matches_its_definition(parts):
    train, test = parts
    model = make_model("item-knn", k=5)
    model.fit(train)
    rng = np.random.default_rng(0)
    targets = rng.choice(train.n_items, 6, replace=False)
    sims = _similarity(model, targets)
    for row, i in enumerate(targets):
        for j in rng.choice(train.n_items, 6, replace=False):
            assert sims[row, j] == pytest.approx(_brute_force_similarity(model, int(i), int(j)), abs=1e-9)
    # one prediction by hand: baseline + weighted residuals of the 5 most similar rated items
    user, item = int(test.users[0]), int(test.items[0])
    mu, bu, bi = model._baseline
    rated = model._rows.indices[model._rows.indptr[user]:model._rows.indptr[user + 1]]
    residuals = model._rows.data[model._rows.indptr[user]:model._rows.indptr[user + 1]]
    s = np.array([_brute_force_similarity(model, item, int(j)) for j in rated])
    top = np.argsort(-s)[:5]
    top = top[s[top] > 0]
    expected = mu + bu[user] + bi[item] + (s[top] @ residuals[top]) / (s[top].sum() + model.config.damping)
    assert model.predict(np.array([user]), np.array([item]))[0] == pytest.approx(np.clip(expected, 1, 5), abs=1e-5)
    # one user's row, a batch of users and single predictions agree
    few, many = model.score_all(np.arange(3)), model.score_all(np.arange(20))[:3]
    assert np.allclose(few, many)
    everyone = model.score_all(np.arange(train.n_users))  # scored by several threads at once
    assert np.array_equal(everyone[200:203], model.score_all(np.arange(200, 203)))
    assert np.array_equal(everyone[-1], model.score_all(np.array([train.n_users - 1]))[0])
    pairs = test.users[:300], test.items[:300]
    row_wise = np.array([model.score_all(np.array([u]))[0, i] for u, i in zip(*pairs)])
    assert np.allclose(model.predict(*pairs), np.clip(row_wise, 1, 5), atol=1e-5)


def test_item_knn_neighbour_lists_are_exact_when_they_hold_every_movie(parts):
    """With candidates >= the catalogue the lists hold every positive similarity (the exact
    definition); the default 1000 candidates change ml-100k's u1 test RMSE by less than 0.001."""
    train, test = parts
    exact, default = make_model("item-knn", candidates=10_000), make_model("item-knn")
    exact.fit(train)
    default.fit(train)
    user = int(test.users[0])
    rated, residuals = exact._history(user)
    sims = _similarity(exact, np.arange(train.n_items))[:, rated]
    sims[np.isin(np.arange(train.n_items), rated)[:, None] & (rated[None, :] == np.arange(train.n_items)[:, None])] = 0
    sims = np.where(sims > 0, sims, 0.0)
    top = np.argsort(-sims, axis=1, kind="stable")[:, :exact.config.k]
    chosen = np.take_along_axis(sims, top, 1)
    expected = _damped_terms(chosen, residuals[top], exact.config.damping)
    assert np.allclose(exact._user_scores(rated, residuals), expected, atol=1e-5)
    lists = exact.neighbour_lists.tocoo()  # the compiled similarity blocks against the definition
    assert lists.nnz > 100_000
    assert np.allclose(lists.data, _similarity(exact, np.arange(train.n_items))[lists.row, lists.col], atol=1e-6)
    gap = abs(rmse(default.predict(test.users, test.items), test.values)
              - rmse(exact.predict(test.users, test.items), test.values))
    assert gap < 1e-3


def _damped_terms(chosen: np.ndarray, picked: np.ndarray, damping: float) -> np.ndarray:
    """Per target, sum(sim * residual) / (sum(sim) + damping) over its chosen neighbours (0 without any)."""
    weight = chosen.sum(1)
    return np.where(weight > 0, (chosen * picked).sum(1) / np.where(weight > 0, weight + damping, 1), 0.0)


def _top_k_from_lists(model, rated: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Every target's term straight from its candidate list: the k most similar rated candidates."""
    lists = model.neighbour_lists.toarray()[:, rated]  # targets x rated, 0 where not a candidate
    top = np.argsort(-lists, axis=1, kind="stable")[:, :model.config.k]
    chosen = np.take_along_axis(lists, top, 1)
    return _damped_terms(chosen, residuals[top], model.config.damping)


def test_item_knn_walks_give_the_top_k_for_light_and_heavy_raters(parts):
    """The compiled walks stop at each target's k-th rated candidate: for the lightest to the
    heaviest rater, the same terms as sorting each list in full; pairs and rows agree; a model
    fitted again on other data does not keep the old lists."""
    train, test = parts
    model = make_model("item-knn", k=20)
    model.fit(train)
    counts = np.bincount(train.users, minlength=train.n_users)
    for user in np.argsort(counts)[[0, 100, 500, 900, -1]]:  # from the lightest to the heaviest rater
        rated, residuals = model._history(int(user))
        assert np.allclose(model._user_scores(rated, residuals), _top_k_from_lists(model, rated, residuals),
                           atol=1e-9)
    heavy = int(np.argmax(counts))
    items = np.arange(train.n_items)
    assert np.allclose(model._score_known(np.array([heavy]))[0],
                       model._predict_known(np.full(train.n_items, heavy), items), atol=1e-9)
    model.fit(train.take(np.flatnonzero(train.users % 2 == 0)))
    rated, residuals = model._history(heavy - heavy % 2)
    assert np.allclose(model._user_scores(rated, residuals), _top_k_from_lists(model, rated, residuals), atol=1e-9)


def test_blend_beats_each_of_its_parts(parts):
    train, test = parts
    fit, valid = validation_split(train, 0.1, seed=42)
    errors = {}
    for name in ("bayes-fm", "item-knn", "autorec", "blend"):
        model = make_model(name)
        model.fit(fit, valid)
        errors[name] = rmse(model.predict(test.users, test.items, test.timestamps), test.values)
    # bayes-fm carries most of the weight; the others still take the error down
    assert errors["blend"] < min(errors[n] for n in ("bayes-fm", "item-knn", "autorec")) - 0.0005, errors
    assert [part.name for part in model.parts] == ["bayes-fm", "item-knn", "autorec"]
    # on ml-100k bayes-fm and AutoRec share the weight and item-knn's is about 0 (0.13 on ml-latest-small)
    typical = stacking.typical(model.weights, float(np.median(model.support[0])), float(np.median(model.support[1])))
    assert model.weights.shape == (4, 3) and typical[0] > 0.5 and typical[2] > 0.1, typical
    assert abs(typical[1]) < 0.1, typical
    low, high = model.user_range  # the weights never extrapolate beyond the support they were fitted on
    assert low <= model.support[0].min() and model.support[0].max() <= high and low > 0
    # fold-in goes through the parts that can (autorec cannot), with weights of their own
    assert model.can_fold_in and model.fold_weights.shape == (3, 3)
    scores = model.fold_in(train.items[train.users == 0], train.values[train.users == 0])
    assert np.isfinite(scores[model.known_items(np.arange(train.n_items))]).all()


def test_autorec_states_its_size_limit_and_the_blend_leaves_it_out(parts, monkeypatch):
    from dataclasses import dataclass

    from recsys.models.autorec import AutoRec, AutoRecConfig

    train, test = parts
    with pytest.raises(ConfigError, match="autorec works on a dense movies x users matrix: 1,586,126 cells"):
        make_model("autorec", max_cells=1000).fit(train)

    @dataclass(frozen=True)
    class Tiny(AutoRecConfig):
        max_cells: int = 1000
    monkeypatch.setattr(AutoRec, "config_type", Tiny)
    model = make_model("blend", components=("biases", "item-knn", "autorec"))
    model.fit(*validation_split(train, 0.1, seed=42))
    assert [part.name for part in model.parts] == ["biases", "item-knn"] and model.weights.shape == (3, 3)
    assert any("left out autorec" in note and "max_cells" in note for note in model.notes)
    with pytest.raises(ConfigError, match="dense movies x users"):
        make_model("blend", components=("biases", "autorec"), optional=()).fit(train)


@pytest.mark.parametrize("kwargs, message", [
    ({"components": ("blend",)}, "cannot blend blend"),
    ({"components": ("mf", "gmf")}, "at most one Keras model"),
    ({"components": ()}, "non-empty list"),
    ({"validation_fraction": 0.9}, "validation_fraction must be in"),
])
def test_bad_blend_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_model("blend", **kwargs)


def test_item_knn_refuses_too_large_catalogues(parts):
    train, _ = parts
    with pytest.raises(ConfigError, match="limited to 100 items"):
        make_model("item-knn", max_items=100).fit(train)
    with pytest.raises(ConfigError, match="k must be between 1"):
        make_model("item-knn", k=0)


def test_ease_solves_its_closed_form(parts):
    """B minimises ||X - X B||^2 + reg ||B||^2 with diag(B) = 0: the stationarity condition
    (X^T X + reg I) B = X^T X - diag(mu) holds for some mu, i.e. off the diagonal."""
    train, _ = parts
    model = make_model("ease", reg=50.0, min_count=20)
    model.fit(train)
    x = model._binary[:, model._keep].toarray().astype(np.float64)
    gram = x.T @ x
    b = model._weights.astype(np.float64)
    residual = (gram + 50.0 * np.eye(len(gram))) @ b - gram
    off_diagonal = residual - np.diag(np.diag(residual))
    assert np.abs(off_diagonal).max() < 1e-3 * np.abs(gram).max()
    assert np.all(np.diag(b) == 0)
    # items under min_count are never recommended; a new user's fold-in matches a trained row
    rare = np.setdiff1d(np.arange(train.n_items), model._keep)
    recs = model.recommend(0, k=50).items
    assert not set(recs.tolist()) & set(rare.tolist())
    liked = model._binary[0].indices
    assert np.allclose(model.fold_in(liked, np.full(liked.size, 5.0)), model.score_all(np.array([0]))[0], atol=1e-5)
    reasons = model.because(int(recs[0]), liked, 2)
    assert reasons.size >= 1 and set(reasons.tolist()) <= set(liked.tolist())


def test_blend_reuses_an_identical_cached_recommender_net(ml100k, store):
    """Trained with the same split, seed and trainer, the standalone recommender-net is the blend's
    Keras part: the blend takes it from the artifact store instead of training it again."""
    from recsys.work.training import train

    split = Split("official", name="u2")
    alone = train(ml100k, "recommender-net", {"trainer": "compiled"}, split=split, store=store)
    assert alone.model.validation_predictions is not None and not alone.loaded
    cheap = {"components": ["recommender-net", "biases"], "optional": []}  # the Keras part is what counts
    blend = train(ml100k, "blend", cheap, split=split, store=store)
    part = next(p for p in blend.model.parts if p.name == "recommender-net")
    assert np.array_equal(part.factors().items, alone.model.factors().items)
    assert blend.history.empty  # no recommender-net epochs were run
    other_seed = train(ml100k, "blend", {**cheap, "seed": 7}, split=split, store=store)
    part = next(p for p in other_seed.model.parts if p.name == "recommender-net")
    assert not np.array_equal(part.factors().items, alone.model.factors().items)
    assert len(other_seed.history)


def test_the_blend_takes_settings_for_single_parts():
    """`part_settings` gives one part its own settings (a tuned preset's, say), read and checked
    as that part declares them; a wrong part, setting or value is refused by name."""
    from recsys.models.params import declared, parse_value

    model = make_model("blend", components=("recommender-net", "item-knn"), optional=(),
                       part_settings=("recommender-net.factors=16", "item-knn.k=5", "item-knn.shrinkage=50"))
    net, knn = model._components()
    assert net.config.factors == 16 and knn.config.k == 5 and knn.config.shrinkage == 50.0
    assert net.config.seed == model.config.seed
    typed = parse_value(declared(type(model.config))["part_settings"], "item-knn.k=7; recommender-net.l2=0.05")
    assert typed == ("item-knn.k=7", "recommender-net.l2=0.05")
    for settings, message in [(("autorec.hidden=10",), "autorec is not one of the components"),
                              (("item-knn.colour=blue",), "item-knn has no setting 'colour'"),
                              (("item-knn.k=0",), "k must be between 1"),
                              (("recommender-net.factors=many",), "recommender-net.factors must be whole number in"),
                              (("factors=16",), "part_settings must be a list of part.setting=value")]:
        with pytest.raises(ConfigError, match=message):
            make_model("blend", components=("recommender-net", "item-knn"), optional=(), part_settings=settings)


def test_a_bag_reuses_a_cached_second_network_under_its_own_file_name(ml100k, store, tmp_path):
    from recsys.work.training import train

    split = Split("official", name="u2")
    second = train(ml100k, "recommender-net", {"trainer": "compiled", "seed": 43}, split=split, store=store)
    cheap = {"components": ["recommender-net", "biases"], "optional": [], "part_networks": 2}
    blend = train(ml100k, "blend", cheap, split=split, store=store).model
    bag = blend.parts[0]
    assert np.array_equal(bag.members[1].factors().items, second.model.factors().items)
    assert second.model.file_stem == "model"  # the cached model is not changed
    save_model(blend, tmp_path)
    assert {p.name for p in tmp_path.glob("*.keras")} == {"model.keras", "model-2.keras"}
    _, test = split.apply(ml100k)
    loaded = load_model(type(blend), tmp_path, blend.config)
    np.testing.assert_allclose(loaded.predict(test.users, test.items), blend.predict(test.users, test.items),
                               atol=1e-5)


def test_a_blend_is_keyed_by_its_parts_whole_configs(monkeypatch):
    """A part's default changing makes another blend: a blend cached under the old default is not served."""
    from dataclasses import replace

    from recsys.models.blend import BlendConfig
    from recsys.store.artifacts import artifact_key

    config = make_model("blend").config
    assert config.identity()["parts"]["bayes-fm"]["chains"] == 2
    before = artifact_key("data", Split(), "blend", config)
    original = BlendConfig.part_config
    monkeypatch.setattr(BlendConfig, "part_config", lambda self, name: replace(original(self, name), seed=7)
                        if name == "bayes-fm" else original(self, name))
    assert artifact_key("data", Split(), "blend", config) != before
