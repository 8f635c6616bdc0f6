"""End to end in a real headless Chromium (Debian's package) driven by Playwright: start the app
on localhost, visit every page, check its key text and save a screenshot per page."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = REPO / "test-output" / "e2e"
PAGES = [  # (link text, text that must appear, seconds to wait)
    ("Dataset", "Rating histogram", 60),
    ("Rating matrix", "A window of actual cells", 60),
    ("Train", "Results are cached", 60),
    ("Latent factors", "Nearest to", 180),
    ("Recommendations", "Top-10 by", 240),
    ("Mini demo", "Bob / Beauty Inside", 120),
    ("Compare models", "Compare models", 60),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(movielens_dir, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (make browser installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    env = {**os.environ, "RECSYS_ARTIFACTS_DIR": str(tmp_path_factory.mktemp("e2e-artifacts")),
           "RECSYS_DATA_DIR": str(movielens_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the dashboard did not start listening within 60 s")
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_every_page_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    timings = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        page.get_by_text("Rating histogram").first.wait_for(timeout=90_000)
        for visit in ("first", "second"):  # the second visit finds models and tables cached
            for link, expected, wait in PAGES:
                started = time.perf_counter()
                page.get_by_role("link", name=link).first.click()
                page.get_by_text(expected).first.wait_for(timeout=wait * 1000)
                timings[(link, visit)] = time.perf_counter() - started
                page.wait_for_timeout(800)  # let charts finish drawing before the screenshot
                assert page.get_by_text("Traceback").count() == 0, f"{link} shows a traceback"
                if visit == "first":
                    page.screenshot(path=str(OUTPUT / f"{link.lower().replace(' ', '-')}.png"), full_page=True)
        browser.close()
    (OUTPUT / "timings.txt").write_text("page: first visit / second visit (seconds until its key text shows)\n" + "".join(
        f"{link}: {timings[(link, 'first')]:.1f} / {timings[(link, 'second')]:.1f}\n" for link, _, _ in PAGES))
    assert len(list(OUTPUT.glob("*.png"))) >= len(PAGES)
