"""The dashboard under faults: every kind of damaged artifact is reported with a Retrain button
that repairs it, and an unwritable or full artifacts folder still shows the training result."""
from __future__ import annotations

import errno
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import resources
from recsys.store.artifacts import ArtifactStore
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, STAND_IN
from tests.conftest import REPO, finish_jobs
from tests.robustness.test_faults import CASES, DAMAGE, _other_format_version

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture()
def fresh(tmp_path, monkeypatch):
    """An empty artifacts folder and no model in the process-wide cache (like a new server)."""
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    resources.reset_models()
    yield tmp_path / "artifacts"
    resources.reset_models()


def _on_mini(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.sidebar.selectbox(key="dataset").set_value("mini").run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return finish_jobs(at)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The mini dataset's default rating model, trained once through the Latent factors page."""
    folder = tmp_path_factory.mktemp("pristine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECSYS_ARTIFACTS_DIR", str(folder))
        resources.reset_models()
        _on_mini("factors")
        resources.reset_models()
    # the page's default factor model (the page's stand-in answered while it trained, and was saved too)
    (path,) = [p for p in (folder / "models").iterdir() if p.name.startswith(f"{DEFAULT_FACTOR_MODEL}-")]
    return path


#: the files of the default factor model's artifact (bayes-fm keeps arrays only: no .keras file, whose damage
#: tests/robustness/test_faults.py covers at the store)
PAGE_CASES = [(name, how) for name, how in CASES if name != "model.keras"]


@pytest.mark.parametrize("name, how", PAGE_CASES)
def test_a_damaged_artifact_is_reported_and_the_page_retrains_it(fresh, pristine, name, how):
    shutil.copytree(pristine, fresh / "models" / pristine.name)
    folder = fresh / "models" / pristine.name
    (DAMAGE.get(how) or (lambda path: _other_format_version(path.parent)))(folder / name)
    at = _on_mini("factors")
    assert any(f"The cached {DEFAULT_FACTOR_MODEL} model is broken" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert not at.get("plotly_chart")
    at.button(key=next(b.key for b in at.button if b.key.startswith("retrain-broken-"))).click().run()
    finish_jobs(at)
    assert not at.error, [e.value for e in at.error]
    assert at.get("plotly_chart")
    assert set(ArtifactStore(fresh / "models").entries()["status"]) == {"ok"}


def _train_on_the_page() -> AppTest:
    at = _on_mini("train")
    at.selectbox(key="train_model").set_value("biases").run()
    at.button(key="start_training").click().run()
    return finish_jobs(at)


def test_an_unwritable_artifacts_folder_still_shows_the_result(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the artifacts folder should be")
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(blocker))
    at = _train_on_the_page()
    assert any("could not be cached" in w.value for w in at.warning)
    assert {m.label for m in at.metric} >= {"Test RMSE", "Test MAE"}
    assert all(m.value != "n/a" for m in at.metric if m.label == "Test RMSE")


def test_a_full_artifacts_folder_still_shows_the_result(fresh, monkeypatch):
    def no_space(folder):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("recsys.store.artifacts._fsync_tree", no_space)
    at = _train_on_the_page()
    assert any("No space left on device" in w.value for w in at.warning)
    assert any(m.label == "Test RMSE" and m.value != "n/a" for m in at.metric)
    assert not [p for p in (fresh / "models").iterdir()]


def test_a_model_deleted_on_disk_is_dropped_by_the_running_server(fresh):
    at = _on_mini("factors")
    assert at.get("plotly_chart")
    store = ArtifactStore(fresh / "models")
    (entry,) = [e for e in store.entries().itertuples() if e.model == DEFAULT_FACTOR_MODEL]
    store.delete(entry.model, entry.key)  # as `python -m recsys artifacts rm` does, from another process
    at.run()
    assert not at.exception
    assert any("fills in when it is done" in c.value for c in at.caption)  # it trains again ...
    assert f"Movie vectors of {STAND_IN}" in at.get("plotly_chart")[0].proto.spec  # ... the stand-in meanwhile
    finish_jobs(at)
    assert f"Movie vectors of {DEFAULT_FACTOR_MODEL}" in at.get("plotly_chart")[0].proto.spec
    assert sorted(store.entries()["model"]) == sorted([DEFAULT_FACTOR_MODEL, STAND_IN])
