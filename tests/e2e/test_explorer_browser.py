"""The latent map in a real headless Chromium: a click on a point picks that movie (its
neighbours change), and a title search picks the first match."""
from __future__ import annotations

import re

import pytest

from bench.dashboard_driver import FIND_MAP_POINT, PAGES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def factors_page(server):
    """One browser page on Latent factors for the module's tests."""
    browser, url = server
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(url)
    page.get_by_text(PAGES[0][1]).first.wait_for(timeout=90_000)  # the app is up
    page.get_by_role("link", name="Latent factors").first.click()
    page.get_by_text("Nearest to").first.wait_for(timeout=180_000)
    page.wait_for_timeout(1500)  # the map finishes drawing
    yield page
    page.close()


def _nearest(page) -> str:
    text = page.get_by_text(re.compile(r"^Nearest to ")).first.inner_text()
    return text.removeprefix("Nearest to ").strip()


def test_clicking_a_point_picks_that_movie(factors_page):
    page = factors_page
    before = _nearest(page)
    point = page.evaluate(FIND_MAP_POINT, ["movie"])
    assert point["label"] != before
    page.mouse.click(point["x"], point["y"])
    page.get_by_text(f"Nearest to {point['label']}").first.wait_for(timeout=60_000)
    assert _nearest(page) == point["label"]
    assert page.get_by_text("Traceback").count() == 0


def test_searching_a_title_picks_the_first_match(factors_page):
    page = factors_page
    box = page.get_by_label("Find a title")
    box.fill("toy story")
    box.press("Enter")
    page.get_by_text(re.compile(r"title\(s\) match “toy story”")).first.wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"^Nearest to Toy Story")).first.wait_for(timeout=60_000)
    assert _nearest(page).startswith("Toy Story")
