"""Start the dashboard on localhost and drive it with Playwright and Debian's Chromium.
Shared by the end-to-end test and the speed benchmark."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: (sidebar link, text that shows once the page is usable, seconds allowed)
PAGES = [
    ("Dataset", "Rating histogram", 60),
    ("Rating matrix", "A window of actual cells", 60),
    ("Train", "Results are cached", 60),
    ("Latent factors", "Nearest to", 180),
    ("Recommendations", "Top-10 by", 240),
    ("Mini demo", "Bob / Beauty Inside", 120),
    ("Compare models", "Compare models", 60),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict[str, str], port: int | None = None, timeout: float = 60) -> Iterator[tuple[str, float]]:
    """Run `streamlit run dashboard/app.py` on 127.0.0.1; yields (url, seconds until it listened)."""
    port = port or free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("the dashboard did not start listening") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/", time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def visit_pages(url: str, visits: int = 2, screenshots: Path | None = None) -> dict:
    """Open the app, then every page `visits` times; returns seconds until each page's key text
    shows: {"first page": s, (link, visit_number): s}. Raises if a page shows a traceback."""
    from playwright.sync_api import sync_playwright

    timings: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        page.goto(url)
        page.get_by_text(PAGES[0][1]).first.wait_for(timeout=90_000)
        timings["first page"] = time.perf_counter() - started
        for visit in range(1, visits + 1):
            for link, expected, wait in PAGES:
                started = time.perf_counter()
                page.get_by_role("link", name=link).first.click()
                page.get_by_text(expected).first.wait_for(timeout=wait * 1000)
                timings[(link, visit)] = time.perf_counter() - started
                page.wait_for_timeout(800)  # let charts finish drawing
                if page.get_by_text("Traceback").count():
                    raise AssertionError(f"{link} shows a traceback")
                if screenshots is not None and visit == 1:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshots / f"{link.lower().replace(' ', '-')}.png"), full_page=True)
        browser.close()
    return timings
