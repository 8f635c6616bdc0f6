import json
import multiprocessing
import os

import numpy as np
import pytest

from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.errors import ArtifactError
from recsys.models import make_model
from recsys.store.artifacts import FORMAT_VERSION, ArtifactStore, artifact_key
from recsys.work.training import train


@pytest.fixture(scope="module")
def mini():
    return mini_dataset()


def _quick(dataset, store, retrain=False, **config):
    return train(dataset, "mf", {"factors": 2, "epochs": 3, **config}, split=Split(fraction=0.25),
                 store=store, retrain=retrain)


def test_second_call_loads_the_cached_artifact(mini, store):
    first = _quick(mini, store)
    assert not first.loaded and first.path.is_dir()
    assert {p.name for p in first.path.iterdir()} == {"state.npz", "model.keras", "ids.json", "meta.json",
                                                      "manifest.json", "snapshots.npz"}  # the epochs, replayable
    second = _quick(mini, store)
    assert second.loaded and second.key == first.key
    assert second.metrics == pytest.approx(first.metrics, nan_ok=True)
    users, items = mini.ratings.users, mini.ratings.items
    assert np.allclose(second.model.predict(users, items), first.model.predict(users, items), atol=1e-6)
    assert len(second.history) == len(first.history)
    assert _quick(mini, store, retrain=True).loaded is False


def test_key_depends_on_every_ingredient(mini):
    config = make_model("mf").config
    base = artifact_key(mini.fingerprint, Split(), "mf", config)
    assert base != artifact_key("other", Split(), "mf", config)
    assert base != artifact_key(mini.fingerprint, Split(seed=1), "mf", config)
    assert base != artifact_key(mini.fingerprint, Split(), "biased-mf", config)
    assert base != artifact_key(mini.fingerprint, Split(), "mf", make_model("mf", factors=3).config)


@pytest.mark.parametrize("damage, message", [
    (lambda folder: (folder / "state.npz").write_bytes((folder / "state.npz").read_bytes()[:100]), "truncated or edited"),
    (lambda folder: (folder / "model.keras").unlink(), "model.keras is missing"),
    (lambda folder: (folder / "manifest.json").unlink(), "manifest.json missing"),
    (lambda folder: (folder / "meta.json").write_text("{}"), "truncated or edited"),
])
def test_damaged_artifacts_are_detected(mini, store, damage, message):
    result = _quick(mini, store)
    damage(result.path)
    with pytest.raises(ArtifactError, match=message):
        _quick(mini, store)
    assert store.entries().set_index("key").at[result.key, "status"].startswith("broken")


def test_other_format_version_is_refused(mini, store):
    result = _quick(mini, store)
    meta_path = result.path / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    meta_path.write_text(json.dumps(meta))
    manifest = json.loads((result.path / "manifest.json").read_text())
    import hashlib

    manifest["meta.json"] = {"bytes": meta_path.stat().st_size,
                             "sha256": hashlib.sha256(meta_path.read_bytes()).hexdigest()}
    (result.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format version"):
        _quick(mini, store)


def test_broken_artifact_can_be_retrained(mini, store):
    result = _quick(mini, store)
    (result.path / "state.npz").write_bytes(b"garbage")
    again = train(mini, "mf", {"factors": 2, "epochs": 3}, split=Split(fraction=0.25), store=store,
                  on_corrupt="retrain")
    assert not again.loaded and "broken" in again.notes[0]
    assert _quick(mini, store).loaded
    (again.path / "ids.json").write_text("[]")  # broken again; an explicit retrain replaces it
    forced = _quick(mini, store, retrain=True)
    assert forced.path == again.path and not forced.notes
    assert _quick(mini, store).loaded


def test_list_and_delete(mini, store):
    result = _quick(mini, store)
    entries = store.entries()
    assert entries["key"].tolist() == [result.key] and entries["status"].tolist() == ["ok"]
    store.delete("mf", result.key)
    assert store.entries().empty
    with pytest.raises(ArtifactError, match="no artifact"):
        store.delete("mf", result.key)


@pytest.mark.parametrize("model, key", [("mf", "../../etc"), ("mf", "0123"), ("../x", "0123456789abcdef"),
                                        ("mf", "0123456789ABCDEF")])
def test_paths_from_input_cannot_escape(store, model, key):
    with pytest.raises(ArtifactError):
        store.folder(model, key)


def _train_in_process(root: str) -> str:
    result = train(mini_dataset(), "biases", split=Split(fraction=0.25), store=ArtifactStore(root))
    return str(result.path)


def test_two_processes_training_one_key_leave_one_valid_artifact(tmp_path):
    root = tmp_path / "models"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        paths = pool.map(_train_in_process, [str(root)] * 2)
    assert paths[0] == paths[1]
    entries = ArtifactStore(root).entries()
    assert len(entries) == 1 and entries["status"].tolist() == ["ok"]
    assert not [p for p in os.listdir(root) if p.startswith(".tmp")]


def test_unwritable_store_keeps_the_result(mini, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact folder should be")
    result = train(mini, "biases", split=Split(fraction=0.25), store=ArtifactStore(blocker / "models"))
    assert result.path is None and "could not be cached" in result.notes[0]
    assert np.isfinite(result.metrics["rmse"])
