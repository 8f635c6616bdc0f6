"""A bayes-fm chain in a child process of its own.

myFM's sampler holds the interpreter lock for each whole sweep over the data (about 0.1 s on
ml-latest-small, tens of seconds at 25M ratings). In the server's job threads that would freeze
every page while a model trains; in a child process it does not, and the chains of a fit run side
by side on two cores. The child imports `recsys.gibbs` and no model, so it starts in about half a
second (numpy, SciPy, pandas through myFM).

The parent writes the chain's data (rating arrays, the movies' content) and settings into a private
temporary folder and starts the child; the child writes a file per iteration (its numbers and the
sampled vectors for the moving map), which the parent relays to the epoch loop as they come, and
at the end the kept samples. The parent asks the child to stop by a file (it ends after its current
sweep and writes what it kept); the child ends itself, removing the folder, when its parent dies.
Everything travels as numeric arrays (loaded with allow_pickle off) and JSON.

    python -m recsys.gibbs.process FOLDER     # what the parent runs; not for people
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from recsys.data.dataset import ItemContent, Ratings, RatingScale
from recsys.errors import ConfigError, RecsysError
from recsys.gibbs.chain import ChainResult, ChainSpec, Kept, LeaveOneOut, Step, run_chain

FIELDS = ("users", "items", "values", "timestamps")
POLL = 0.02  # seconds between looks for the child's next iteration


class ChainProcess:
    """One chain sampling in a child process: relay its `steps`, then take its `result`."""

    def __init__(self, spec: ChainSpec, train: Ratings, valid: Ratings | None, snapshot_items: np.ndarray,
                 snapshot_users: np.ndarray) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="recsys-fm-")
        self.folder = Path(self._folder.name)
        _write_ratings(self.folder / "train.npz", train)
        self._valid_values = valid.values if valid is not None and len(valid) else None
        if self._valid_values is not None:
            _write_ratings(self.folder / "valid.npz", valid)
        np.savez(self.folder / "snapshot.npz", items=snapshot_items, users=snapshot_users)
        (self.folder / "spec.json").write_text(json.dumps(spec.as_dict()))
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self._log = open(self.folder / "log.txt", "wb")
        self._child = subprocess.Popen([sys.executable, "-m", "recsys.gibbs.process", str(self.folder)],
                                       stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._next = 1

    def steps(self, stop: threading.Event | None = None) -> Iterator[Step]:
        """Each iteration as the child reports it, in order, until the chain ends; when `stop` is set
        the child is asked to end after its current sweep (and the steps it still reports follow)."""
        while True:
            path = self.folder / f"step-{self._next:06d}.npz"
            if path.exists():
                yield _read_step(path)
                path.unlink()
                self._next += 1
                continue
            if self._child.poll() is not None:
                if not (self.folder / f"step-{self._next:06d}.npz").exists():
                    return
                continue
            if stop is not None and stop.is_set():
                self.request_stop()
            time.sleep(POLL)

    def request_stop(self) -> None:
        (self.folder / "stop").touch()

    def result(self) -> ChainResult:
        """The chain's kept samples (after its end). Raises the child's ConfigError, or RecsysError
        with its log's tail when it failed."""
        self._child.wait()
        refused = self.folder / "refused.json"
        if refused.exists():
            raise ConfigError(json.loads(refused.read_text())["message"])
        done = self.folder / "result.npz"
        if self._child.returncode != 0 or not done.exists():
            self._log.flush()
            tail = (self.folder / "log.txt").read_text(errors="replace")[-1500:]
            raise RecsysError(f"bayes-fm's sampler failed in its own process (exit {self._child.returncode}): {tail}")
        with np.load(done, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        valid_mean = arrays.pop("valid_mean", None)
        peak = int(arrays.pop("peak_kib", np.zeros(1))[0]) * 1024
        loo = LeaveOneOut.from_arrays(self._valid_values, arrays) if "loo_top" in arrays else None
        return ChainResult(Kept.from_arrays(arrays), valid_mean, peak, loo)

    def close(self) -> None:
        """Kill the child if it still runs, and remove the folder."""
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()
        self._log.close()
        self._folder.cleanup()


def _write_ratings(path: Path, ratings: Ratings) -> None:
    content = ratings.content
    extra = {} if content is None else {"genres": content.genres, "genre_names": np.array(content.genre_names, dtype=str),
                                        "years": content.years}
    np.savez(path, **{field: getattr(ratings, field) for field in FIELDS}, shape=np.array([ratings.n_users, ratings.n_items]),
             scale=np.array([ratings.scale.low, ratings.scale.high, ratings.scale.step]), **extra)


def _read_ratings(path: Path) -> Ratings:
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    content = ItemContent(tuple(str(n) for n in arrays["genre_names"]), arrays["genres"], arrays["years"]) \
        if "genres" in arrays else None
    n_users, n_items = (int(v) for v in arrays["shape"])
    return Ratings(*(arrays[field] for field in FIELDS), n_users, n_items, RatingScale(*(float(v) for v in arrays["scale"])),
                   content)


def _write_atomically(path: Path, **arrays: np.ndarray) -> None:
    staging = path.with_name(path.name + ".partial")
    with open(staging, "wb") as out:
        np.savez(out, **arrays)
    os.replace(staging, path)


def _read_step(path: Path) -> Step:
    with np.load(path, allow_pickle=False) as data:
        numbers = data["numbers"]
        return Step(int(numbers[0]), float(numbers[1]), None if np.isnan(numbers[2]) else float(numbers[2]),
                    data["items"], data["users"])


def _peak_kib() -> int:
    """This process's peak resident memory since its exec (VmHWM; getrusage would count the image it
    was forked from), 0 where /proc does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child(folder: Path) -> int:
    """Sample the chain described in `folder`, reporting each iteration there, and write what it kept."""
    spec = ChainSpec(**json.loads((folder / "spec.json").read_text()))
    train = _read_ratings(folder / "train.npz")
    valid = _read_ratings(folder / "valid.npz") if (folder / "valid.npz").exists() else None
    with np.load(folder / "snapshot.npz", allow_pickle=False) as data:
        items, users = data["items"], data["users"]
    parent = os.getppid()
    orphaned = []

    def report(step: Step) -> bool:
        if os.getppid() != parent:  # nobody will read this folder any more
            orphaned.append(True)
            return True
        numbers = np.array([step.iteration, step.loss, np.nan if step.val_rmse is None else step.val_rmse])
        _write_atomically(folder / f"step-{step.iteration:06d}.npz", numbers=numbers, items=step.items, users=step.users)
        return (folder / "stop").exists()
    try:
        result = run_chain(spec, train, valid, items, users, report)
    except ConfigError as error:
        (folder / "refused.json").write_text(json.dumps({"message": str(error)}))
        return 0
    if orphaned:
        shutil.rmtree(folder, ignore_errors=True)
        return 1
    extra = ({} if result.valid_mean is None else {"valid_mean": result.valid_mean}) | \
        ({} if result.loo is None else result.loo.arrays())
    _write_atomically(folder / "result.npz", **result.kept.arrays(), **extra, peak_kib=np.array([_peak_kib()]))
    return 0


if __name__ == "__main__":
    sys.exit(child(Path(sys.argv[1])))
