"""Shared fixtures. Tests read real MovieLens from RECSYS_DATA_DIR (../shared/data in CI); when it
is missing a test that needs it is skipped locally and fails under CI=true."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"


def data_dir() -> Path | None:
    configured = os.environ.get("RECSYS_DATA_DIR")
    folder = Path(configured) if configured else DEFAULT_DATA
    return folder if (folder / "ml-latest-small" / "ratings.csv").is_file() else None


def require_data() -> Path:
    folder = data_dir()
    if folder is None:
        message = ("MovieLens data not found: set RECSYS_DATA_DIR to a folder holding "
                   "ml-latest-small/ and ml-100k/")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


#: the longest test files (about 1-4 minutes each beside the rest), started first: with the Makefile's
#: `--no-loadscope-reorder`, xdist hands files out in this order, so the two workers end together
#: instead of one running a long browser file alone at the end
LONGEST_FIRST = ("tests/e2e/test_browser.py", "tests/robustness/test_load.py", "tests/e2e/test_journeys.py",
                 "tests/e2e/test_jobs_browser.py", "tests/robustness/test_faults.py", "tests/recsys/test_distribute.py")


def pytest_collection_modifyitems(session, config, items) -> None:
    """The longest files first, everything else in its usual order (a stable sort)."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def require_chromium() -> None:
    """Debian's Chromium for the browser tests: skipped locally without it, a failure under CI=true."""
    from bench.dashboard_driver import CHROMIUM

    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (make browser installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _isolated_artifacts(tmp_path_factory):
    """Every test session writes artifacts into its own temporary folder."""
    previous = os.environ.get("RECSYS_ARTIFACTS_DIR")
    os.environ["RECSYS_ARTIFACTS_DIR"] = str(tmp_path_factory.mktemp("artifacts"))
    folder = data_dir()
    if folder is not None:
        os.environ["RECSYS_DATA_DIR"] = str(folder)
    yield
    if previous is None:
        os.environ.pop("RECSYS_ARTIFACTS_DIR", None)
    else:
        os.environ["RECSYS_ARTIFACTS_DIR"] = previous


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    return require_data()


@pytest.fixture(scope="session")
def ml_small(movielens_dir):
    from recsys.data import sources

    return sources.load("ml-latest-small", download=False)


@pytest.fixture(scope="session")
def ml100k(movielens_dir):
    from recsys.data import sources

    return sources.load("ml-100k", download=False)


@pytest.fixture()
def store(tmp_path):
    from recsys.store.artifacts import ArtifactStore

    return ArtifactStore(tmp_path / "models")


def finish_jobs(at, timeout: float = 300):
    """Wait for the dashboard server's training jobs to end, then rerun the AppTest page (the
    page's own once-a-second refresh does this in a browser; AppTest has no timer)."""
    from dashboard import resources

    runner = resources.job_runner()
    for view in runner.active(everyone=True):
        runner.wait(view.key, timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def compare_over_folds(at, models: list[str]):
    """The Compare page over five folds for `models`, with any missing run trained."""
    at.multiselect(key="compare_models").set_value(models).run()
    at.radio(key="compare_protocol").set_value("folds (mean and spread)").run()
    if any(b.key == "train_missing" for b in at.button):
        at.button(key="train_missing").click().run()
    return finish_jobs(at)
