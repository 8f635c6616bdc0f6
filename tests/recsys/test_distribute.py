"""The Keras models on tf.distribute, on one machine: MirroredStrategy over two logical CPU devices
and MultiWorkerMirroredStrategy with two worker processes on localhost, each against single-device
training on the same data and seed. Each runs in fresh processes (TensorFlow fixes its devices and
its multi-worker strategy before any other operation)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from recsys.distribute import check_strategy
from recsys.errors import ConfigError
from recsys.store.artifacts import ArtifactStore
from recsys.work.plan import resolve_config, with_strategy
from tests.conftest import REPO

CHILD = [sys.executable, str(REPO / "tests" / "recsys" / "distribute_child.py")]


def _run(args: list[str], env: dict | None = None, timeout: int = 600) -> list[dict]:
    done = subprocess.run(CHILD + args, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mirrored_over_two_logical_cpus_matches_one_device_and_saves_a_plain_model(movielens_dir, tmp_path):
    results = _run(["--logical-cpus", "2", "--strategies", "default,mirrored", "--models", "mf,gmf-ranking",
                    "--save", str(tmp_path / "store")])
    runs = {(r.get("model"), r.get("strategy")): r for r in results[:-1]}
    assert runs[("mf", "mirrored")]["replicas"] == 2 and runs[("mf", "default")]["replicas"] == 1
    assert runs[("mf", "mirrored")]["rmse"] == pytest.approx(runs[("mf", "default")]["rmse"], abs=0.01)
    ranking = runs[("gmf-ranking", "mirrored")]  # fresh negatives every epoch, under the strategy
    assert np.isfinite(ranking["loss"]) and ranking["loss"] == pytest.approx(runs[("gmf-ranking", "default")]["loss"],
                                                                            rel=0.05)
    saved = results[-1]
    assert saved["strategy"] == "mirrored"
    loaded = ArtifactStore(tmp_path / "store").load("mf", saved["key"])  # here: no strategy, one device
    from recsys.data import sources

    data = sources.load("ml-latest-small", download=False).ratings
    np.testing.assert_allclose(loaded.model.predict(data.users[:20], data.items[:20]), saved["predictions"], rtol=1e-5)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_with_two_local_workers_matches_one_device(movielens_dir):
    workers = [f"localhost:{port}" for port in _free_ports(2)]
    args = ["--strategies", "multi-worker", "--models", "mf", "--epochs", "2", "--ratings", "10000"]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(CHILD + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env={**os.environ, "TF_CONFIG": tf_config}, cwd=REPO))
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1])[0])
    single = _run(["--strategies", "default", "--models", "mf", "--epochs", "2", "--ratings", "10000"])[0]
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert outputs[0]["rmse"] == pytest.approx(outputs[1]["rmse"], abs=1e-6)  # the workers hold one model
    assert outputs[0]["rmse"] == pytest.approx(single["rmse"], abs=0.02)


def test_strategy_settings_are_checked():
    assert check_strategy("mirrored") == "mirrored"
    with pytest.raises(ConfigError, match="strategy must be one of default, mirrored, multi-worker"):
        check_strategy("tpu")
    config = with_strategy("mf", resolve_config("mf", {}), "mirrored")
    assert config.strategy == "mirrored"
    with pytest.raises(ConfigError, match="does not train with tf.distribute"):
        with_strategy("ease", resolve_config("ease", {}), "mirrored")


def test_multi_worker_without_tf_config_is_a_clear_error(monkeypatch):
    from recsys.cli import main

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main(["train", "--dataset", "mini", "--model", "mf", "--strategy", "multi-worker"]) == 1
