"""The Bayesian factorisation machine: its numpy prediction is myFM's, sample by sample; the
curve, the stop, time, content, fold-in and saving without myFM."""
import subprocess
import sys
import threading

import numpy as np
import pytest
from scipy import sparse

from recsys.data.dataset import ItemContent, Ratings
from recsys.data.split import Split, validation_split
from recsys.errors import ConfigError
from recsys.models import make_model, model_class
from recsys.gibbs.chain import Kept, LeaveOneOut
from recsys.gibbs.features import DayBins, build_sides, content_rows, predict_sample, split_sample
from recsys.models.bayes_fm import _conditional_user
from recsys.models.persistence import load_model, save_model

SMALL = {"iterations": 8, "burn_in": 2, "samples": 4, "rank": 4}


@pytest.fixture(scope="module")
def u1(ml100k):
    return Split("official", name="u1").apply(ml100k)


def test_numpy_prediction_is_myfms_for_every_sample(u1):
    """The per-side split of a sample (w0, w, V) predicts exactly what myFM's own FM predicts."""
    import myfm._myfm as backend
    from myfm import RelationBlock

    train, test = u1
    bins = DayBins.of(train.timestamps, 1)
    sides = build_sides(train, bins, True, True, content_rows(train.content, True, True))
    assert len(set(sides.grouping)) == 7  # user, rated movies, movie, raters, genres, year, day

    def blocks(ratings):
        return [RelationBlock(ratings.users.astype(np.int64), sides.users),
                RelationBlock(ratings.items.astype(np.int64), sides.items),
                RelationBlock(bins.index(ratings.timestamps), sides.days)]
    probe = test.take(np.arange(2000))
    gaps = []

    def check(i, fm, hyper, history):
        terms = split_sample(sides, np.array(fm.w), np.array(fm.V))
        ours = predict_sample(fm.w0, terms, probe.users.astype(np.int64), probe.items.astype(np.int64),
                              bins.index(probe.timestamps))
        gaps.append(np.abs(ours - fm.predict_score(sparse.csr_matrix((len(probe), 0)), blocks(probe))).max())
        return False
    config = backend.ConfigBuilder()
    config.set_group_index(sides.grouping)
    config.set_n_iter(3)
    config.set_n_kept_samples(0)
    config.set_task_type(backend.TaskType.REGRESSION)
    backend.create_train_fm(4, 0.1, sparse.csr_matrix((len(train), 0)), blocks(train), train.values.astype(float), 1,
                            config.build(), check)
    assert len(gaps) == 3 and max(gaps) < 1e-8


def test_curve_chains_time_and_content(u1):
    train, test = u1
    fit, valid = validation_split(train, 0.1, seed=0)
    model = make_model("bayes-fm", **SMALL)  # two chains on all of it, validation predicted leave-one-out
    history = model.fit(fit, valid)
    frame = history.frame()
    assert list(frame["phase"]) == ["fit"] * 8  # the first chain draws the curve
    # from the fifth sample after the burn-in on: one sample's leave-one-out estimate is its own fit
    assert frame["val_rmse"].iloc[:6].isna().all() and frame["val_rmse"].iloc[6:].notna().all()
    assert model.validation_predictions.shape == (len(valid),)
    assert model._kept.count == 2 * 4 and model._kept.chains == (4, 4)  # both chains' kept samples, pooled
    # the map averages the first chain's samples only: another chain's space is rotated against it
    first = model._kept.vectors[1].reshape(train.n_items, 8, 4)[:, :4].mean(axis=1)
    assert np.allclose(model.factors().items, first)
    assert len(model.snapshots) == 8 and model.snapshots[0].items.shape[1] == 4
    assert model.stages()[0].refits is False
    # the day of the rating matters; without it the user's latest day is used
    at = model.predict(test.users, test.items, test.timestamps)
    assert not np.allclose(at, model.predict(test.users, test.items))
    # a day without training ratings reads as the latest bin before it
    later = model.predict(test.users[:5], test.items[:5], np.full(5, 2**40))
    last = model.predict(test.users[:5], test.items[:5], np.full(5, int(model._bins.starts[-1]) * 86_400))
    assert np.allclose(later, last)
    assert len(model.chain_peaks) == 2 and min(model.chain_peaks) > 50 << 20  # each chain's process measured itself
    kept = sum(v.nbytes for v in model._kept.vectors)
    assert model.memory_bytes() > kept  # the model cache's budget counts the kept samples
    factors = model.factors()
    assert factors.items.shape == (train.n_items, 4) and factors.item_spread.shape == (train.n_items,)
    assert (factors.item_spread >= 0).all()
    # without content (a file with neither genres nor years) it trains on ratings alone
    bare = Ratings(fit.users, fit.items, fit.values, fit.timestamps, fit.n_users, fit.n_items, fit.scale)
    plain = make_model("bayes-fm", **SMALL)
    plain.fit(bare)
    assert np.isfinite(plain.predict(test.users, test.items)).all()


