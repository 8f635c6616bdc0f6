"""Tuning with Optuna over the declared ranges: the space, a tiny study, resume, two processes on
one storage, pruning, and the test part never touched."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.models import Recommender
from recsys.work import tuning
from recsys.work.catalog import builtin_labels
from tests.conftest import REPO

SPLIT = Split("official", name="u1")


@pytest.mark.parametrize("label", builtin_labels())
def test_every_preset_has_a_valid_search_space(label):
    params = tuning.space(label)
    for name, param in params.items():
        assert param.kind in ("int", "float", "choice") and param.search, name
    if label.endswith("-ranking"):
        assert "objective" not in params and "negatives" in params
    else:
        assert "negatives" not in params, "negatives matter only for the ranking objective"


def test_narrowing_replaces_a_range_and_unknown_names_are_refused():
    assert tuning.space("biased-mf", {"factors": (8, 16)})["factors"].search == (8, 16)
    with pytest.raises(ConfigError, match="does not search 'colour'"):
        tuning.space("biased-mf", {"colour": (1, 2)})


def test_a_tiny_study_runs_and_resumes_where_it_was(ml100k, tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    first = tuning.Tuner(ml100k, "biases", SPLIT, storage_url=url).run(3)
    assert first.counts() == {"complete": 3}
    best, value = first.best
    assert set(best) == {"reg_user", "reg_item"} and 0.85 < value < 1.1
    again = tuning.Tuner(ml100k, "biases", SPLIT, storage_url=url).run(2)  # e.g. after a restart
    assert again.counts() == {"complete": 5} and again.best[1] <= value
    assert [s["trials"] for s in tuning.list_studies(url)] == [5]


def test_the_test_part_is_never_touched(ml100k, tmp_path, monkeypatch):
    train_part, test_part = SPLIT.apply(ml100k)
    test_pairs = set(zip(test_part.users.tolist(), test_part.items.tolist()))
    seen: list[set] = []
    original = Recommender.fit

    def spy(self, train, valid=None, **kwargs):
        for part in (train, valid):
            if part is not None:
                seen.append(set(zip(part.users.tolist(), part.items.tolist())))
        return original(self, train, valid, **kwargs)

    monkeypatch.setattr(Recommender, "fit", spy)
    tuner = tuning.Tuner(ml100k, "biases", SPLIT, storage_url=f"sqlite:///{tmp_path / 's.db'}").run(2)
    scored = set(zip(tuner.tuning_part.users.tolist(), tuner.tuning_part.items.tolist()))
    assert seen and all(not (pairs & test_pairs) for pairs in seen), "a trial fitted on test ratings"
    assert all(not (pairs & scored) for pairs in seen), "a trial fitted on the ratings that score it"
    assert not (scored & test_pairs) and len(tuner.search_part) + len(tuner.tuning_part) == len(train_part)


class _Trial:
    """Just enough of an Optuna trial: fixed suggestions, and a pruner that prunes at epoch 2."""

    def __init__(self):
        self.reports = []

    def suggest_int(self, name, low, high, log=False):
        return low

    def suggest_float(self, name, low, high, log=False):
        return low

    def suggest_categorical(self, name, choices):
        return choices[0]

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return len(self.reports) >= 2


def test_a_hopeless_trial_is_pruned_after_its_reported_epochs(ml100k, tmp_path):
    import optuna

    tuner = tuning.Tuner(ml100k, "biased-mf", SPLIT, storage_url=f"sqlite:///{tmp_path / 'p.db'}",
                         narrow={"factors": (4, 8)})
    trial = _Trial()
    with pytest.raises(optuna.TrialPruned):
        tuner.objective(trial)
    assert [step for step, _ in trial.reports] == [1, 2], "the trial stopped after the epoch it was pruned at"


def test_two_processes_share_one_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "recsys", "tune", "--dataset", "ml-100k", "--split", "official",
               "--fold-name", "u1", "--model", "biases", "--trials", "4", "--storage", url, "--study", "shared"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    import optuna

    study = optuna.load_study(study_name="shared", storage=tuning.storage(url))
    numbers = [t.number for t in study.trials]
    assert len(study.trials) == 8 and sorted(numbers) == list(range(8)), "every trial kept once"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert all("trial" in out and "best rmse" in out for out, _ in outputs)
    assert np.isfinite(study.best_value)


def test_the_best_settings_become_a_preset_every_command_accepts(tmp_path, capsys):
    from recsys.cli import main
    from recsys.work.catalog import all_labels, preset

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["tune", "--dataset", "ml-100k", "--split", "official", "--fold-name", "u1", "--model", "biases",
                 "--trials", "3", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "saved as biases@tuned" in out and "test rmse: biases " in out and "biases@tuned " in out
    assert "biases@tuned" in all_labels()
    chosen = preset("biases@tuned")
    kept = "keeps the defaults" in out  # three trials need not beat biases' well-chosen defaults
    assert chosen.model == "biases" and set(chosen.overrides) == (set() if kept else {"reg_user", "reg_item"})
    assert main(["train", "--dataset", "ml-100k", "--split", "official", "--fold-name", "u1",
                 "--model", "biases@tuned"]) == 0
    assert "biases@tuned on ml-100k (official-u1): loaded from cache" in capsys.readouterr().out, \
        "the tuned settings were trained once, for their test score, under the key of their settings"
    with pytest.raises(ConfigError, match="already a tuned preset"):
        tuning.Tuner(None, "biases@tuned", SPLIT)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no tuned settings for ease yet"):
        preset("ease@tuned")
    assert main(["tune", "--list", "--storage", url]) == 0 and "3 trials" in capsys.readouterr().out


def test_studies_run_as_jobs_of_the_one_runner_and_a_queued_one_can_be_stopped(ml100k):
    """Issue 34: trainings and studies share one runner: one queue, the same states, Stop and
    ownership; a study's trials show as its progress."""
    from recsys.work.jobs import DONE, STOPPED, JobRunner
    from recsys.work.tuning_jobs import Studies

    jobs = JobRunner(workers=1)
    try:
        studies = Studies(jobs)
        first = studies.submit(ml100k, "biases", SPLIT, trials=2, owner="a session")
        training = jobs.submit(ml100k, "global-mean", None, SPLIT)  # queued behind the study, in the same queue
        second = studies.submit(ml100k, "item-knn", SPLIT, trials=2)
        assert studies.submit(ml100k, "biases", SPLIT, trials=2).key == first.key, "the same request joins its study"
        studies.stop(second.key)
        done = studies.wait(first.key, timeout=120)
        assert done.state == DONE and len(done.reports) == 2 and done.tuned == "biases@tuned"
        assert set(done.test_scores) == {"biases", "biases@tuned"} and "2 of 2 trials" in done.describe()
        assert studies.wait(second.key, timeout=60).state == STOPPED
        assert jobs.wait(training.key, timeout=60).state == DONE
        kinds = {view.key: view.kind for view in jobs.jobs(everyone=True)}
        assert kinds[first.key] == "study" and kinds[training.key] == "training"
        assert jobs.get(first.key).submitter == "a session" and jobs.get(first.key).progress == 1.0
    finally:
        jobs.shutdown()


