"""Nothing from outside is unpickled or evaluated; a tampered Keras file is refused."""
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.errors import ArtifactError
from recsys.models.persistence import load_model, save_model
from recsys.store.artifacts import ArtifactStore
from recsys.work.training import train
from tests.conftest import REPO


def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    import keras

    store = ArtifactStore(tmp_path / "models")
    result = train(mini_dataset(), "mf", {"factors": 2, "epochs": 2}, split=Split(fraction=0.25), store=store)
    user, item = keras.Input(shape=(), dtype="int32"), keras.Input(shape=(), dtype="int32")
    p = keras.layers.Embedding(4, 2, name="user_embedding")(user)
    q = keras.layers.Embedding(5, 2, name="item_embedding")(item)
    evil = keras.layers.Lambda(lambda x: x * 0 + 5.0, name="score")(keras.layers.Dot(axes=1)([p, q]))
    keras.Model([user, item], evil).save(result.path / "model.keras")
    manifest_path = result.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    data = (result.path / "model.keras").read_bytes()
    manifest["model.keras"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest_path.write_text(json.dumps(manifest))  # even with a matching manifest
    with pytest.raises(ArtifactError, match="could not be loaded safely"):
        store.load("mf", result.key)


def test_state_arrays_refuse_pickled_objects(tmp_path):
    from recsys.models import make_model

    model = make_model("biases")
    model.fit(mini_dataset().ratings)
    save_model(model, tmp_path)
    np.savez(tmp_path / "state.npz", shape=np.array([object()], dtype=object))
    with pytest.raises(ArtifactError, match="unreadable"):
        load_model(type(model), tmp_path, model.config)


def test_no_pickle_or_eval_in_the_code():
    pattern = re.compile(r"\b(pickle|cloudpickle|joblib\.load|eval\(|exec\(|allow_pickle=True|safe_mode=False)")
    offenders = [f"{path.relative_to(REPO)}:{n}" for folder in ("recsys", "dashboard")
                 for path in (REPO / folder).rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_server_listens_on_localhost_only_wherever_it_starts(tmp_path, monkeypatch):
    """Started from another folder (so no ./.streamlit/config.toml applies) and without an
    address flag: the app's own config keeps it on loopback, with XSRF protection on and no
    error details sent to browsers."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from bench.dashboard_driver import free_port

    port = free_port()
    env = {**os.environ, "RECSYS_ARTIFACTS_DIR": str(tmp_path / "artifacts")}
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"),
                                "--server.port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not _listening_addresses(port):
            assert time.time() < deadline and process.poll() is None, "the server did not start"
            time.sleep(0.3)
        addresses = _listening_addresses(port)
        loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1
        assert addresses and addresses <= loopback, addresses
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as answer:
            assert answer.status == 200
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_app_config_keeps_xsrf_on_and_tracebacks_off():
    import tomllib

    config = tomllib.loads((REPO / "dashboard" / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost" and config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none" and config["runner"]["postScriptGC"] is False
    assert config["client"]["toolbarMode"] == "viewer"  # no "Deploy" button in a local analysis app
