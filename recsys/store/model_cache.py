"""Trained models held in memory within a byte budget (least recently used evicted first).
No Streamlit here: the dashboard holds one for the server and one per private upload."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from recsys.budget import megabytes as budget_megabytes
from recsys.work.training import TrainResult


class ModelCache:
    """Models in memory by key; past a byte budget the least recently used are evicted (they
    load again from the artifact store when next asked for). `on_evict` hears each evicted key."""

    def __init__(self, budget: int, on_evict: Callable[[str], None] = lambda key: None) -> None:
        self.budget, self._on_evict = budget, on_evict
        self._items: OrderedDict[str, tuple[TrainResult, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: str) -> TrainResult | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def __setitem__(self, key: str, result: TrainResult) -> None:
        with self._lock:
            if key in self._items and self._items[key][0] is result:
                self._items.move_to_end(key)
                return
        size = result.model.memory_bytes()
        with self._lock:
            self._items[key] = (result, size)
            self._items.move_to_end(key)
            evicted = []
            while self.used > self.budget and len(self._items) > 1:
                evicted.append(self._items.popitem(last=False)[0])
        for old in evicted:
            self._on_evict(old)

    def pop(self, key: str, default=None):
        with self._lock:
            item = self._items.pop(key, None)
        return item[0] if item is not None else default

    @property
    def used(self) -> int:
        return sum(size for _, size in self._items.values())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)


def cache_budget() -> int:
    """Bytes of models the shared cache keeps (RECSYS_CACHE_BUDGET_MB, default 3072 MiB)."""
    return budget_megabytes("RECSYS_CACHE_BUDGET_MB", 3072)
