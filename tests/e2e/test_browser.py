"""End to end in a real headless Chromium (Debian's package) driven by Playwright: start the app
on localhost, visit every page, check its key text and save a screenshot per page (`python
bench/speed.py --parts dashboard` times later visits)."""
from __future__ import annotations

import pytest

from bench.dashboard_driver import PAGES, serve, visit_pages
from tests.conftest import REPO, require_chromium

pytestmark = pytest.mark.browser
OUTPUT = REPO / "test-output" / "e2e"


def test_every_page_in_a_real_browser(movielens_dir, tmp_path):
    require_chromium()
    env = {"RECSYS_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "RECSYS_DATA_DIR": str(movielens_dir)}
    with serve(env, warm=True) as (url, _, _):  # started as `make run` starts it (python -m dashboard.serve)
        timings = visit_pages(url, visits=1, screenshots=OUTPUT)
    (OUTPUT / "timings.txt").write_text("page: first visit (seconds until its key text shows)\n" + "".join(
        f"{link}: {timings[(link, 1)]:.1f}\n" for link, _, _ in PAGES))
    assert len(list(OUTPUT.glob("*.png"))) >= len(PAGES)
