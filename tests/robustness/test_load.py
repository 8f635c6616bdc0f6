"""Load: four browser sessions at once against one dashboard server on localhost open every page
and ask for recommendations. All succeed; a model already in the artifact store is loaded once and
shared; a model nobody trained yet is trained once while the other sessions wait; memory stays
bounded. (AppTest cannot do this: its instances share one global runtime and are not
thread-safe.) `python bench/speed.py --parts load` sends waves of ten and reports the numbers;
the suite keeps to four, enough for several sessions to wait on one training."""
from __future__ import annotations

from collections import Counter

import pytest

from bench.dashboard_driver import load_waves
from dashboard.services import SPLITS
from recsys.store.artifacts import ArtifactStore
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, DEFAULT_RANKING_MODEL
from recsys.work.request import resolve
from recsys.work.training import train_plan
from tests.conftest import REPO, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SESSIONS = 4
PEAK_RSS_MIB = 2048
#: the Lessons page's model, stored before the wave so the wave measures sharing, not a third training.
#: (A job that ended as a session clicked another page used to send that session back: the page
#: watching the job reran itself and Streamlit folded that run with the click's, keeping this page.
#: `job_widgets.asked_for_another_page` now lets the click win; tests/dashboard/test_job_ending.py.)
LESSON_MODEL = "als"
OUTPUT = REPO / "test-output" / "load"


@pytest.mark.timeout(1800)  # four sessions take about 70 s alone; far longer beside the suite's other browser tests
def test_four_sessions_at_once(ml_small, movielens_dir, tmp_path):
    require_chromium()
    artifacts = tmp_path / "artifacts"
    # stored, not in memory: the latent map's default and the lessons' model (see the note on LESSON_MODEL)
    for label in (DEFAULT_FACTOR_MODEL, LESSON_MODEL):
        planned = resolve(ml_small, label, SPLITS["random 80/20 holdout"]).plan
        train_plan(ml_small, planned, store=ArtifactStore(artifacts / "models"))
    env = {"RECSYS_ARTIFACTS_DIR": str(artifacts), "RECSYS_DATA_DIR": str(movielens_dir)}
    (wave,) = load_waves(env, tmp_path / "server.log", SESSIONS, waves=1)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "report.txt").write_text(wave.describe(1) + "\n")
    assert not wave.failures, wave.failures
    assert wave.loads == Counter({DEFAULT_FACTOR_MODEL: 1, LESSON_MODEL: 1}), wave.loads  # once, shared by all four
    # the ranking default trains once while the others wait (or is still training when the wave ends)
    assert set(wave.trainings) <= {DEFAULT_RANKING_MODEL} and max(wave.trainings.values(), default=1) == 1, \
        wave.trainings
    assert wave.memory["peak"] < PEAK_RSS_MIB, wave.memory
