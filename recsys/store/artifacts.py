"""The artifact store: trained models cached on disk so nothing is trained twice.

An artifact is a folder `<model>-<key>/` under `artifacts/models/` holding `state.npz`, the Keras
model as `model.keras` where there is one, `ids.json` (maps back to raw ids), `meta.json`
(model, config, dataset, split, metrics, history, versions, timestamps, seed, fit seconds) and
`manifest.json` (size and SHA-256 of every other file). The key is a hash of (dataset
fingerprint, split, model name, config, format version). Writes go to a temporary folder that is
renamed into place, so a reader never sees a partial artifact and two writers of one key leave
one valid artifact. Reading checks the manifest and the format version first.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.sources import artifacts_root
from recsys.data.split import Split
from recsys.errors import ArtifactError, ArtifactGone
from recsys.models import MODELS, ModelConfig, Recommender, model_class
from recsys.models.persistence import load_model, save_model

FORMAT_VERSION = 2  # 2: models record the movies they know (state.npz item_known)
KEY_PATTERN = re.compile(r"^[0-9a-f]{16}$")
FOLDER_PATTERN = re.compile(r"^(?P<model>[a-z0-9-]+)-(?P<key>[0-9a-f]{16})$")
LEFTOVER_PATTERN = re.compile(r"^\.(tmp|trash)-(?P<pid>\d+)-")  # staging or trash of a writer


#: settings that say how a model is trained, not what it is: left out of its key, so a model trained
#: with tf.distribute serves the same requests as one trained on one device
EXECUTION_SETTINGS = ("strategy",)


def artifact_key(fingerprint: str, split: Split, model_name: str, config: ModelConfig) -> str:
    """The hash that names an artifact."""
    settings = {k: v for k, v in config.identity().items() if k not in EXECUTION_SETTINGS}
    payload = json.dumps({"dataset": fingerprint, "split": split.as_dict(), "model": model_name,
                          "config": settings, "format": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedArtifact:
    model: Recommender
    meta: dict
    path: Path
    stamp: tuple[int, int] | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_ids(ids: np.ndarray) -> list:
    return [int(v) if isinstance(v, (int, np.integer)) else str(v) for v in ids.tolist()]


class ArtifactStore:
    """List, save, load and delete trained-model artifacts under one root folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else artifacts_root() / "models"

    def folder(self, model_name: str, key: str) -> Path:
        """The artifact folder for a key; refuses names that could leave the store."""
        if model_name not in MODELS:
            raise ArtifactError(f"unknown model name {model_name!r} in artifact reference")
        if not KEY_PATTERN.match(key or ""):
            raise ArtifactError(f"invalid artifact key {key!r}: expected 16 hex digits")
        return self.root / f"{model_name}-{key}"

    def exists(self, model_name: str, key: str) -> bool:
        return self.folder(model_name, key).is_dir()

    def save(self, key: str, model: Recommender, dataset: Dataset, split: Split, meta: dict,
             replace: bool = False) -> Path:
        """Write atomically. With `replace` (a retrain) the new folder takes the old one's place in
        one step, so readers see the old or the new artifact and never a mix or nothing; without
        it, if another writer got there first, theirs is kept when it is valid."""
        final = self.folder(model.name, key)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.sweep()
            staging = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-{model.name}-{key}-", dir=self.root))
        except OSError as error:
            raise ArtifactError(f"cannot write to the artifact folder {self.root}: {error}") from None
        try:
            save_model(model, staging)
            (staging / "ids.json").write_text(json.dumps({"users": _json_ids(dataset.user_ids),
                                                          "items": _json_ids(dataset.item_ids)}))
            full_meta = {
                "format_version": FORMAT_VERSION, "key": key, "model": model.name,
                "config": model.config.as_dict(), "dataset": dataset.name,
                "dataset_fingerprint": dataset.fingerprint, "split": split.as_dict(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "versions": _versions(), **meta}
            (staging / "meta.json").write_text(json.dumps(full_meta, indent=2, default=_json_default))
            manifest = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                        for p in sorted(staging.iterdir()) if p.is_file()}
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
            _fsync_tree(staging)
            if replace and final.is_dir():
                _swap_into_place(staging, final)
                shutil.rmtree(staging, ignore_errors=True)  # now holds the old artifact
                return final
            try:
                os.rename(staging, final)
            except OSError:
                if not final.is_dir():
                    raise
                try:  # another process saved the same key first: keep theirs if it is valid
                    self.verify(final)
                except ArtifactError:  # a broken one is replaced by this one
                    self._discard(final)
                    os.rename(staging, final)
                    return final
                shutil.rmtree(staging, ignore_errors=True)
                return final
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise ArtifactError(f"could not save the artifact to {final}: {error}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def verify(self, folder: Path) -> dict:
        """Check the manifest and format version; return meta. `ArtifactError` names the problem."""
        manifest_path = folder / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as error:
            raise ArtifactError(f"artifact {folder.name}: manifest.json missing or unreadable ({error})") from None
        if not isinstance(manifest, dict) or "meta.json" not in manifest:
            raise ArtifactError(f"artifact {folder.name}: manifest.json is malformed")
        for name, expected in manifest.items():
            path = folder / name
            if Path(name).name != name or not path.is_file():
                raise ArtifactError(f"artifact {folder.name}: file {name} is missing")
            if path.stat().st_size != expected.get("bytes") or _sha256(path) != expected.get("sha256"):
                raise ArtifactError(f"artifact {folder.name}: file {name} was truncated or edited "
                                    "(checksum mismatch)")
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"artifact {folder.name} has format version {meta.get('format_version')!r}; "
                                f"this version of recsys reads version {FORMAT_VERSION}: retrain it")
        return meta

    def load(self, model_name: str, key: str) -> LoadedArtifact:
        """Load and validate one artifact. A writer that replaces or deletes it meanwhile is
        noticed (its manifest changed or vanished): the load is tried again once, then
        `ArtifactGone` says it is not available. A broken artifact raises `ArtifactError`."""
        folder = self.folder(model_name, key)
        for attempt in range(3):
            before = self.stamp(model_name, key)
            if before is None:
                raise ArtifactGone(f"no artifact {folder.name} in the store (deleted or never saved)")
            try:
                loaded = self._load_once(model_name, folder)
            except OSError as error:
                if self.stamp(model_name, key) == before:
                    raise ArtifactError(f"artifact {folder.name} could not be read: {error}") from None
                continue  # it changed under the read: read again
            except ArtifactError:
                if self.stamp(model_name, key) == before:
                    raise
                continue
            if self.stamp(model_name, key) == before:
                return LoadedArtifact(loaded.model, loaded.meta, loaded.path, before)
        raise ArtifactGone(f"artifact {folder.name} kept changing while it was read (replaced or deleted); "
                           "it is not available now")

    def _load_once(self, model_name: str, folder: Path) -> LoadedArtifact:
        meta = self.verify(folder)
        if meta.get("model") != model_name:
            raise ArtifactError(f"artifact {folder.name} holds model {meta.get('model')!r}, not {model_name!r}")
        cls = model_class(model_name)
        config = cls.config_type.from_dict(meta["config"])
        return LoadedArtifact(load_model(cls, folder, config), meta, folder)

    def stamp(self, model_name: str, key: str) -> tuple[int, int] | None:
        """What identifies the artifact now on disk (its manifest's inode and change time), or
        None when there is none: a cached model whose stamp changed was replaced or deleted."""
        folder = self.folder(model_name, key)
        for path in (folder / "manifest.json", folder):  # a folder without its manifest is broken, not gone
            try:
                status = os.stat(path)
            except OSError:
                continue
            return status.st_ino, status.st_mtime_ns
        return None

    def entries(self) -> pd.DataFrame:
        """One row per artifact folder: model, key, dataset, split, created, RMSE, size, status."""
        rows = []
        for folder in sorted(self.root.glob("*-*")) if self.root.is_dir() else []:
            match = FOLDER_PATTERN.match(folder.name)
            if not match or not folder.is_dir():
                continue
            row = {"model": match["model"], "key": match["key"], "dataset": "", "split": "", "created": "",
                   "rmse": np.nan, "ndcg": np.nan, "fit_seconds": np.nan,
                   "megabytes": sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6}
            try:
                meta = self.verify(folder)
                metrics = meta.get("metrics", {})
                row.update(dataset=meta.get("dataset", ""), split=Split(**meta["split"]).label(),
                           created=meta.get("created", ""), rmse=metrics.get("rmse", np.nan),
                           ndcg=metrics.get("ndcg", np.nan), fit_seconds=meta.get("fit_seconds", np.nan),
                           status="ok")
            except (ArtifactError, ValueError, KeyError, TypeError) as error:
                row["status"] = f"broken: {error}"
            rows.append(row)
        columns = ["model", "key", "dataset", "split", "created", "rmse", "ndcg", "fit_seconds", "megabytes", "status"]
        return pd.DataFrame(rows, columns=columns)

    def sweep(self) -> list[str]:
        """Remove staging and trash folders left by writers that died (e.g. killed mid-save).
        They were never visible as artifacts; this only reclaims their space."""
        removed = []
        for path in self.root.iterdir() if self.root.is_dir() else []:
            match = LEFTOVER_PATTERN.match(path.name)
            if match and path.is_dir() and not process_alive(int(match["pid"])):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def delete(self, model_name: str, key: str) -> None:
        folder = self.folder(model_name, key)
        if not folder.is_dir():
            raise ArtifactGone(f"no artifact {folder.name} in {self.root}")
        try:
            self._discard(folder)
        except FileNotFoundError:
            raise ArtifactGone(f"artifact {folder.name} was deleted by someone else first") from None

    def _discard(self, folder: Path) -> None:
        """Take a folder out of sight at once (rename), then remove it."""
        trash = folder.with_name(f".trash-{os.getpid()}-{folder.name}")
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)


_RENAME_EXCHANGE = 2  # renameat2 flag (Linux 3.15+)


def _swap_into_place(new: Path, old: Path) -> None:
    """Put folder `new` at `old`'s path in one step; `new`'s path then holds the old folder.
    Linux swaps both names atomically (renameat2 with RENAME_EXCHANGE); elsewhere the old folder is
    renamed aside first, leaving a moment without one, which readers see as 'not available'."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd = -100
        if libc.renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(old), _RENAME_EXCHANGE) == 0:
            return
    except (OSError, AttributeError):
        pass
    aside = old.with_name(f".trash-{os.getpid()}-{old.name}-{time.time_ns()}")
    os.rename(old, aside)
    os.rename(new, old)
    os.rename(aside, new)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _versions() -> dict:
    """The libraries behind an artifact, read from their installed metadata (importing scikit-learn
    to ask it cost a cold `train()` 1.4 s)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__}
    for name in ("scikit-learn", "keras", "myfm"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # keras or myFM not installed is fine for models without them
            pass
    return versions


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
