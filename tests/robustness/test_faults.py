"""Faults: training killed with SIGKILL, damaged artifacts, artifacts from another format version,
an unwritable or full artifacts folder, and a download cut off half way."""
from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recsys.data import sources
from recsys.data.readers import mini_dataset
from recsys.errors import ArtifactError, DataError
from recsys.store.artifacts import FORMAT_VERSION, ArtifactStore
from recsys.work.training import train
from tests.conftest import REPO
from tests.robustness.fault_child import SPLIT, config

KILLS_PER_MODEL = 6


def _start(root: Path, model: str, seeds: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.robustness.fault_child", str(root), model, str(seeds)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"})


def _wait_for_staging(root: Path, pid: int, timeout: float = 60.0) -> None:
    prefix, deadline = f".tmp-{pid}-", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if root.is_dir() and any(name.startswith(prefix) for name in os.listdir(root)):
            return
        time.sleep(0.0005)
    raise AssertionError("the child never started saving")


def _assert_every_visible_artifact_loads(store: ArtifactStore) -> int:
    entries = store.entries()
    assert (entries["status"] == "ok").all(), entries[entries["status"] != "ok"]
    mini = mini_dataset()
    for row in entries.itertuples():
        model = store.load(row.model, row.key).model
        assert np.isfinite(model.predict(mini.ratings.users, mini.ratings.items)).all()
    return len(entries)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["biases", "mf"])
def test_sigkill_at_random_moments_never_leaves_a_partial_artifact(tmp_path, model):
    root, rng = tmp_path / "models", np.random.default_rng(2026)
    seeds, leftovers_seen = 400, 0
    for kill in range(KILLS_PER_MODEL):
        child = _start(root, model, seeds)
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        if kill % 2:  # at a random moment of a save: once its staging folder shows up
            _wait_for_staging(root, child.pid)
            time.sleep(rng.uniform(0, 0.03))
        else:  # at a random moment of the run
            time.sleep(rng.uniform(0.05, 2.0))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, f"the child ended by itself: {err[-2000:]}"
        assert "Traceback" not in err, err
        leftovers_seen += any(p.name.startswith(f".tmp-{child.pid}-") for p in root.iterdir()) if root.is_dir() else 0
        _assert_every_visible_artifact_loads(ArtifactStore(root))
    # the next run goes through cleanly: every seed loads or trains, leftovers of the dead are swept
    count = len(ArtifactStore(root).entries()) + 2  # loads every saved seed, trains at least one more
    done = subprocess.run([sys.executable, "-m", "tests.robustness.fault_child", str(root), model, str(count)],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("seed ") == count and " trained " in done.stdout
    assert _assert_every_visible_artifact_loads(ArtifactStore(root)) == count
    assert not [p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".trash-"))]
    print(f"{model}: {KILLS_PER_MODEL} kills, {leftovers_seen} landed mid-save, nothing partial visible")


# ----- damaged artifacts -----
def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {"truncated": _truncate, "edited": _flip_a_byte, "deleted": Path.unlink}
FILES = ("state.npz", "model.keras", "ids.json", "meta.json", "manifest.json")


def _other_format_version(folder: Path) -> None:
    """What an artifact written by another version of recsys looks like: a consistent manifest
    whose meta says another format version."""
    meta = json.loads((folder / "meta.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (folder / "meta.json").write_text(json.dumps(meta))
    manifest = json.loads((folder / "manifest.json").read_text())
    from recsys.store.artifacts import _sha256

    manifest["meta.json"] = {"bytes": (folder / "meta.json").stat().st_size, "sha256": _sha256(folder / "meta.json")}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict]:
    """One trained Keras artifact, kept pristine; each test damages a copy."""
    root = tmp_path_factory.mktemp("pristine") / "models"
    result = train(mini_dataset(), "mf", config("mf", 0), SPLIT, store=ArtifactStore(root))
    return result.path, result.metrics


CASES = [(name, how) for name in FILES for how in DAMAGE] + [("meta.json", "other format version")]


@pytest.mark.parametrize("name, how", CASES)
def test_each_damaged_file_is_detected_and_retrained(saved, tmp_path, name, how):
    pristine, metrics = saved
    root = tmp_path / "models"
    shutil.copytree(pristine, root / pristine.name)
    folder = root / pristine.name
    (DAMAGE.get(how) or (lambda path: _other_format_version(path.parent)))(folder / name)
    store = ArtifactStore(root)
    expected = "format version" if how == "other format version" else name
    with pytest.raises(ArtifactError, match=expected.replace(".", r"\.")):
        train(mini_dataset(), "mf", config("mf", 0), SPLIT, store=store)
    assert store.entries()["status"].iloc[0].startswith("broken")
    again = train(mini_dataset(), "mf", config("mf", 0), SPLIT, store=store, on_corrupt="retrain")
    assert not again.loaded and "broken and has been retrained" in again.notes[0]
    assert again.metrics["rmse"] == pytest.approx(metrics["rmse"], abs=1e-4)
    assert store.entries()["status"].tolist() == ["ok"]


# ----- unwritable or full artifacts folder -----
def test_a_full_disk_keeps_the_trained_result(tmp_path, monkeypatch):
    def no_space(folder):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("recsys.store.artifacts._fsync_tree", no_space)
    root = tmp_path / "models"
    result = train(mini_dataset(), "biases", split=SPLIT, store=ArtifactStore(root))
    assert result.path is None and "No space left on device" in result.notes[0]
    assert np.isfinite(result.metrics["rmse"])
    assert not list(root.iterdir()), "no staging folder may stay behind"


# ----- download cut off -----
class _CutOff(io.BytesIO):
    """A response that delivers half the bytes, then the connection drops."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.limit = len(data) // 2

    def read(self, size=-1):
        if self.tell() >= self.limit:
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        return super().read(min(size if size > 0 else self.limit, self.limit - self.tell()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_download_cut_half_way_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    payload = b"PK" + bytes(300_000)

    def opener(url, timeout=0):
        if url.endswith(".md5"):
            return _CutOff(b"MD5 (ml-latest-small.zip) = " + b"0" * 32 + b"\n" * 64)
        return _CutOff(payload)
    with pytest.raises(DataError, match="broke off after .*Connection reset by peer"):
        sources.fetch("ml-latest-small", opener=opener)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
