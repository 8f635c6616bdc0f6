"""The seven-lesson handout, built from real models on ml-latest-small, opens in Chromium with the
network off: every figure draws and stays interactive, and the file asks for nothing outside itself."""
from __future__ import annotations

import numpy as np
import pytest

from bench.dashboard_driver import CHROMIUM, CHROMIUM_ARGS
from dashboard import handouts, lesson_views
from recsys.data.split import Split, validation_split
from recsys.explain import lessons
from recsys.models import make_model
from tests.conftest import require_chromium

pytestmark = pytest.mark.browser


def _every_lesson(dataset) -> list:
    train, test = Split().apply(dataset)
    fit, valid = validation_split(train, 0.1, seed=42)
    model, free = make_model("als", iterations=4), make_model("als", iterations=4, **lesson_views.UNREGULARISED)
    model.fit(fit, valid)
    free.fit(fit, valid)
    found = lessons.directions(dataset, model)
    items = lessons.movies_to_rate(dataset, model)
    return [lesson_views.you(dataset, model, items, np.full(10, 4.0)), lesson_views.alternate(dataset, model, False),
            lesson_views.directions(dataset, found, 2, 0.3), lesson_views.biases(dataset, train, test, model, 50),
            lesson_views.regularisation(dataset, free, model, 0.1), lesson_views.similarity(dataset, model, items[0]),
            lesson_views.cold(lessons.cold_start(dataset, train, test, model, users=30), 3)]


def test_the_whole_handout_draws_offline(ml_small, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    every = _every_lesson(ml_small)
    path = tmp_path / "lessons.html"
    path.write_text(handouts.handout_html(every, "Seven lessons", "ml-latest-small"), encoding="utf-8")
    figures = sum(len(lesson.figures) for lesson in every)
    asked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("request", lambda request: asked.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}",
                               timeout=60_000)
        assert page.locator(".js-plotly-plot").count() == figures
        assert page.locator("h2").count() == 7 and page.get_by_text("What to notice").count() == 7
        page.locator(".js-plotly-plot").first.hover()  # interactive: the mode bar answers the pointer
        assert page.locator(".modebar").count() >= 1
        browser.close()
    assert all(url.startswith("file://") or url.startswith("data:") for url in asked), asked
