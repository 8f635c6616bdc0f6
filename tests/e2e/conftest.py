"""A real server and a real headless Chromium, shared by a module's browser tests."""
from __future__ import annotations

import pytest

from bench.dashboard_driver import CHROMIUM, CHROMIUM_ARGS, serve
from tests.conftest import require_chromium


@pytest.fixture(scope="module")
def server(movielens_dir, tmp_path_factory):
    """(browser, url): the dashboard on a free loopback port with its own artifact folder, and
    Debian's Chromium driven by Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    env = {"RECSYS_ARTIFACTS_DIR": str(tmp_path_factory.mktemp("artifacts")), "RECSYS_DATA_DIR": str(movielens_dir)}
    with serve(env) as (url, _, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser, url
        browser.close()
