"""Server-side training jobs in a real headless Chromium against a real server: training goes on
while the user visits other pages, a page that needs an untrained model stays usable and fills in
by itself, and a job started in one browser session is seen and stopped from another."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from bench.dashboard_driver import CHROMIUM, CHROMIUM_ARGS, PAGES, STAND_IN_NOTE, serve
from recsys.store.artifacts import ArtifactStore
from tests.conftest import REPO, require_chromium

LANDING = PAGES[0][1]  # the text the app opens with (its Start here page)

pytestmark = pytest.mark.browser
OUTPUT = REPO / "test-output" / "e2e-jobs"
EPOCH = re.compile(r"epoch (\d+) of at most (\d+)")
PROGRESS = re.compile(r"(refit on all training data, )?epoch (\d+) of at most \d+")


@pytest.fixture()
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _goto(page, link: str, expected: str, timeout: float = 60) -> None:
    page.get_by_role("link", name=link).first.click()
    page.get_by_text(expected).first.wait_for(timeout=timeout * 1000)


def _progress_seen(page) -> tuple[int, int]:
    """How far the page says the running job is: (0 while fitting, 1 in the refit, epoch)."""
    return max(((int(bool(refit)), int(epoch)) for refit, epoch in PROGRESS.findall(page.inner_text("body"))),
               default=(0, 0))


def _choose_long_mf(page) -> None:
    """On the Train page: mf with at most 200 epochs at the smallest learning rate (a long run)."""
    model = page.locator('[data-testid="stSelectbox"]', has_text="Model").first
    model.click()
    page.keyboard.type("mf")
    page.get_by_role("option", name="mf", exact=True).click()
    page.get_by_text("dot product of user and item embeddings", exact=False).first.wait_for(timeout=30_000)
    for text, key in {"Epochs": "End", "Learning rate": "Home"}.items():
        thumb = page.locator('[data-testid="stSlider"]', has_text=text).get_by_role("slider")
        thumb.focus()
        thumb.press(key)
        page.wait_for_timeout(1200)  # each change reruns the page


def test_training_survives_leaving_the_page_and_is_stoppable_from_another_session(browser, movielens_dir,
                                                                                 tmp_path):
    artifacts = tmp_path / "artifacts"
    env = {"RECSYS_ARTIFACTS_DIR": str(artifacts), "RECSYS_DATA_DIR": str(movielens_dir)}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with serve(env, log=tmp_path / "server.log") as (url, _, _):
        alice = browser.new_page(viewport={"width": 1400, "height": 1000})
        alice.goto(url)
        alice.get_by_text(LANDING).first.wait_for(timeout=90_000)

        # 1. a page that needs an untrained model: progress in place, the rest of the app usable
        _goto(alice, "Latent factors", "the page fills in when it is done", 60)
        assert alice.get_by_text("Training jobs").count()  # the sidebar panel
        _goto(alice, "Dataset", "Rating histogram", 60)  # usable while the job runs
        _goto(alice, "Latent factors", "Latent factors", 30)
        alice.get_by_text("Nearest to").first.wait_for(timeout=240_000)  # the stand-in answers meanwhile
        alice.get_by_text(STAND_IN_NOTE).first.wait_for(state="detached", timeout=240_000)  # filled in, no click
        alice.get_by_text("Nearest to").first.wait_for(timeout=60_000)
        alice.screenshot(path=str(OUTPUT / "factors-filled-in.png"), full_page=True)

        # 2. a long run goes on while the user looks around
        _goto(alice, "Train", "Results are cached", 60)
        _choose_long_mf(alice)
        alice.get_by_role("button", name="Start training").click()
        alice.get_by_text(EPOCH).first.wait_for(timeout=120_000)
        alice.wait_for_timeout(3000)
        left_at = _progress_seen(alice)
        assert left_at >= (0, 1)
        _goto(alice, "Dataset", "Rating histogram", 60)
        _goto(alice, "Rating matrix", "A window of actual cells", 60)
        alice.wait_for_timeout(3000)
        _goto(alice, "Train", "Results are cached", 60)
        alice.get_by_text(EPOCH).first.wait_for(timeout=60_000)
        alice.wait_for_timeout(1500)
        back_at = _progress_seen(alice)
        assert back_at > left_at, (left_at, back_at)
        alice.screenshot(path=str(OUTPUT / "train-after-coming-back.png"), full_page=True)

        # 3. another browser session sees the same job in its panel and stops it (a run that ends
        # with its metrics on the page that started it, after leaving, is the teacher's journey)
        bob = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        bob.goto(url)
        bob.get_by_text(LANDING).first.wait_for(timeout=90_000)
        panel = bob.locator('[data-testid="stSidebar"]')
        panel.get_by_text("mf · ml-latest-small").first.wait_for(timeout=10_000)
        assert panel.get_by_role("button", name="Stop").count() == 1
        panel.get_by_role("button", name="Stop").first.click()
        alice.get_by_text("was stopped; nothing was saved").first.wait_for(timeout=60_000)
        alice.screenshot(path=str(OUTPUT / "train-stopped-from-another-session.png"), full_page=True)
        assert alice.get_by_role("button", name="Start training").is_enabled()
        assert not alice.get_by_text("Traceback").count()
        assert len(ArtifactStore(artifacts / "models").entries()) == 2  # recommender-net and its stand-in only
        log = (tmp_path / "server.log").read_text()
        assert "training stopped: mf" in log and "model trained: mf" not in log


def test_the_picked_dataset_survives_a_page_switch_as_a_job_ends(browser, movielens_dir, tmp_path):
    """Another session's job ends while a person opens their first pages: the sidebar's dataset
    picker, drawn afresh then, showed its first option (mini) and the next run took it."""
    env = {"RECSYS_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "RECSYS_DATA_DIR": str(movielens_dir)}
    with serve(env) as (url, _, _):
        alice = browser.new_page(viewport={"width": 1400, "height": 1000})
        alice.goto(url)
        alice.get_by_text(LANDING).first.wait_for(timeout=90_000)
        _goto(alice, "Train", "Results are cached", 60)
        alice.locator('[data-testid="stSelectbox"]', has_text="Model").first.click()
        alice.keyboard.type("biased-mf")
        alice.get_by_role("option", name="biased-mf", exact=True).click()
        alice.get_by_role("button", name="Start training").click()
        alice.get_by_text(EPOCH).first.wait_for(timeout=120_000)
        alice.close()  # the job goes on
        bob = browser.new_page(viewport={"width": 1400, "height": 1000})
        bob.goto(url)
        bob.get_by_text(LANDING).first.wait_for(timeout=90_000)
        _goto(bob, "Dataset", "Rating histogram", 60)
        bob.get_by_text("done in").first.wait_for(timeout=120_000)
        _goto(bob, "Rating matrix", "A window of actual cells", 60)
        assert bob.get_by_role("combobox", name="Dataset").input_value() == "ml-latest-small"


def test_a_server_killed_during_a_job_leaves_nothing_behind(browser, movielens_dir, tmp_path):
    """SIGKILL while a job trains: no artifact, no staging folder kept, and the next server shows
    no job running and offers to start the training again."""
    artifacts = tmp_path / "artifacts"
    env = {"RECSYS_ARTIFACTS_DIR": str(artifacts), "RECSYS_DATA_DIR": str(movielens_dir)}
    with serve(env) as (url, _, pid):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text(LANDING).first.wait_for(timeout=90_000)
        _goto(page, "Train", "Results are cached", 60)
        _choose_long_mf(page)
        page.get_by_role("button", name="Start training").click()
        page.get_by_text(EPOCH).first.wait_for(timeout=120_000)
        os.kill(pid, signal.SIGKILL)
        page.close()
    store = ArtifactStore(artifacts / "models")
    assert store.entries().empty
    with serve(env) as (url, _, _):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text("No training is running").first.wait_for(timeout=90_000)
        _goto(page, "Train", "Results are cached", 60)
        _choose_long_mf(page)
        assert page.get_by_role("button", name="Start training").is_enabled()
        assert not page.get_by_text(EPOCH).count()
    assert not list((artifacts / "models").glob("[!.]*")) and store.entries().empty


def test_an_upload_leaves_nothing_behind_when_its_session_ends(browser, movielens_dir, tmp_path):
    """Upload a file, get its top-10 (a private job another session never sees), close the tab:
    the session's scratch folder goes, the shared store never held anything of it, and the
    server log never names the file."""
    artifacts = tmp_path / "artifacts"
    ratings = tmp_path / "my-private-ratings.csv"
    ratings.write_text("\n".join((movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:8001]))
    env = {"RECSYS_ARTIFACTS_DIR": str(artifacts), "RECSYS_DATA_DIR": str(movielens_dir),
           "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2"}
    log = tmp_path / "server.log"
    with serve(env, log=log) as (url, _, _):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.get_by_text(LANDING).first.wait_for(timeout=90_000)
        _goto(page, "Dataset", "Rating histogram", 60)
        page.get_by_text("Upload your own ratings").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(ratings))
        page.get_by_text("Loaded 8,000 ratings").first.wait_for(timeout=60_000)
        _goto(page, "Recommendations", "Recommendations", 30)
        other = browser.new_context().new_page()
        other.goto(url)
        other.get_by_text(LANDING).first.wait_for(timeout=90_000)
        page.get_by_text("Top-10 by").first.wait_for(timeout=240_000)
        other.get_by_text("No training is running").first.wait_for(timeout=10_000)  # the upload's job is not listed
        assert not other.get_by_text("uploaded").count()
        scratch = [p for p in (artifacts / "private").iterdir()]
        assert len(scratch) == 1 and list((scratch[0] / "models").iterdir())
        context.close()
        deadline = time.time() + 90
        while scratch[0].exists() and time.time() < deadline:
            time.sleep(1)
            other.reload()  # any activity lets the server run its session clean-up
        assert not scratch[0].exists()
        assert not (artifacts / "models").exists() or not list((artifacts / "models").glob("[!.]*"))
    assert "my-private-ratings" not in log.read_text()
