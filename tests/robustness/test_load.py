"""Load: ten browser sessions at once against one dashboard server on localhost open every page
and ask for recommendations. All succeed; a model already in the artifact store is loaded once and
shared; a model nobody trained yet is trained once while the other sessions wait; memory stays
bounded. AppTest cannot do this: its instances share one global runtime and are not thread-safe."""
from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from bench.dashboard_driver import CHROMIUM, concurrent_sessions, memory_mib, serve
from dashboard.services import SPLITS, model_key
from recsys.catalog import DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL
from recsys.training import train
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SESSIONS = 10
OUTPUT = REPO / "test-output" / "load"


def _server_events(log_text: str) -> tuple[Counter, Counter]:
    """(loads, trainings) per model name, from the server's log lines."""
    loads = Counter(re.findall(r"model loaded from the artifact store: (\S+)", log_text))
    trainings = Counter(re.findall(r"model trained: (\S+)", log_text))
    return loads, trainings


def test_ten_sessions_at_once(ml_small, movielens_dir, tmp_path):
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (make browser installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    artifacts = tmp_path / "artifacts"
    _, model_name, config = model_key(ml_small, DEFAULT_RATING_MODEL, SPLITS["random 80/20 holdout"])
    from recsys.artifacts import ArtifactStore

    train(ml_small, model_name, config, store=ArtifactStore(artifacts / "models"))  # in the store, not in memory
    log = tmp_path / "server.log"
    env = {"RECSYS_ARTIFACTS_DIR": str(artifacts), "RECSYS_DATA_DIR": str(movielens_dir)}
    with serve(env, log=log) as (url, _, pid):
        waves = []
        for _ in range(2):
            records = concurrent_sessions(url, SESSIONS)
            waves.append((records, memory_mib(pid), _server_events(log.read_text())))
    report = []
    for number, (records, memory, (loads, trainings)) in enumerate(waves, start=1):
        failures = [r for r in records if r["error"]]
        totals = sorted(r["total"] for r in records)
        report.append(f"wave {number}: {SESSIONS} sessions, {SESSIONS - len(failures)} went through; "
                      f"session wall time median {totals[len(totals) // 2]:.1f}s, max {totals[-1]:.1f}s; "
                      f"server RSS {memory['rss']:.0f} MiB (peak {memory['peak']:.0f}); "
                      f"loaded {dict(loads)}; trained {dict(trainings)}")
        assert not failures, failures
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    (_, first_memory, (loads, trainings)), (_, second_memory, final) = waves
    assert loads == Counter({DEFAULT_RATING_MODEL: 1}), loads  # loaded once, shared by all ten
    assert trainings == Counter({DEFAULT_RANKING_MODEL: 1}), trainings  # trained once, the others waited
    assert final == (loads, trainings), "the second wave must use the models in memory"
    assert second_memory["rss"] - first_memory["rss"] < 300, (first_memory, second_memory)