def test_a_search_that_cannot_beat_the_defaults_keeps_them_and_says_so(ml100k, tmp_path):
    """Issue 33: a worse result must never be saved (or shown) as a success."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    tuner = tuning.Tuner(ml100k, "biases", SPLIT, storage_url=url, name="kept",
                         narrow={"reg_user": (400.0, 900.0), "reg_item": (400.0, 900.0)}).run(2)
    assert tuner.best[1] > tuner.default_score()  # every trial is worse than the defaults on validation
    record = tuner.save_best()
    assert record.kept_defaults and record.overrides == {} and record.value == record.default_value
    scores = {"biases": 0.94, "biases@tuned": 0.94}
    said = tuning.outcome(record, scores)
    assert said.tone == "info" and "keeps the defaults" in said.sentence


def test_tuned_floats_are_kept_readable(ml100k, tmp_path):
    tuner = tuning.Tuner(ml100k, "biases", SPLIT, storage_url=f"sqlite:///{tmp_path / 's.db'}", name="round").run(3)
    record = tuner.save_best()
    for value in record.overrides.values():
        assert value == float(f"{value:.4g}")  # no 0.03833332156156663 on the Train sliders


def test_the_verdict_calls_a_gain_a_gain_only_when_test_agrees():
    from recsys.work.tuned import TunedPreset

    record = TunedPreset("biases@tuned", "biases", "biases", {"reg_user": 2.0}, "s", "ml-100k", "u1", "rmse",
                         0.930, 3, default_value=0.940)
    good = tuning.outcome(record, {"biases": 0.95, "biases@tuned": 0.94})
    assert good.tone == "success" and "0.9500 -> 0.9400" in good.sentence
    worse = tuning.outcome(record, {"biases": 0.8471, "biases@tuned": 0.8585})
    assert worse.tone == "warning" and "not on the test part" in worse.sentence
    ranking = TunedPreset("gmf-ranking@tuned", "gmf-ranking", "gmf", {}, "s", "ml-100k", "u1", "ndcg",
                          0.31, 3, default_value=0.30)
    assert tuning.outcome(ranking, {"gmf-ranking": 0.30, "gmf-ranking@tuned": 0.32}).tone == "success"
    assert tuning.outcome(ranking, {"gmf-ranking": 0.30, "gmf-ranking@tuned": 0.28}).tone == "warning"
    assert tuning.outcome(record, {}).tone == "info"  # stopped: no test scores yet
