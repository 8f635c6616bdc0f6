"""The Lessons page in a real headless Chromium: every lesson draws its figure and its "what to
notice"; a student rates the ten movies with the keyboard, lands on the map and gets a top-10."""
from __future__ import annotations

import pytest

from dashboard.lesson_views import TITLES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lessons_page(server):
    browser, url = server
    page = browser.new_page(viewport={"width": 1500, "height": 2400})
    page.goto(url + "lessons")
    page.get_by_text("What to notice").first.wait_for(timeout=180_000)  # its model trained as a job
    yield page
    page.close()


def test_every_lesson_draws_in_the_browser(lessons_page):
    page = lessons_page
    for title in TITLES.values():
        page.get_by_text(title, exact=True).first.click()
        page.get_by_role("heading", name=title).wait_for(timeout=180_000)
        page.get_by_text("What to notice").first.wait_for(timeout=180_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", timeout=60_000)
        assert page.get_by_text("Traceback").count() == 0, title


def test_a_student_rates_with_the_keyboard_and_lands_on_the_map(lessons_page):
    page = lessons_page
    page.get_by_text(TITLES["you"], exact=True).first.click()
    page.get_by_role("button", name="Place me on the map").wait_for(timeout=60_000)
    sliders = page.get_by_role("slider")
    for n in range(10):
        sliders.nth(n).focus()
        for _ in range(10 if n % 2 else 2):  # 5 stars or 1 star
            page.keyboard.press("ArrowRight")
    page.get_by_role("button", name="Place me on the map").click()
    page.get_by_text("Your top-10").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)  # the table follows its caption
    assert page.get_by_text("Rate at least one movie").count() == 0
