"""A fast local copy of a loaded dataset: its indexed arrays and items table in one `.npz`,
keyed by a checksum of the source files (or by a synthetic set's recipe).

Parsing MovieLens-25M's 650 MB of CSV and indexing it takes most of a minute; reading the
arrays back takes a few seconds. The key is a SHA-256 of the files the reader uses, so an
edited or replaced source is read again, never served stale. Files are written atomically
(a temporary sibling, then a rename); one that cannot be read is removed and rebuilt. The
`.npz` holds only numeric arrays and UTF-8 bytes and is read with `allow_pickle=False`."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, ItemContent, Ratings, RatingScale

FORMAT = 1
HASH_CHUNK = 1 << 23


def source_digest(files: Iterable[Path], recipe: str = "") -> str:
    """SHA-256 over the files' names and bytes (and a recipe string), as 24 hex digits."""
    digest = hashlib.sha256(f"format {FORMAT} {recipe}".encode())
    for path in files:
        digest.update(f"\x00{Path(path).name}\x00".encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()[:24]


def cached(folder: Path, name: str, digest: str, build: Callable[[], Dataset]) -> Dataset:
    """The dataset from `folder/<name>-<digest>.npz`, or `build()` it and write that file."""
    path = folder / f"{name}-{digest}.npz"
    dataset = read(path, name)
    if dataset is not None:
        return dataset
    dataset = build()
    if dataset.users is None and not dataset.folds:  # user tables and folds are small sets' extras
        write(dataset, path)
        for stale in folder.glob(f"{name}-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    return dataset


def _blob(lines: Iterable[str]) -> np.ndarray:
    return np.frombuffer("\n".join(line.replace("\n", " ") for line in lines).encode(), dtype=np.uint8)


def _lines(blob: np.ndarray, count: int) -> list[str]:
    lines = blob.tobytes().decode().split("\n") if count else []
    if len(lines) != count:
        raise ValueError(f"expected {count} lines, found {len(lines)}")
    return lines


def write(dataset: Dataset, path: Path) -> None:
    """Write `dataset` to `path` atomically."""
    ratings, items = dataset.ratings, dataset.items
    meta = {"name": dataset.name, "fingerprint": dataset.fingerprint, "notes": list(dataset.notes),
            "synthetic": dataset.synthetic, "n_users": ratings.n_users, "n_items": ratings.n_items,
            "scale": [ratings.scale.low, ratings.scale.high, ratings.scale.step]}
    arrays = {"users": ratings.users, "items": ratings.items, "values": ratings.values,
              "timestamps": ratings.timestamps, "user_ids": dataset.user_ids, "item_ids": dataset.item_ids,
              "year": items["year"].fillna(-1).to_numpy(np.int32),
              "titles": _blob(items["title"]), "genres": _blob("|".join(g) for g in items["genres"]),
              "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    if dataset.user_ids.dtype == object or dataset.item_ids.dtype == object:
        return  # raw string ids come from uploads, which are not cached
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def read(path: Path, name: str) -> Dataset | None:
    """The dataset stored at `path`, or None when there is none or it cannot be read (then it is removed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(stored["meta"].tobytes().decode())
            count = int(meta["n_items"])
            low, high, step = meta["scale"]
            item_ids = stored["item_ids"]
            year = stored["year"]
            items = pd.DataFrame({
                "item_id": item_ids, "title": _lines(stored["titles"], count),
                "year": pd.array(np.where(year < 0, None, year), dtype="Int64"),
                "genres": [tuple(g.split("|")) if g else () for g in _lines(stored["genres"], count)]})
            ratings = Ratings(stored["users"], stored["items"], stored["values"], stored["timestamps"],
                              int(meta["n_users"]), count, RatingScale(low, high, step), ItemContent.of(items))
            user_ids = stored["user_ids"]
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
        path.unlink(missing_ok=True)
        return None
    for array in (user_ids, item_ids):
        array.setflags(write=False)
    return Dataset(name, ratings, user_ids, item_ids, items, None, meta["fingerprint"],
                   MappingProxyType({}), tuple(meta["notes"]), bool(meta["synthetic"]))
