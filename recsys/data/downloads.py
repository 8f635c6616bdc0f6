"""Dataset downloads in the background, one per dataset however many ask, with progress.

The dashboard starts a download from a page and can leave it: the download runs in its own
thread, and any page (or session) asking for the same dataset sees the same progress. Failures
are kept as text for the page to show; nothing half-downloaded is ever kept (see `sources.fetch`)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from recsys.data import sources
from recsys.errors import RecsysError


@dataclass(frozen=True)
class Download:
    """What a page shows of one download."""

    name: str
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str = ""
    started: float = 0.0

    @property
    def active(self) -> bool:
        return not self.finished

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def describe(self) -> str:
        if self.error:
            return f"download of {self.name} failed: {self.error}"
        if self.finished:
            return f"{self.name} is downloaded and verified"
        size = f"{self.done / 1024**2:,.0f} of {self.total / 1024**2:,.0f} MB" if self.total else \
            f"{self.done / 1024**2:,.0f} MB"
        return f"downloading {self.name}: {size}"


class Downloads:
    """At most one download per dataset at a time; `start` is idempotent while one runs."""

    def __init__(self, fetch: Callable[..., object] = sources.fetch) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._state: dict[str, Download] = {}

    def start(self, name: str) -> Download:
        """Start downloading `name` (a registered, downloadable dataset) unless it is under way."""
        spec = sources.spec_for(name)
        if not spec.downloadable:
            raise RecsysError(f"{name} is not downloaded: it is {'generated' if spec.synthetic else 'built in'}")
        with self._lock:
            current = self._state.get(name)
            if current is not None and current.active:
                return current
            self._state[name] = Download(name, started=time.time())
        threading.Thread(target=self._run, args=(name,), name=f"download-{name}", daemon=True).start()
        return self._state[name]

    def get(self, name: str) -> Download | None:
        with self._lock:
            return self._state.get(name)

    def forget(self, name: str) -> None:
        """Drop a finished download's record (after the page has shown its outcome)."""
        with self._lock:
            if name in self._state and not self._state[name].active:
                del self._state[name]

    def _progress(self, name: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            with self._lock:
                self._state[name] = replace(self._state[name], done=done, total=total)
        return report

    def _run(self, name: str) -> None:
        error = ""
        try:
            self._fetch(name, progress=self._progress(name))
        except RecsysError as failure:
            error = str(failure)
        except Exception as failure:  # noqa: BLE001 - a page must see why, the thread must end
            error = f"{type(failure).__name__}: {failure}"
        with self._lock:
            self._state[name] = replace(self._state[name], finished=True, error=error)
