"""The Lessons page through AppTest on real ml-latest-small: every lesson renders its words, control,
figure and "what to notice"; a student's ratings place them and stay in their session; handouts."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.lesson_views import TITLES
from tests.conftest import REPO, finish_jobs

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def lessons_app(movielens_dir) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/lessons.py").run()
    finish_jobs(at)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _pick(at: AppTest, key: str) -> AppTest:
    at.radio(key="lesson").set_value(key).run()
    finish_jobs(at)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _notices(at: AppTest) -> list[str]:
    return [i.value for i in at.info if i.value.startswith("**What to notice.**")]


@pytest.mark.parametrize("key", list(TITLES))
def test_every_lesson_renders_its_words_figure_and_what_to_notice(lessons_app, key):
    at = _pick(lessons_app, key)
    assert at.subheader[0].value == TITLES[key]
    assert len(at.get("plotly_chart")) >= 1
    assert len(_notices(at)) == 1
    assert not at.error, [e.value for e in at.error]
    assert "None" not in " ".join(m.value for m in at.markdown)


def test_a_student_lands_on_the_map_and_gets_a_top_10_from_their_own_ratings(lessons_app):
    at = _pick(lessons_app, "you")
    sliders = [s for s in at.select_slider if s.key.startswith("you_")]
    assert len(sliders) == 10
    for n, slider in enumerate(sliders):
        slider.set_value(5.0 if n < 5 else 1.0)
    submit = [b for b in at.button if b.label == "Place me on the map"]
    submit[0].click().run()
    assert not at.exception
    you = at.session_state["lesson_you"]
    assert len(you[0]) == 10 and sorted(you[1]) == [1.0] * 5 + [5.0] * 5
    tables = [d.value for d in at.dataframe]
    assert any(len(t) == 10 and "title" in t.columns for t in tables)


def test_a_handout_of_one_lesson_and_of_all_seven(lessons_app):
    at = _pick(lessons_app, "regularisation")  # trains the unregularised model the whole set needs
    at.button(key="handout_one").click().run()
    name, text = at.session_state["handout"]
    assert name == "lesson-regularisation.html" and text.count("<h2>") == 1 and "plotly" in text.lower()
    at.button(key="handout_all").click().run()
    assert not at.exception
    name, text = at.session_state["handout"]
    assert name == "lessons.html" and text.count("<h2>") == 7
    assert all(title in text for title in TITLES.values())
