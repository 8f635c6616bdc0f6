"""The job runner: one job per key from concurrent submitters, queue order, stop (running and
queued), failures that leave the worker going, and bad settings refused before queueing."""
import threading

import pytest

from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.work.jobs import DONE, FAILED, STOPPED, JobRunner

U1 = Split("official", name="u1")


@pytest.fixture()
def runner(store):
    runner = JobRunner(workers=1, store=store)
    yield runner
    runner.shutdown()


def test_concurrent_submitters_share_one_job_and_one_training(runner, ml100k, store):
    views, barrier = [], threading.Barrier(8)

    def ask():
        barrier.wait()
        views.append(runner.submit(ml100k, "mf", {"epochs": 2, "factors": 4}, U1))
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({view.id for view in views}) == 1 and len(runner.jobs()) == 1
    done = runner.wait(views[0].key, timeout=300)
    assert done.state == DONE and done.progress == 1.0 and len(done.logs) >= 2
    assert len(store.entries()) == 1
    # asked again: the finished job, not a new training; with retrain: a new job
    assert runner.submit(ml100k, "mf", {"epochs": 2, "factors": 4}, U1).id == done.id
    again = runner.submit(ml100k, "mf", {"epochs": 2, "factors": 4}, U1, retrain=True)
    assert again.id != done.id and runner.wait(again.key, timeout=300).state == DONE


def test_jobs_run_in_the_order_they_were_queued(runner, ml100k):
    keys = [runner.submit(ml100k, name, None, U1).key for name in ("biases", "global-mean", "item-knn")]
    ended = [runner.wait(key, timeout=300) for key in keys]
    assert [view.state for view in ended] == [DONE] * 3
    assert ended[0].started <= ended[1].started <= ended[2].started
    assert ended[0].finished <= ended[1].started  # one worker: one job at a time


def test_stop_ends_a_running_job_and_saves_nothing(runner, ml100k, store):
    view = runner.submit(ml100k, "mf", {"epochs": 500, "factors": 4}, U1)
    queued = runner.submit(ml100k, "biases", None, U1)
    assert runner.get(queued.key).state == "queued"
    assert runner.stop(queued.key).state == STOPPED  # a queued job never starts
    for _ in range(600):
        if runner.get(view.key).logs:
            break
        threading.Event().wait(0.5)
    runner.stop(view.key)
    ended = runner.wait(view.key, timeout=120)
    assert ended.state == STOPPED and 1 <= len(ended.logs) < 500 and ended.result.stopped
    assert runner.wait(queued.key, timeout=5).started is None
    assert len(store.entries()) == 0  # nothing partial, nothing at all


def test_a_failing_job_reports_its_error_and_the_worker_goes_on(runner, ml100k, monkeypatch):
    from recsys.work import jobs, training

    def broken(dataset, planned, *args, **kwargs):
        if planned.model == "nmf":
            raise ConfigError("nmf met a full disk")
        return training.train_plan(dataset, planned, *args, **kwargs)
    monkeypatch.setattr(jobs, "train_plan", broken)
    failed = runner.wait(runner.submit(ml100k, "nmf", None, U1).key, timeout=120)
    assert failed.state == FAILED and "nmf met a full disk" in failed.error
    assert isinstance(failed.failure, ConfigError)
    assert runner.wait(runner.submit(ml100k, "biases", None, U1).key, timeout=120).state == DONE


@pytest.mark.parametrize("model, config, split, message", [
    ("mf", {"epochs": 0}, U1, "epochs must be between 1"),
    ("nope", None, U1, "unknown model"),
    ("biases", None, Split("official", name="u9"), "has no official fold 'u9'"),
])
def test_bad_settings_are_refused_before_anything_is_queued(runner, ml100k, model, config, split, message):
    with pytest.raises(ConfigError, match=message):
        runner.submit(ml100k, model, config, split)
    assert runner.jobs() == []


def test_runner_needs_at_least_one_worker(store):
    with pytest.raises(ConfigError, match="workers must be a positive whole number"):
        JobRunner(workers=0, store=store)


