"""Start the dashboard on localhost and drive it with Playwright and Debian's Chromium.
Shared by the end-to-end test and the speed benchmark."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: (sidebar link, text that shows once the page is usable, seconds allowed)
#: what a page says while it shows its quick stand-in model until its default is trained
STAND_IN_NOTE = "Meanwhile:"
PAGES = [
    ("Start here", "Teachers and students", 60),
    ("Dataset", "Rating histogram", 60),
    ("Rating matrix", "A window of actual cells", 60),
    ("Train", "Results are cached", 60),
    ("Latent factors", "Nearest to", 180),
    ("Recommendations", "Top-10 by", 240),
    ("Mini demo", "Bob / Beauty Inside", 120),
    ("Lessons", "What to notice", 120),
    ("Compare models", "Compare models", 60),
]

#: where a point of a latent map sits in the window (an outlier, so nothing is drawn on top of it):
#: kind "movie" (the movie map) or "user" (the users' map); gives {x, y, label} for a mouse click
FIND_MAP_POINT = """([kind]) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')].filter(g => g._fullData);
  const gd = kind === 'user'
      ? plots.find(g => g._fullData.some(t => t.hovertext && String(t.hovertext[0]).startsWith('user ')))
      : plots.find(g => g._fullData.some(t => t.name === 'picked movie'));
  gd.scrollIntoView({block: 'center'});
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, rect = gd.getBoundingClientRect();
  const traces = gd._fullData.filter(t => t.hovertext && t.x && t.x.length);
  const trace = traces.reduce((a, b) => (b.x.length > a.x.length ? b : a));
  let best = 0;
  for (let i = 1; i < trace.x.length; i++) if (trace.x[i] > trace.x[best]) best = i;  // an outlier: nothing on top
  return {x: rect.left + xa._offset + xa.l2p(trace.x[best]), y: rect.top + ya._offset + ya.l2p(trace.y[best]),
          label: String(trace.hovertext[best])};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict[str, str], port: int | None = None, timeout: float = 60,
          log: Path | None = None, warm: bool = False) -> Iterator[tuple[str, float, int]]:
    """Run `streamlit run dashboard/app.py` on 127.0.0.1, or with `warm` as `make run` does
    (`python -m dashboard.serve`: the same after loading the libraries, the core and the default
    dataset); yields (url, seconds until it listened, the server's process id). The server's
    stderr goes to `log` when given."""
    port = port or free_port()
    started = time.perf_counter()
    errors = open(log, "w") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", *(["dashboard.serve"] if warm else ["streamlit", "run", str(REPO / "dashboard" / "app.py")]),
         "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=errors)
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
        yield f"http://127.0.0.1:{port}/", time.perf_counter() - started, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not None:
            errors.close()


def visit_pages(url: str, visits: int = 2, screenshots: Path | None = None, wait_scale: float = 1.0) -> dict:
    """Open the app, then every page `visits` times; returns seconds until each page's key text
    shows, {"first page": s, (link, visit_number): s}, and until its default model is in place
    (no stand-in note), (link, visit_number, "default"): s. Raises if a page shows a traceback."""
    from playwright.sync_api import sync_playwright

    timings: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        page.goto(url)
        page.get_by_text(PAGES[0][1]).first.wait_for(timeout=90_000 * wait_scale)
        timings["first page"] = time.perf_counter() - started
        for visit in range(1, visits + 1):
            for link, expected, wait in PAGES:
                started = time.perf_counter()
                page.get_by_role("link", name=link).first.click()
                page.get_by_text(expected).first.wait_for(timeout=wait * 1000 * wait_scale)
                timings[(link, visit)] = time.perf_counter() - started
                page.get_by_text(STAND_IN_NOTE).first.wait_for(state="detached", timeout=wait * 1000 * wait_scale)
                timings[(link, visit, "default")] = time.perf_counter() - started
                page.wait_for_timeout(800)  # let charts finish drawing
                if page.get_by_text("Traceback").count():
                    raise AssertionError(f"{link} shows a traceback")
                if screenshots is not None and visit == 1:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshots / f"{link.lower().replace(' ', '-')}.png"), full_page=True)
        browser.close()
    return timings


#: watches the app's script state: the times (ms) at which a run started and ended after `window.__mark`
WATCH_RUNS = """() => {
  window.__runs = [];
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__runs.push([app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
#: true when the app is not running its script (its last run has ended)
RUN_ENDED = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'notRunning'"""
#: true once a run has started and ended since the edit; waits two frames so the charts are painted
RUN_ANSWERED = """() => {
  const runs = window.__runs || [];
  const started = runs.findIndex(([state]) => state === 'running');
  return started >= 0 && runs.slice(started).some(([state]) => state === 'notRunning');
}"""


