"""How much memory a fitted model holds: its arrays, sparse matrices, Keras weights, snapshots and
parts, for the server's model-cache budget."""
from __future__ import annotations

import dataclasses

import numpy as np

from recsys.models import snapshots


def held_bytes(value: object, seen: set[int]) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if hasattr(value, "data") and hasattr(value, "indices") and hasattr(value, "indptr"):  # scipy sparse
        return value.data.nbytes + value.indices.nbytes + value.indptr.nbytes
    if hasattr(value, "count_params") and callable(value.count_params):  # a Keras model
        try:
            return int(value.count_params()) * 4
        except (ValueError, RuntimeError):
            return 0
    if hasattr(value, "memory_bytes") and hasattr(value, "config"):  # a model, e.g. a blend's part
        return value.memory_bytes() if id(vars(value)) not in seen else 0
    if isinstance(value, dict):
        return sum(held_bytes(v, seen) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(held_bytes(v, seen) for v in value)
    if isinstance(value, snapshots.Snapshot):
        return value.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # e.g. bayes-fm's kept samples
        return sum(held_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    return 0
