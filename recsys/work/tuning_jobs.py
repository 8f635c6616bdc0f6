"""Tuning studies as server-side jobs: one worker runs the queued studies one after another, so a
study goes on when the page that started it is left, every session sees it, and Stop ends it
after the running trial's current batch. When a study ends its best settings are saved as the
`<label>@tuned` preset and the test scores of the default and the tuned settings are computed."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field, replace

from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.errors import RecsysError
from recsys.work.tuned import TunedPreset
from recsys.work.tuning import TrialReport, Tuner

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"


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


class TuningRunner:
    """Queued studies, run one at a time by a daemon worker."""

    def __init__(self, store=None) -> None:
        self._views: dict[str, StudyView] = {}
        self._tuners: dict[str, Tuner] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str] = queue.Queue()
        self._store = store
        threading.Thread(target=self._work, name="tuning-worker", daemon=True).start()

    def submit(self, dataset: Dataset, label: str, split: Split, metric: str | None = None, trials: int = 20,
               timeout: float | None = None, storage_url: str | None = None) -> StudyView:
        """Queue a study (or join the one already queued or running for the same request)."""
        tuner = Tuner(dataset, label, split, metric, storage_url)
        key = tuner.study.study_name
        with self._lock:
            current = self._views.get(key)
            if current is not None and current.active:
                return current
            view = StudyView(key, label, dataset.name, split.label(), tuner.metric, trials, timeout,
                             study=tuner.study)
            self._views[key], self._tuners[key] = view, tuner
        self._queue.put(key)
        return view

    def get(self, key: str) -> StudyView | None:
        with self._lock:
            return self._views.get(key)

    def studies(self) -> list[StudyView]:
        with self._lock:
            return sorted(self._views.values(), key=lambda v: -v.started)

    def stop(self, key: str) -> None:
        with self._lock:
            tuner, view = self._tuners.get(key), self._views.get(key)
            if view is not None and view.state == QUEUED:
                self._views[key] = replace(view, state=STOPPED)
        if tuner is not None:
            tuner.stop.set()

    def wait(self, key: str, timeout: float | None = None) -> StudyView | None:
        deadline = None if timeout is None else time.time() + timeout
        while (view := self.get(key)) is not None and view.active and (deadline is None or time.time() < deadline):
            time.sleep(0.1)
        return self.get(key)

    def _update(self, key: str, **changes) -> None:
        with self._lock:
            self._views[key] = replace(self._views[key], **changes)

    def _work(self) -> None:
        while True:
            key = self._queue.get()
            view, tuner = self.get(key), self._tuners.get(key)
            if view is None or tuner is None or view.state != QUEUED:
                continue
            self._update(key, state=RUNNING)
            try:
                tuner.run(view.trials, view.timeout, on_trial=lambda report: self._update(
                    key, reports=self.get(key).reports + (report,), best=tuner.best))
                record = tuner.save_best()
                stopped = tuner.stop.is_set()
                scores = tuner.test_scores(self._store) if record is not None and not stopped else {}
                self._update(key, state=STOPPED if stopped else DONE, best=tuner.best,
                             tuned=None if record is None else record.label, record=record, test_scores=scores)
            except RecsysError as error:
                self._update(key, state=FAILED, error=str(error))
            except Exception as error:  # noqa: BLE001 - a study's crash is shown; the worker serves the next one
                self._update(key, state=FAILED, error=f"{type(error).__name__}: {error}")
