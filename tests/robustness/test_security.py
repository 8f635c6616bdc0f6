"""Nothing from outside is unpickled or evaluated; a tampered Keras file is refused."""
import hashlib
import json
import re

import numpy as np
import pytest

from recsys.artifacts import ArtifactStore
from recsys.errors import ArtifactError
from recsys.readers import mini_dataset
from recsys.split import Split
from recsys.training import train
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
    model.save(tmp_path)
    np.savez(tmp_path / "state.npz", shape=np.array([object()], dtype=object))
    with pytest.raises(ArtifactError, match="unreadable"):
        type(model).load(tmp_path, model.config)


def test_no_pickle_or_eval_in_the_code():
    pattern = re.compile(r"\b(pickle|cloudpickle|joblib\.load|eval\(|exec\(|allow_pickle=True|safe_mode=False)")
    offenders = [f"{path.relative_to(REPO)}:{n}" for folder in ("recsys", "dashboard")
                 for path in (REPO / folder).rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