def test_held_out_validation_samples_a_refit_chain(u1):
    train, _ = u1
    fit, valid = validation_split(train, 0.1, seed=0)
    model = make_model("bayes-fm", **SMALL, validation="held-out")
    frame = model.fit(fit, valid).frame()
    assert list(frame["phase"]) == ["fit"] * 8 + ["refit"] * 8 and model.stages()[0].refits
    assert model._kept.count == 4 and len(model.chain_peaks) == 2


def test_leave_one_out_sums_match_the_direct_estimate_and_pool():
    rng = np.random.default_rng(0)
    values, predicted, precision = rng.normal(3, 1, 50), rng.normal(3, 1, (12, 50)), rng.uniform(0.5, 2, 12)
    log_weight = 0.5 * precision[:, None] * (values - predicted) ** 2 - 0.5 * np.log(precision)[:, None]
    weights = np.exp(log_weight - log_weight.max(axis=0))
    direct = (weights * predicted).sum(axis=0) / weights.sum(axis=0)
    chains = [LeaveOneOut(values), LeaveOneOut(values)]
    for s in range(12):
        chains[s % 2].add(predicted[s], precision[s])
    assert np.allclose(LeaveOneOut.pooled(chains).mean(), direct)
    one = LeaveOneOut(values)
    for s in range(12):
        one.add(predicted[s], precision[s])
    assert np.allclose(one.mean(), direct)


def test_pooled_samples_average_over_every_sample():
    rng = np.random.default_rng(1)

    def kept(count: int, rank: int = 3) -> Kept:
        return Kept(float(rng.normal()), tuple(rng.normal(size=n) for n in (4, 5, 2)),
                    tuple(rng.normal(size=(n, count * rank)).astype(np.float32) for n in (4, 5, 2)),
                    (rng.normal(size=(5, count)), rng.normal(size=(5, count * rank)).astype(np.float32)),
                    rng.normal(size=(count, 3 + 2 * rank)))
    first, second = kept(2), kept(3)
    pooled = Kept.pooled([first, second])
    assert pooled.count == 5 and pooled.vectors[1].shape == (5, 15) and pooled.implicit[0].shape == (5, 5)
    assert np.allclose(pooled.biases[0], (2 * first.biases[0] + 3 * second.biases[0]) / 5)
    assert np.isclose(pooled.w0, (2 * first.w0 + 3 * second.w0) / 5)
    assert np.array_equal(pooled.priors, np.concatenate([first.priors, second.priors]))
    assert pooled.chains == (2, 3) and pooled.first_chain == 2
    assert Kept.from_arrays(pooled.arrays()).chains == (2, 3)  # saved and loaded with the model


