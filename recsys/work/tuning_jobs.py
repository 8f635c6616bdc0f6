"""Tuning studies as jobs of the one job runner (`recsys.work.jobs`): a study queues with the
trainings, runs in the same workers, has the same states, Stop and ownership, goes on when the page
that started it is left, and every session sees it. Stop ends it after the running trial's current
batch. When a study ends its best settings are saved as the `<label>@tuned` preset and the test
scores of the default and the tuned settings are computed. `Studies` reads the runner's study jobs
as `StudyView`s for the Tune page."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.work.job_view import QUEUED, RUNNING, JobView
from recsys.work.jobs import Job, JobRunner
from recsys.work.tuned import TunedPreset
from recsys.work.tuning import TrialReport, Tuner

STUDY = "study"


@dataclass(frozen=True)
class StudyView:
    """A snapshot of one study job, safe to read from any thread."""

    key: str
    label: str
    dataset: str
    split: str
    metric: str
    trials: int
    timeout: float | None
    state: str = QUEUED
    reports: tuple[TrialReport, ...] = ()
    best: tuple[dict, float] | None = None
    tuned: str | None = None
    record: TunedPreset | None = None
    test_scores: dict = field(default_factory=dict)
    error: str = ""
    started: float = field(default_factory=time.time)
    study: object | None = None  # the Optuna study, for its figures

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    def describe(self) -> str:
        done = len(self.reports)
        pruned = sum(r.state == "pruned" for r in self.reports)
        best = "" if self.best is None else f", best {self.metric} {self.best[1]:.4f}"
        return f"{self.state}: {done} of {self.trials} trials ({pruned} pruned){best}"


class Studies:
    """Tuning studies as jobs of `runner` (the server's one job runner)."""

    def __init__(self, runner: JobRunner, store=None) -> None:
        self.runner, self._store = runner, store

    def submit(self, dataset: Dataset, label: str, split: Split, metric: str | None = None, trials: int = 20,
               timeout: float | None = None, storage_url: str | None = None, owner: str | None = None) -> StudyView:
        """Queue a study (or join the one already queued or running for the same request)."""
        tuner = Tuner(dataset, label, split, metric, storage_url)
        key = tuner.study.study_name
        current = self.runner.get(key)
        if current is not None and current.active:
            return self._view(current)

        def work(job: Job) -> None:
            tuner.stop = job.stop_flag  # the runner's Stop ends the study after its current trial
            tuner.run(trials, timeout, on_trial=lambda report: _reported(job, tuner, report, trials))
            record = tuner.save_best()
            stopped = tuner.stop.is_set()
            scores = tuner.test_scores(self._store) if record is not None and not stopped else {}
            job.report(best=tuner.best, record=record, test_scores=scores)

        return self._view(self.runner.submit_work(
            key, label, dataset, split, STUDY, work, owner=owner,
            details={"trials": trials, "timeout": timeout, "metric": tuner.metric, "study": tuner.study, "reports": (),
                     "best": None, "progress": f"0 of {trials} trials"}))

    def get(self, key: str) -> StudyView | None:
        view = self.runner.get(key)
        return None if view is None or view.kind != STUDY else self._view(view)

    def studies(self) -> list[StudyView]:
        return sorted((self._view(v) for v in self.runner.jobs(everyone=True) if v.kind == STUDY),
                      key=lambda v: -v.started)

    def stop(self, key: str) -> None:
        self.runner.stop(key)

    def wait(self, key: str, timeout: float | None = None) -> StudyView | None:
        self.runner.wait(key, timeout)
        return self.get(key)

    @staticmethod
    def _view(job: JobView) -> StudyView:
        details = job.details
        record = details.get("record")
        return StudyView(job.key, job.label, job.dataset, job.split, details.get("metric", ""), details.get("trials", 0),
                         details.get("timeout"), job.state, tuple(details.get("reports", ())), details.get("best"),
                         None if record is None else record.label, record, dict(details.get("test_scores", {})),
                         job.error, job.started or job.submitted, details.get("study"))


def _reported(job: Job, tuner: Tuner, report: TrialReport, trials: int) -> None:
    """A finished trial into the study job's progress."""
    reports = tuple(job.details.get("reports", ())) + (report,)
    best = tuner.best
    job.report(reports=reports, best=best, fraction=min(1.0, len(reports) / max(trials, 1)),
               progress=f"{len(reports)} of {trials} trials"
               + ("" if best is None else f", best {tuner.metric} {best[1]:.4f}"))
