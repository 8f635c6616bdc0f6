"""Training jobs that outlive the page (or command) that asked for them.

A `JobRunner` owns a bounded pool of worker threads and a FIFO queue. `submit` validates the
settings (a bad one raises before anything is queued) and returns the job for their artifact key:
the same settings asked twice, from two sessions or two pages, are one job. Each job keeps, under
its own lock, its state (queued, running, done, failed, stopped), the epoch logs so far, the stage,
the error text and the `TrainResult`; `view()` hands out a consistent snapshot. `stop(job)` ends a
queued job at once and a running one after its current batch; a stopped run saves nothing, and
`train()` only ever saves a finished model atomically, so nothing partial reaches the store.

Threads, not processes: TensorFlow and the datasets are loaded once in the server process and
shared; a process per job would load both again (about 2 GiB for a 25M-rating set) and pass every
epoch log back through a pipe. Stop acts within a fraction of a second (a batch, or one call of
Keras' compiled step) through the `threading.Event` that training already checks. A Python
exception in a job fails that job only; a crash of the process itself (e.g. in native code) ends
every job, and since nothing partial is ever saved, the next start finds the store as it was and
no job is believed to be running (jobs live in memory only).
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Mapping

from recsys import budget
from recsys.budget import BudgetError, Cost
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.errors import ConfigError, RecsysError
from recsys.models import ModelConfig, model_class
from recsys.models.loop import EpochLog, Stage
from recsys.store.artifacts import ArtifactStore
from recsys.work.job_view import ACTIVE, DONE, FAILED, QUEUED, RUNNING, STOPPED, JobView
from recsys.work.plan import Plan, plan
from recsys.work.training import TrainResult, train_plan

@dataclass
class Job:
    """One training run and what it has reported so far (mutated by its worker, under `lock`)."""

    id: int
    key: str
    label: str
    dataset: Dataset
    model_name: str
    config: ModelConfig
    split: Split
    retrain: bool
    state: str = QUEUED
    stage: str = "queued"
    logs: list[EpochLog] = field(default_factory=list)
    error: str = ""
    failure: BaseException | None = None
    result: TrainResult | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    owner: str | None = None
    store: ArtifactStore | None = None
    cost: Cost | None = None
    submitter: str | None = None
    planned: Plan | None = None  # the request, resolved once by whoever asked
    kind: str = "training"
    work: Callable[[Job], None] | None = None  # other long work: called with its job, reports into details
    details: dict = field(default_factory=dict)
    plan: tuple[Stage, ...] = ()
    stage_index: int = 0
    stage_first_log: int = 0
    step_name: str = ""  # what one step of its curve is (asked of the model on the first view)
    stop_flag: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done_event: threading.Event = field(default_factory=threading.Event)

    def view(self) -> JobView:
        with self.lock:
            return JobView(self.id, self.key, self.label, self.dataset.name, self.split.label(), self.state,
                           self.stage, tuple(self.logs), self.error, self.result, self.submitted, self.started,
                           self.finished, self.failure, self.model_name, self.retrain, self.owner, self.cost,
                           self.plan, self.stage_index, self.stage_first_log, self._step_name(), self.submitter,
                           self.kind, dict(self.details))

    def _step_name(self) -> str:
        """What one step of its curve is, asked of the model once."""
        if not self.step_name:
            self.step_name = model_class(self.model_name).curve_step(self.config) if self.kind == "training" \
                else self.kind
        return self.step_name

    def enter(self, stage: str) -> None:
        """The run begins `stage` (a name in the plan moves the progress bar on)."""
        with self.lock:
            names = [step.name for step in self.plan]
            if stage in names and names.index(stage) >= self.stage_index:
                self.stage_index, self.stage_first_log = names.index(stage), len(self.logs)
            self.stage = stage

    def _update(self, **changes) -> None:
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, value)

    def report(self, **details) -> None:
        """Progress of work other than a training (e.g. a study's trials), for its view."""
        with self.lock:
            self.details.update(details)


class JobRunner:
    """A bounded pool of training workers with a queue; one job per artifact key.

    `store` None means the default store as configured when each job starts. `on_done` is called
    from the worker with the final view of every job that ended (done, failed or stopped); it must
    not touch any UI. Only the newest `keep_finished` ended jobs are remembered."""

    def __init__(self, workers: int = 1, store: ArtifactStore | None = None,
                 on_done: Callable[[JobView], None] | None = None, keep_finished: int = 50,
                 per_owner: int = 40) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive whole number, got {workers!r}")
        self.store = store
        self.workers = workers
        self._on_done = on_done
        self._keep_finished = keep_finished
        self.per_owner = per_owner
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._threads = [threading.Thread(target=self._work, name=f"recsys-job-worker-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    # ----- asking -----
    def submit(self, dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None,
               split: Split = Split(), retrain: bool = False, label: str | None = None,
               owner: str | None = None, private: bool = False, store: ArtifactStore | None = None) -> JobView:
        """The job for these settings: the active one if there is one, the finished one unless
        `retrain`, else a new queued job. Refused here, before anything is queued: bad settings,
        a cost over the per-model budget, a job that would take the server's jobs past the server
        budget, and more than `per_owner` waiting or running jobs of one owner (a browser session).
        What runs at once is bounded by `workers`; the rest wait in the queue in order, so a page
        may ask for a whole comparison (say 5 models x 5 folds) with one click.

        A `private` job (e.g. on an uploaded file) belongs to `owner`: only that owner sees it, it
        is keyed apart from everyone else's, and it saves into `store` (the owner's scratch store)."""
        return self.submit_plan(dataset, plan(dataset, model_name, config, split), retrain, label, owner, private,
                                store)

    def submit_plan(self, dataset: Dataset, planned: Plan, retrain: bool = False, label: str | None = None,
                    owner: str | None = None, private: bool = False, store: ArtifactStore | None = None) -> JobView:
        """`submit` for a request already resolved: its config, key, cost and refusal are the plan's."""
        model_name, config, split, key = planned.model, planned.config, planned.split, planned.key
        split.test_rows(dataset)  # a split the data cannot take (no timestamps, no such fold) fails now
        if private:
            if owner is None:
                raise ConfigError("a private job needs an owner")
            key = f"{owner}/{key}"
        store = store or self.store
        cost = planned.cost
        if planned.refusal:
            raise ConfigError(planned.refusal)
        if retrain or not (store or ArtifactStore()).exists(model_name, key.rsplit("/", 1)[-1]):
            budget.check(model_name, cost)  # a saved model is loaded whatever it cost to train
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and (current.view().active or (current.view().state == DONE and not retrain)):
                return current.view()
            active = [job for job in self._jobs.values() if job.view().active]
            if owner is not None and sum(job.submitter == owner for job in active) >= self.per_owner:
                raise BudgetError(f"you already have {self.per_owner} trainings waiting or running; wait for "
                                  "some to finish or stop some (sidebar, Training jobs)")
            busy = sum(job.cost.bytes for job in active if job.cost is not None)
            if busy + cost.bytes > budget.server_budget():
                raise BudgetError(f"the server's queued and running trainings already take about "
                                  f"{budget.human_bytes(busy)} and this one needs {budget.human_bytes(cost.bytes)}: "
                                  f"more than the server's budget of {budget.human_bytes(budget.server_budget())} "
                                  "(RECSYS_SERVER_BUDGET_MB). Try again when one has finished.")
            job = Job(next(self._ids), key, label or model_name, dataset, model_name, config, split, retrain,
                      owner=owner if private else None, store=store, cost=cost, submitter=owner, planned=planned)
            self._jobs.pop(key, None)  # re-inserted last, so the dict stays in submission order
            self._jobs[key] = job
            self._forget_old()
            self._queue.put(job)
        return job.view()

    def submit_work(self, key: str, label: str, dataset: Dataset, split: Split, kind: str,
                    work: Callable[[Job], None], owner: str | None = None, details: Mapping | None = None) -> JobView:
        """Queue long work other than a training (a tuning study): the same queue, workers, states,
        Stop and ownership as trainings. `work(job)` runs in a worker, reports into `job.details`
        (through `job.report`) and watches `job.stop_flag`; the same key joins the active job."""
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and current.view().active:
                return current.view()
            job = Job(next(self._ids), key, label, dataset, "", None, split, False, submitter=owner, kind=kind,
                      work=work, details=dict(details or {}))
            self._jobs.pop(key, None)
            self._jobs[key] = job
            self._forget_old()
            self._queue.put(job)
        return job.view()

    def _forget_old(self) -> None:
        """Drop the oldest ended jobs beyond `keep_finished` (their models live on in the store)."""
        ended = [key for key, job in self._jobs.items() if job.state not in ACTIVE]
        for key in ended[:max(0, len(ended) - self._keep_finished)]:
            del self._jobs[key]

    def stop(self, key: str) -> JobView:
        """Stop a job: a queued one never starts, a running one ends after its current batch."""
        job = self._job(key)
        job.stop_flag.set()
        with job.lock:
            if job.state == QUEUED:
                job.state, job.stage, job.finished = STOPPED, "stopped before it started", time.time()
                job.done_event.set()
        return job.view()

    def release_result(self, key: str) -> None:
        """Let go of an ended job's model (the cache evicted it; it stays in the store)."""
        with self._lock:
            job = self._jobs.get(key)
        if job is not None and not job.view().active:
            job._update(result=None)

    def forget(self, key: str) -> None:
        """Drop an ended job (e.g. its artifact was deleted since); an active one is kept."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.view().active:
                del self._jobs[key]

    # ----- reading -----
    def get(self, key: str) -> JobView | None:
        with self._lock:
            job = self._jobs.get(key)
        return job.view() if job is not None else None

    def jobs(self, viewer: str | None = None, everyone: bool = False) -> list[JobView]:
        """Every job this runner knows that `viewer` may see (everyone's public jobs and the
        viewer's private ones; all of them with `everyone`, for shutdown and tests), oldest first."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if everyone or job.owner is None or job.owner == viewer]
        return sorted((job.view() for job in jobs), key=lambda view: view.id)

    def active(self, viewer: str | None = None, everyone: bool = False) -> list[JobView]:
        return [view for view in self.jobs(viewer, everyone) if view.active]

    def wait(self, key: str, timeout: float | None = None) -> JobView:
        """Block until the job has ended (or `timeout` seconds passed) and return its view."""
        job = self._job(key)
        job.done_event.wait(timeout)
        return job.view()

    def _job(self, key: str) -> Job:
        with self._lock:
            job = self._jobs.get(key)
        if job is None:
            raise ConfigError(f"no job with key {key!r}")
        return job

    # ----- working -----
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with job.lock:
                if job.state != QUEUED:  # stopped while it waited
                    continue
                job.state, job.stage, job.started = RUNNING, "fitting", time.time()
            self._run(job)

    def _run(self, job: Job) -> None:
        def on_epoch(log: EpochLog) -> None:
            with job.lock:
                job.logs.append(log)

        try:
            if job.work is not None:  # other long work: its outcome is in its details
                job.work(job)
                stopped = job.stop_flag.is_set()
            else:
                result = train_plan(job.dataset, job.planned, store=job.store, callbacks=[on_epoch],
                                    stop=job.stop_flag, retrain=job.retrain, on_corrupt="retrain", on_stage=job.enter,
                                    on_plan=lambda stages: job._update(plan=tuple(stages)))
                stopped = result.stopped
        except RecsysError as error:
            job._update(state=FAILED, stage="failed", error=str(error), failure=error)
        except Exception as error:  # a bug or a framework error: this job fails, the worker goes on
            job._update(state=FAILED, stage="failed", error=f"{type(error).__name__}: {error}", failure=error)
            traceback.print_exc()
        else:
            state = STOPPED if stopped else DONE
            job._update(state=state, stage=state, **({} if job.work is not None else {"result": result}))
        finally:
            job._update(finished=time.time())
            job.done_event.set()
            if self._on_done is not None:
                try:
                    self._on_done(job.view())
                except Exception:  # a broken hook must not end the worker
                    traceback.print_exc()

    def shutdown(self) -> None:
        """Stop every job and end the workers (for tests and clean exits)."""
        for view in self.active(everyone=True):
            self.stop(view.key)
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