def mini_edit_times(url: str, edits: int = 8) -> list[float]:
    """Seconds from typing a rating into the mini demo's grid (Enter) to the page having answered
    (the script run it starts has ended and two frames are painted), for `edits` edits of Alice's
    Matrix cell, alternating 2 and 1."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        page.get_by_role("link", name="Mini demo").first.click()
        page.get_by_text("Bob / Beauty Inside").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        page.evaluate(WATCH_RUNS)
        grid = page.locator('[data-testid="stDataFrame"]').first
        for n in range(edits):
            box = grid.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.74, box["y"] + 55)  # Alice's Matrix cell
            page.keyboard.type("2" if n % 2 == 0 else "1")
            page.evaluate("() => { window.__runs = []; }")
            started = time.perf_counter()
            page.keyboard.press("Enter")
            page.wait_for_function(RUN_ANSWERED, timeout=60_000, polling=20)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            times.append(time.perf_counter() - started)
            page.keyboard.press("Escape")
            page.wait_for_timeout(300)
        browser.close()
    return times


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak for a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak": int(fields["VmHWM"].split()[0]) / 1024}


def concurrent_sessions(url: str, sessions: int, timeout_scale: float = 4.0) -> list[dict]:
    """`sessions` browser sessions at once (one Chromium, a context each) open every page and ask
    the Recommendations page for a random user. Returns one dict per session: its seconds per page,
    its total, and the error that ended it (None when it went through)."""
    import asyncio

    from playwright.async_api import async_playwright

    async def one(browser, number: int) -> dict:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page, record, started = await context.new_page(), {"session": number, "error": None}, time.perf_counter()
        try:
            await page.goto(url)
            await page.get_by_text(PAGES[0][1]).first.wait_for(timeout=120_000 * timeout_scale)
            for link, expected, wait in PAGES:
                begun = time.perf_counter()
                await page.get_by_role("link", name=link).first.click()
                await page.get_by_text(expected).first.wait_for(timeout=wait * 1000 * timeout_scale)
                if link == "Recommendations":
                    await page.get_by_role("button", name="Random user").click()
                    await page.wait_for_timeout(500)
                    await page.get_by_text(expected).first.wait_for(timeout=wait * 1000 * timeout_scale)
                    # that run must end before the next link: a page switch sent while a run is still
                    # going was seen to leave a session on the old page under load (Mini demo next)
                    await page.wait_for_function(RUN_ENDED, timeout=wait * 1000 * timeout_scale, polling=100)
                record[link] = time.perf_counter() - begun
                if await page.locator('[data-testid="stException"]').count() or \
                        await page.get_by_text("Traceback").count():
                    raise AssertionError(f"{link} shows an exception")
        except Exception as error:  # reported per session, so one failure does not hide the others
            record["error"] = f"{type(error).__name__}: {str(error)[:300]}"
        record["total"] = time.perf_counter() - started
        await context.close()
        return record

    async def run() -> list[dict]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            records = await asyncio.gather(*(one(browser, n) for n in range(sessions)))
            await browser.close()
            return list(records)
    return asyncio.run(run())


@dataclass
class Wave:
    """One wave of concurrent sessions: what each did, the server's memory after it, and the
    model loads and trainings the server had logged by then."""

    records: list[dict]
    memory: dict[str, float]
    loads: Counter
    trainings: Counter

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.records if r["error"]]

    def describe(self, number: int) -> str:
        totals = sorted(r["total"] for r in self.records)
        return (f"wave {number}: {len(self.records)} sessions at once, {len(self.records) - len(self.failures)} "
                f"went through; each session's wall time median {totals[len(totals) // 2]:.1f}s, max "
                f"{totals[-1]:.1f}s; server RSS {self.memory['rss']:.0f} MiB (peak {self.memory['peak']:.0f}); "
                f"models loaded so far {dict(self.loads)}, trained {dict(self.trainings)}")


def server_events(log_text: str) -> tuple[Counter, Counter]:
    """(loads, trainings) per model name, from the server's log lines."""
    loads = Counter(re.findall(r"model loaded from the artifact store: (\S+)", log_text))
    trainings = Counter(re.findall(r"model trained: (\S+)", log_text))
    return loads, trainings


def load_waves(env: dict[str, str], log: Path, sessions: int, waves: int) -> list[Wave]:
    """Start one server and send it `waves` waves of `sessions` concurrent browser sessions."""
    results = []
    with serve(env, log=log) as (url, _, pid):
        for _ in range(waves):
            records = concurrent_sessions(url, sessions)
            results.append(Wave(records, memory_mib(pid), *server_events(log.read_text())))
    return results