def test_budgets_and_per_owner_limits_refuse_before_queueing(runner, ml100k, monkeypatch):
    from recsys.budget import BudgetError

    with pytest.raises(BudgetError, match="more than the budget of 1.0 MiB per training"):
        monkeypatch.setenv("RECSYS_MODEL_BUDGET_MB", "1")
        runner.submit(ml100k, "mf", {"factors": 64}, U1)
    monkeypatch.delenv("RECSYS_MODEL_BUDGET_MB")
    with pytest.raises(ConfigError, match="at most 8 dense layers"):
        runner.submit(ml100k, "deep-mf", {"layers": [4096] * 200}, U1)
    assert not runner.jobs()
    # one session may have `per_owner` active jobs; the server as a whole its memory budget
    runner.per_owner = 2
    long = {"epochs": 500, "factors": 4}
    first = runner.submit(ml100k, "mf", long, U1, owner="alice")
    runner.submit(ml100k, "gmf", long, U1, owner="alice")
    with pytest.raises(BudgetError, match="already have 2 trainings"):
        runner.submit(ml100k, "biased-mf", long, U1, owner="alice")
    monkeypatch.setenv("RECSYS_SERVER_BUDGET_MB", "12")
    with pytest.raises(BudgetError, match="server's budget"):
        runner.submit(ml100k, "biased-mf", {"factors": 256}, U1, owner="bob")
    for view in runner.active():
        runner.stop(view.key)
    assert runner.wait(first.key, timeout=120).state == STOPPED


def test_a_comparison_of_many_runs_queues_whole(runner, ml100k):
    """Fifteen runs asked at once by one session all queue (the workers bound what runs)."""
    assert runner.per_owner >= 25
    views = [runner.submit(ml100k, "mf", {"epochs": 500, "factors": 2, "seed": seed}, U1, owner="carol")
             for seed in range(15)]
    assert len({view.key for view in views}) == 15 and len(runner.active()) == 15
    assert sum(view.state == "running" for view in runner.active()) <= runner.workers
    for view in runner.active():
        runner.stop(view.key)


def test_private_jobs_are_seen_only_by_their_owner(runner, ml100k, tmp_path):
    from recsys.store.artifacts import ArtifactStore

    scratch = ArtifactStore(tmp_path / "alice-scratch")
    mine = runner.submit(ml100k, "biases", None, U1, owner="alice", private=True, store=scratch)
    assert mine.key.startswith("alice/") and mine.owner == "alice"
    assert [v.id for v in runner.jobs("alice")] == [mine.id] and runner.jobs("bob") == [] and runner.jobs() == []
    theirs = runner.submit(ml100k, "biases", None, U1, owner="bob", private=True, store=ArtifactStore(tmp_path / "b"))
    assert theirs.id != mine.id  # the same upload in two sessions is two jobs
    assert runner.wait(mine.key, timeout=120).state == DONE
    assert len(scratch.entries()) == 1 and not runner.store.entries().size


def test_one_progress_bar_runs_across_every_stage_of_a_blend(runner, ml100k):
    """The bar never goes back and reaches the evaluation and saving stages after the parts."""
    import time

    config = {"components": ("biased-mf", "item-knn"), "optional": (), "part_networks": 2}
    view = runner.submit(ml100k, "blend", {**config, "part_epochs": 2}, U1)
    seen, stages = [], set()
    while True:
        now = runner.get(view.key)
        seen.append(now.progress)
        stages.add(now.stage)
        if not now.active:
            break
        time.sleep(0.05)
    assert now.state == DONE, now.error
    names = [name for name, _ in now.stage_list()]
    assert names == ["part 1 of 2: biased-mf (2 networks)", "part 2 of 2: item-knn", "blend weights", "evaluating",
                     "saving"]
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:])) and seen[-1] == 1.0
    assert {"part 1 of 2: biased-mf (2 networks)", "evaluating"} <= stages


def test_what_cannot_train_is_refused_before_any_work(ml_small):
    """One gate: the estimate, check_budget and the job runner all refuse nmf's dense matrix on
    ml-latest-small, with the same reason fit would give."""
    from recsys.data.split import Split
    from recsys.errors import ConfigError
    from recsys.work.jobs import JobRunner
    from recsys.work.training import check_budget, refusal

    reason = refusal(ml_small, "nmf")
    assert "max_cells" in reason and "5,931,640" in reason
    with pytest.raises(ConfigError, match="max_cells"):
        check_budget(ml_small, "nmf")
    with pytest.raises(ConfigError, match="max_cells"):
        JobRunner().submit(ml_small, "nmf", None, Split())
    assert refusal(ml_small, "blend") == "" and refusal(ml_small, "biases") == ""
