"""A blend part fitted in a process of its own, beside the blend's Keras part.

Two Keras models in one process share its global random state and its interpreter lock: run side
by side in threads their results change from run to run. A part whose fit is self-contained
(`Recommender.fits_apart`: it seeds itself and its fitted state is plain arrays, `_state()`) can
instead fit in a child process: the same numbers as in turn (a test checks it), on the second
core. Data and results travel as .npy/.npz files and JSON in a private temporary folder; the
child ends itself, removing the folder, when its parent dies (it checks after every epoch), and the parent kills it when the
run is stopped.

    python -m recsys.models.part_process FOLDER     # what the parent runs; not for people
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

import numpy as np

from recsys.dataset import RatingScale, Ratings
from recsys.errors import ConfigError, RecsysError

FIELDS = ("users", "items", "values", "timestamps")
POLL = 0.1  # seconds between looks at the child and the stop flag


class PartProcess:
    """One part fitting in a child process: `start` it, do other work, then `result`."""

    def __init__(self, component, train: Ratings, valid: Ratings) -> None:
        self.component = component
        self._folder = tempfile.TemporaryDirectory(prefix="recsys-part-")
        folder = Path(self._folder.name)
        for name, ratings in (("train", train), ("valid", valid)):
            for field in FIELDS:
                np.save(folder / f"{name}_{field}.npy", getattr(ratings, field), allow_pickle=False)
        scale = train.scale
        (folder / "job.json").write_text(json.dumps({
            "model": component.name, "config": component.config.as_dict(), "n_users": train.n_users,
            "n_items": train.n_items, "scale": [scale.low, scale.high, scale.step]}))
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._log = open(folder / "log.txt", "wb")
        self._child = subprocess.Popen([sys.executable, "-m", "recsys.models.part_process", str(folder)],
                                       stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def result(self, stop: threading.Event | None = None):
        """The fitted part (its state and validation predictions read back), or None when `stop`
        was set first. Raises the child's ConfigError, or RecsysError with its log's tail."""
        try:
            while self._child.poll() is None:
                if stop is not None and stop.is_set():
                    return None
                time.sleep(POLL)
            folder = Path(self._folder.name)
            if (folder / "refused.json").exists():
                raise ConfigError(json.loads((folder / "refused.json").read_text())["message"])
            if self._child.returncode != 0 or not (folder / "state.npz").exists():
                tail = (folder / "log.txt").read_text(errors="replace")[-1500:]
                raise RecsysError(f"{self.component.name} failed in its own process (exit "
                                  f"{self._child.returncode}): {tail}")
            with np.load(folder / "state.npz", allow_pickle=False) as arrays:
                state = {key: arrays[key] for key in arrays.files}
            self.component.validation_predictions = state.pop("__validation_predictions")
            self.component._load_state(state)
            return self.component
        finally:
            self.close()

    def close(self) -> None:
        """Kill the child if it still runs, and remove the folder."""
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()
        self._log.close()
        self._folder.cleanup()


def _read(folder: Path, name: str, job: dict) -> Ratings:
    arrays = [np.load(folder / f"{name}_{field}.npy", allow_pickle=False) for field in FIELDS]
    return Ratings(*arrays, job["n_users"], job["n_items"], RatingScale(*job["scale"]))


def child(folder: Path) -> int:
    """Fit the part described in `folder` and write its state there (or why it was refused)."""
    from recsys.models import make_model

    job = json.loads((folder / "job.json").read_text())
    parent = os.getppid()
    orphaned = threading.Event()

    def watch_parent(log) -> None:
        if os.getppid() != parent:
            orphaned.set()
    model = make_model(job["model"], **job["config"])
    try:
        history = model.fit(_read(folder, "train", job), _read(folder, "valid", job), callbacks=[watch_parent],
                            stop=orphaned)
    except ConfigError as error:
        (folder / "refused.json").write_text(json.dumps({"message": str(error)}))
        return 0
    if history.stopped:
        if orphaned.is_set():  # nobody will read or remove the folder now
            shutil.rmtree(folder, ignore_errors=True)
        return 1
    staging = folder / "state.partial.npz"
    with open(staging, "wb") as out:
        np.savez(out, __validation_predictions=model.validation_predictions, **model._state())
    os.replace(staging, folder / "state.npz")
    return 0


if __name__ == "__main__":
    sys.exit(child(Path(sys.argv[1])))