def test_leave_one_out_estimates_the_error_on_unseen_ratings(u1):
    """A chain that learned the validation ratings predicts them far better than it would unseen
    ones; weighed leave-one-out, its error is close to that of a chain that never saw them."""
    train, _ = u1
    fit, valid = validation_split(train, 0.1, seed=0)
    settings = {"iterations": 24, "burn_in": 4, "samples": 10, "rank": 6}
    loo = make_model("bayes-fm", **settings, chains=1)
    loo.fit(fit, valid)
    held = make_model("bayes-fm", **settings, validation="held-out", refit=False)
    held.fit(fit, valid)

    def error(predicted):
        return float(np.sqrt(np.mean((np.clip(predicted, 1, 5) - valid.values) ** 2)))
    in_sample = error(loo.predict(valid.users, valid.items, valid.timestamps))
    assert in_sample < error(loo.validation_predictions) - 0.05
    assert abs(error(loo.validation_predictions) - error(held.validation_predictions)) < 0.03


def test_stop_keeps_what_was_sampled(u1):
    train, test = u1
    stop = threading.Event()
    model = make_model("bayes-fm", iterations=50, burn_in=2, samples=10, rank=4)
    history = model.fit(train, callbacks=[lambda log: stop.set() if log.epoch == 4 else None], stop=stop)
    assert history.stopped and len(history.logs) == 4
    assert model._kept.count >= 1  # the samples after the burn-in so far
    assert np.isfinite(model.predict(test.users, test.items)).all()


def test_fold_in_regression_and_its_prior_limit(u1):
    """The conditional draw's mean is ridge regression toward the prior: with an overwhelming prior
    it is the prior mean, so the regression fold-in equals the implicit one when the prior mean is 0."""
    rng = np.random.default_rng(0)
    base, features, ratings = rng.normal(size=(6, 3)), rng.normal(size=(6, 3, 2)), rng.normal(size=6)
    strong = np.tile(np.r_[1.0, 0.0, 1e12, 0.0, 0.0, 1e12, 1e12], (3, 1))
    bias, vector = _conditional_user(base, features, ratings, strong, 2)
    assert np.allclose(bias, 0, atol=1e-9) and np.allclose(vector, 0, atol=1e-9)
    weak = np.tile(np.r_[1.0, 0.0, 1e-9, 0.0, 0.0, 1e-9, 1e-9], (3, 1))
    bias, vector = _conditional_user(base, features, ratings, weak, 2)
    for s in range(3):  # ordinary least squares per sample
        design = np.c_[np.ones(6), features[:, s]]
        expected = np.linalg.lstsq(design, ratings - base[:, s], rcond=None)[0]
        assert np.allclose(np.r_[bias[s], vector[s]], expected, atol=1e-6)
    # measured on users held out of training: their first 10 ratings folded in, the rest predicted
    train, _ = u1
    counts = np.bincount(train.users, minlength=train.n_users)
    new_users = np.random.default_rng(0).choice(np.flatnonzero(counts >= 30), 40, replace=False)
    held = np.isin(train.users, new_users)
    model = make_model("bayes-fm", iterations=16, burn_in=4, samples=8, rank=8)
    model.fit(train.take(~held))
    errors = {"regression": [], "implicit": []}
    for user in new_users:
        rows = np.flatnonzero(train.users == user)
        given, later = rows[:10], rows[10:]
        for mode in errors:
            object.__setattr__(model.config, "fold_in", mode)
            predicted = model.fold_in_predict(train.items[given], train.values[given], train.items[later])
            errors[mode].append((predicted - train.values[later]) ** 2)
    rmse = {mode: float(np.sqrt(np.mean(np.concatenate(e)))) for mode, e in errors.items()}
    assert rmse["regression"] < rmse["implicit"] - 0.01, rmse


