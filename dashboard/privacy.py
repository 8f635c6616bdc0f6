"""Uploads stay private: a file one session uploads, and the models trained on it, live in that
session's memory and scratch folder, seen by nobody else and removed when it ends."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from streamlit.runtime.scriptrunner import get_script_run_ctx

from recsys.data.dataset import Dataset
from recsys.data.sources import artifacts_root
from recsys.store.artifacts import ArtifactStore, process_alive
from recsys.store.model_cache import ModelCache, cache_budget

PRIVATE_FOLDER = "private"


@dataclass
class Scope:
    """Where a dataset's models live: shared by every session (MovieLens), or, for a file this
    session uploaded, in the session's own memory and scratch folder, seen by nobody else."""

    cache: dict
    store: ArtifactStore | None
    owner: str
    private: bool

    def job_key(self, key: str) -> str:
        return f"{self.owner}/{key}" if self.private else key


@dataclass
class PrivateSpace:
    """One session's scratch store and model cache for its uploads (removed when it ends)."""

    root: Path
    models: ModelCache

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.root / "models")


def remove_space(space: PrivateSpace) -> None:
    for key in space.models.keys():
        space.models.pop(key)
    shutil.rmtree(space.root, ignore_errors=True)


def new_space(on_evict) -> PrivateSpace:
    """A fresh scratch folder under the artifacts' private folder, with its own model cache
    (`on_evict`: told the key of each model the cache lets go)."""
    folder = artifacts_root() / PRIVATE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return PrivateSpace(Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=folder)),
                        ModelCache(cache_budget() // 4, on_evict))


def sweep_private_leftovers() -> list[str]:
    """Scratch folders of servers that are no longer running (stopped or killed): removed."""
    folder = artifacts_root() / PRIVATE_FOLDER
    removed = []
    for path in folder.iterdir() if folder.is_dir() else []:
        pid = path.name.split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def is_private(dataset: Dataset) -> bool:
    return dataset.name.startswith("upload:")


def shown_name(dataset_name: str, private: bool) -> str:
    """How the server log names a dataset: never an uploaded file's name."""
    return "a private upload" if private else dataset_name
