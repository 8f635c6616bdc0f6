"""What a job looks like from outside: its states and a consistent snapshot (`JobView`) with its
progress across stages and one line on where it stands, safe to read from any thread."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping

from recsys.budget import Cost
from recsys.models.loop import EpochLog, Stage
from recsys.work.training import TrainResult

QUEUED, RUNNING, DONE, FAILED, STOPPED = "queued", "running", "done", "failed", "stopped"
ACTIVE = (QUEUED, RUNNING)
#: what training is doing in each stage after (or before) the epochs
STAGE_TEXT = {"fitting": "fitting", "evaluating": "evaluating on the test part (RMSE and top-10 for every user)",
              "saving": "saving the artifact", "queued": "queued"}


@dataclass(frozen=True)
class JobView:
    """A consistent snapshot of a job, safe to read from any thread."""

    id: int
    key: str
    label: str
    dataset: str
    split: str
    state: str
    stage: str
    logs: tuple[EpochLog, ...]
    error: str
    result: TrainResult | None
    submitted: float
    started: float | None
    finished: float | None
    failure: BaseException | None = None
    model_name: str = ""
    retrain: bool = False
    owner: str | None = None  # the session a private job belongs to (None: visible to everyone)
    cost: Cost | None = None
    plan: tuple[Stage, ...] = ()  # every stage of the run, in order (see `train(on_plan=...)`)
    stage_index: int = 0          # where in `plan` the run is
    stage_first_log: int = 0      # the first of `logs` reported in the current stage
    step_name: str = "epoch"      # what one step of its curve is (a Gibbs sampler's: "Gibbs iteration")
    submitter: str | None = None  # the session that asked for it (its failure is shown to that session only)
    kind: str = "training"        # or another long piece of work run by the same runner ("study")
    details: Mapping = field(default_factory=dict)  # that work's own progress (a study's trials, best so far)

    @property
    def progress(self) -> float:
        """0-1 across the whole run: stages done, plus the share of the current stage's epochs
        (each phase of a stage that refits counts half). 1 when finished."""
        if self.state == DONE:
            return 1.0
        if self.kind != "training":
            return float(self.details.get("fraction", 0.0))
        logs = self.logs[self.stage_first_log:]
        within = logs[-1].epoch / logs[-1].epochs if logs else 0.0
        if not self.plan:
            return within
        if self.plan[self.stage_index].refits and logs:
            within = within / 2 + (0.5 if logs[-1].phase == "refit" else 0.0)
        return min(1.0, (self.stage_index + within) / len(self.plan))

    def stage_list(self) -> list[tuple[str, str]]:
        """(stage name, "done" / "now" / "next") for each stage of the run."""
        return [(stage.name, "done" if n < self.stage_index or self.state == DONE
                 else "now" if n == self.stage_index and self.state == RUNNING else "next")
                for n, stage in enumerate(self.plan)]

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def elapsed(self, now: float | None = None) -> float:
        """Seconds it has been running (or ran), 0 while queued."""
        if self.started is None:
            return 0.0
        return (self.finished or now or time.time()) - self.started

    def describe(self, now: float | None = None) -> str:
        """One line on where the job stands, for progress displays."""
        if self.kind != "training" and self.state not in (QUEUED, FAILED):
            return f"{self.state}: {self.details.get('progress', '')} · {self.elapsed(now):.0f}s"
        if self.state == QUEUED:
            return "queued: starts when a training slot is free"
        if self.state == FAILED:
            return f"failed: {self.error}"
        if self.state == STOPPED:
            return f"stopped after {len(self.logs)} {self.step_name}(s); nothing was saved"
        seconds = f"{self.elapsed(now):.0f}s"
        if self.state == DONE:
            return f"done in {seconds}"
        step = (f"step {self.stage_index + 1} of {len(self.plan)}, " if len(self.plan) > 1 else "")
        logs = self.logs[self.stage_first_log:]
        if self.stage in ("evaluating", "saving") or not logs:
            return f"{step}{STAGE_TEXT.get(self.stage, self.stage)} · {seconds}"
        log = logs[-1]
        step += f"{self.stage}: " if self.stage not in ("fitting", "queued") else ""
        phase = "refit on all training data, " if log.phase == "refit" else ""
        rmse = f" · validation RMSE {log.val_rmse:.4f}" if log.val_rmse is not None else ""
        loss = f" · loss {log.loss:.4f}" if math.isfinite(log.loss) else ""
        bound = "at most " if self.step_name == "epoch" else ""  # epochs may stop early; a sampler's iterations do not
        return f"{step}{phase}{self.step_name} {log.epoch} of {bound}{log.epochs}{loss}{rmse} · {seconds}"