def test_saved_model_loads_and_predicts_without_myfm(u1, tmp_path):
    train, test = u1
    model = make_model("bayes-fm", **SMALL)
    model.fit(train)
    save_model(model, tmp_path)
    expected = model.predict(test.users[:100], test.items[:100], test.timestamps[:100])
    np.save(tmp_path / "expected.npy", expected)
    np.savez(tmp_path / "rows.npz", users=test.users[:100], items=test.items[:100], when=test.timestamps[:100])
    script = f"""
import sys, numpy as np
sys.modules["myfm"] = None  # importing myFM now fails
from recsys.models import model_class, make_model
from recsys.models.persistence import load_model
config = make_model("bayes-fm", **{SMALL!r}).config
model = load_model(model_class("bayes-fm"), __import__("pathlib").Path({str(tmp_path)!r}), config)
rows = np.load({str(tmp_path / "rows.npz")!r})
got = model.predict(rows["users"], rows["items"], rows["when"])
assert np.allclose(got, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-6)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
    # a saved file of the wrong shape is refused with a clear error
    with np.load(tmp_path / "state.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["model_item_vectors"] = arrays["model_item_vectors"][:, :3]
    np.savez(tmp_path / "state.npz", **arrays)
    from recsys.errors import ArtifactError

    with pytest.raises(ArtifactError, match="incomplete or inconsistent"):
        load_model(model_class("bayes-fm"), tmp_path, model.config)


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="burn_in"):
        make_model("bayes-fm", iterations=4, burn_in=4)
    with pytest.raises(ConfigError, match="rank"):
        make_model("bayes-fm", rank=0)


def test_content_of_an_items_table():
    import pandas as pd

    table = pd.DataFrame({"genres": [("Comedy", "Drama"), (), ("(no genres listed)",)],
                          "year": pd.array([1995, None, 2001], dtype="Int64")})
    content = ItemContent.of(table)
    assert content.genre_names == ("Comedy", "Drama")
    assert content.genres.tolist() == [[True, True], [False, False], [False, False]]
    assert content.years.tolist() == [1995, 0, 2001]
    rows = content_rows(content, True, True)
    assert [r.shape[0] for r in rows] == [3, 3]
    assert np.allclose(rows[0].toarray()[0], [2 ** -0.5] * 2)
    assert rows[1].toarray()[1, -1] == 1  # an unknown year has a bin of its own


def test_a_failing_chain_says_why_and_leaves_nothing(u1):
    from recsys.errors import RecsysError
    from recsys.gibbs.chain import ChainSpec
    from recsys.gibbs.process import ChainProcess

    train, _ = u1
    broken = ChainSpec.of(make_model("bayes-fm", **SMALL).config, 0).as_dict() | {"iterations": "many"}  # not a number
    chain = ChainProcess(ChainSpec(**broken), train, None, np.arange(5), np.arange(5))
    folder = chain.folder
    with pytest.raises(RecsysError, match="TypeError"):
        list(chain.steps())
        chain.result()
    chain.close()
    assert not folder.exists()


PARENT = """
import sys, time
import numpy as np
from recsys.data import sources
from recsys.models import make_model
from recsys.gibbs.chain import ChainSpec
from recsys.gibbs.process import ChainProcess
from recsys.data.split import Split
train, _ = Split("official", name="u1").apply(sources.load("ml-100k", download=False))
config = make_model("bayes-fm", iterations=10000, burn_in=2, samples=2, rank=2).config
chain = ChainProcess(ChainSpec.of(config, 0), train, None, np.arange(10), np.arange(10))
print(chain._child.pid, chain.folder, flush=True)
time.sleep(600)
"""


def test_a_chain_whose_parent_is_killed_ends_itself_and_removes_its_folder(u1):
    import os
    import signal
    import time
    from pathlib import Path

    from tests.conftest import REPO

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=REPO)
    pid, folder = parent.stdout.readline().split()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(Path(folder).glob("step-*.npz")):
        time.sleep(0.2)  # the child is past its imports and sampling
    assert list(Path(folder).glob("step-*.npz")), "the chain never reported an iteration"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (Path(f"/proc/{pid}").exists() or Path(folder).exists()):
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            break  # ended; a zombie until its (dead) parent's reaper collects it
        time.sleep(0.2)
    assert not Path(folder).exists()


def test_a_chain_samples_from_at_most_max_ratings(u1):
    train, test = u1
    model = make_model("bayes-fm", **SMALL, max_ratings=5000)
    part = model._sampled(train)
    assert len(part) == 5000 and np.array_equal(part.users, model._sampled(train).users)  # seeded
    assert make_model("bayes-fm", **SMALL)._sampled(train) is train
    model.fit(train)
    assert model.knows_user(int(train.users[0])) and np.isfinite(model.predict(test.users, test.items)).all()
