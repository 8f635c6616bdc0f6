"""The one epoch loop every model that trains in epochs goes through: each epoch's log to the
callbacks, the stop flag, early stopping that keeps the best state, and the refit phase.

A model either pulls epochs from the loop (`for epoch in loop: ... loop.end(loss, ...)`) or,
when a framework runs the epochs (Keras' `fit`), pushes them from its callbacks (`loop.begin`,
`loop.stop_requested` after each batch, `loop.end`). Either way the same code decides what is
logged, when training stops and which state is kept."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pandas as pd

HISTORY_COLUMNS = ["epoch", "epochs", "loss", "val_loss", "val_rmse", "seconds", "phase"]


@dataclass(frozen=True)
class EpochLog:
    """What one epoch of training reports to callbacks."""

    epoch: int
    epochs: int
    loss: float
    val_loss: float | None
    val_rmse: float | None
    seconds: float
    phase: str = "fit"  # "fit" (with validation) or "refit" (on all training data)
    #: the sampled factors after this epoch, for models that keep snapshots (recsys.models.snapshots)
    snapshot: Any = None


@dataclass(frozen=True)
class Stage:
    """One step of a training run as a progress display lists it. `refits`: its epochs come in two
    phases (early-stopped fit, then a refit on all training data), each half of the step."""

    name: str
    refits: bool = False


@dataclass
class History:
    """The per-epoch log of one `fit`, with the epoch whose weights were kept."""

    logs: list[EpochLog] = field(default_factory=list)
    best_epoch: int | None = None
    stopped: bool = False
    seconds: float = 0.0
    snapshots: list = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(log) for log in self.logs], columns=HISTORY_COLUMNS)


EpochCallback = Callable[[EpochLog], None]



#: how much better a validation score must be to count as an improvement
MIN_IMPROVEMENT = 1e-5


class EpochLoop:
    """Runs up to `epochs` epochs for one phase ("fit" or "refit").

    - `snapshot`: returns the model's state after an epoch; with it (and a validation score) the
      loop keeps the best epoch's state in `best_state` (None: keep the last), and stops after `patience` epochs without
      an improvement of at least `MIN_IMPROVEMENT` (None: never early), or as soon as the score is
      more than `divergence` (a fraction) above its best, when that is set;
    - `capture(epoch, phase, val_rmse)`: called after each epoch (outside the epoch's timing) for
      a snapshot of the model's factors, kept in `history.snapshots` and on the epoch's log;
    - `stop`: a flag set from another thread; the loop ends after the current epoch (or batch,
      for a caller that asks `stop_requested`), marking the history stopped."""

    def __init__(self, epochs: int, callbacks: list[EpochCallback] | None = None,
                 stop: threading.Event | None = None, patience: int | None = None,
                 snapshot: Callable[[], Any] | None = None, phase: str = "fit",
                 history: History | None = None,
                 capture: Callable[[int, str, float | None], Any] | None = None,
                 divergence: float = 0.0) -> None:
        self.epochs = epochs
        self.divergence = divergence
        self.callbacks = list(callbacks or [])
        self.stop = stop
        self.patience = patience
        self.snapshot = snapshot
        self.capture = capture
        self.phase = phase
        self.history = history if history is not None else History()
        self.best_state: Any = None
        self.finished = False
        self._best = math.inf
        self._waited = 0
        self._epoch = 0
        self._started = time.perf_counter()

    def __iter__(self) -> Iterator[int]:
        for epoch in range(self.epochs):
            if self.finished:
                return
            self.begin(epoch)
            yield epoch

    def begin(self, epoch: int) -> None:
        """An epoch starts (0-based)."""
        self._epoch, self._started = epoch, time.perf_counter()

    @property
    def stop_requested(self) -> bool:
        """True once the stop flag is set: the run ends now and nothing of this epoch is logged."""
        if self.stop is not None and self.stop.is_set():
            self.history.stopped = self.finished = True
        return self.history.stopped

    def end(self, loss: float, val_loss: float | None = None, val_rmse: float | None = None) -> None:
        """An epoch ended with these numbers: log it, tell the callbacks, keep the best state,
        and decide whether to go on (`finished`)."""
        if self.history.stopped:
            return
        seconds = time.perf_counter() - self._started
        taken = self.capture(self._epoch + 1, self.phase, val_rmse) if self.capture is not None else None
        if taken is not None:
            self.history.snapshots.append(taken)
        log = EpochLog(self._epoch + 1, self.epochs, float(loss), val_loss, val_rmse, seconds, phase=self.phase,
                       snapshot=taken)
        self.history.logs.append(log)
        for callback in self.callbacks:
            callback(log)
        if self.phase == "fit":
            self._keep_best(val_rmse if val_rmse is not None else val_loss)
        if self.stop_requested:
            return
        if self._epoch + 1 >= self.epochs:
            self.finished = True

    def _keep_best(self, metric: float | None) -> None:
        if metric is None:  # nothing to judge by: the last epoch is the one kept (best_state stays None)
            self.history.best_epoch = self._epoch + 1
        elif metric < self._best - MIN_IMPROVEMENT:
            self._best, self._waited = metric, 0
            self.history.best_epoch = self._epoch + 1
            if self.snapshot is not None:
                self.best_state = self.snapshot()
        else:
            self._waited += 1
            if self.patience is not None and self._waited > self.patience:
                self.finished = True
            if self.divergence and metric > self._best * (1 + self.divergence):  # clearly past its best
                self.finished = True
