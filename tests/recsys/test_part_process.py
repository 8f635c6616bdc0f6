"""A blend part fitted in a process of its own gives the same model as in turn, says why it was
refused, and is killed when the run is stopped."""
import threading
from pathlib import Path

import numpy as np
import pytest

from recsys.errors import ConfigError
from recsys.models import make_model
from recsys.models.part_process import PartProcess
from recsys.split import Split, validation_split


@pytest.fixture(scope="module")
def parts(ml100k):
    train, _ = Split("official", name="u1").apply(ml100k)
    return validation_split(train, 0.1, seed=42)


def test_a_part_fitted_apart_is_the_part_fitted_here(parts):
    fit, valid = parts
    here = make_model("autorec", hidden=40, epochs=3)
    here.fit(fit, valid)
    apart = make_model("autorec", hidden=40, epochs=3)
    apart.share_training_data(here)
    assert PartProcess(apart, fit, valid).result() is apart
    assert np.array_equal(apart.validation_predictions, here.validation_predictions)
    assert np.array_equal(apart._state()["reconstruction"], here._state()["reconstruction"])
    assert np.array_equal(apart.predict(valid.users, valid.items), here.predict(valid.users, valid.items))


def test_a_refusal_in_the_child_comes_back_as_the_same_message(parts):
    fit, valid = parts
    with pytest.raises(ConfigError, match="autorec works on a dense movies x users matrix"):
        PartProcess(make_model("autorec", max_cells=1000), fit, valid).result()


def test_a_stopped_run_kills_the_child_and_leaves_nothing(parts):
    fit, valid = parts
    process = PartProcess(make_model("autorec", epochs=500, patience=500), fit, valid)
    folder, stop = Path(process._folder.name), threading.Event()
    stop.set()
    assert process.result(stop) is None
    assert process._child.returncode is not None and not folder.exists()


PARENT = """
import sys, time
from recsys.readers import mini_dataset
from recsys.models import make_model
from recsys.models.part_process import PartProcess
from recsys.split import Split, validation_split
train, _ = Split(fraction=0.25).apply(mini_dataset())
fit, valid = validation_split(train, 0.2, seed=0)
process = PartProcess(make_model("autorec", hidden=4, epochs=10000, patience=10000), fit, valid)
print(process._child.pid, process._folder.name, flush=True)
time.sleep(600)
"""


def test_a_child_whose_parent_is_killed_ends_itself_and_removes_its_folder(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=REPO)
    pid, folder = parent.stdout.readline().split()
    time.sleep(8)  # the child is past its imports and in its epochs
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (Path(f"/proc/{pid}").exists() or Path(folder).exists()):
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            break  # ended; a zombie until its (dead) parent's reaper collects it
        time.sleep(0.5)
    assert not Path(folder).exists()
