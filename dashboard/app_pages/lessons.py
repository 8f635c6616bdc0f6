"""Lessons: matrix factorisation one idea at a time on real data, each with a few sentences, one
control, one figure and a "what to notice" line, and a handout to take away. The models are
trained once per server (jobs with progress the first time) and kept in the artifact store; a
student's own ratings stay in their session."""
from typing import Callable

import numpy as np
import streamlit as st

from dashboard import datasets, handouts, lesson_views, services
from dashboard.lesson_views import PENALTIES, TITLES, UNREGULARISED, Lesson
from recsys.data.split import Split
from recsys.errors import RecsysError
from recsys.explain import lessons

MODEL = "als"
SPLIT = Split()
NOT_SEEN = "not seen"
STARS = [NOT_SEEN] + [x / 2 for x in range(1, 11)]
YOU_KEY = "lesson_you"  # (items, ratings) of this session's student, never stored anywhere else


@st.cache_resource(show_spinner=False, max_entries=16)
def _parts(fingerprint: str, _dataset):
    return SPLIT.apply(_dataset)


@st.cache_resource(show_spinner="Choosing movies that spread over the map…", max_entries=16)
def _to_rate(model_key: str, _dataset, _model) -> np.ndarray:
    return lessons.movies_to_rate(_dataset, _model)


@st.cache_resource(show_spinner=False, max_entries=16)
def _directions(model_key: str, _dataset, _model) -> lessons.Directions:
    return lessons.directions(_dataset, _model)


@st.cache_resource(show_spinner="Rebuilding 100 people from their first ratings…", max_entries=16)
def _cold(model_key: str, _dataset, _model) -> lessons.ColdStart:
    train, test = _parts(_dataset.fingerprint, _dataset)
    return lessons.cold_start(_dataset, train, test, _model)


@st.cache_resource(show_spinner=False, max_entries=512)
def _shared(keys: tuple, _build: Callable[[], Lesson]) -> Lesson:
    """A lesson as every session with the same models and control value sees it, built once per
    server (a class clicks the same lessons; only lesson 1 is each student's own)."""
    return _build()


def _model(dataset, overrides: dict | None = None):
    """The lesson's als model (trained as a job the first time, with its progress; None meanwhile)."""
    return services.request_model(dataset, MODEL, SPLIT, overrides)


def _you_controls(dataset, result) -> tuple[np.ndarray, np.ndarray | None]:
    items = _to_rate(result.key, dataset, result.model)
    with st.form("you_form"):
        st.markdown("**Rate what you have seen** (half stars; leave the rest at “not seen”)")
        cols = st.columns(2)
        for n, (item, title) in enumerate(zip(items, dataset.titles(items))):
            cols[n % 2].select_slider(title, STARS, value=NOT_SEEN, key=f"you_{int(item)}")
        placed = st.form_submit_button("Place me on the map", type="primary")
    if placed:
        rated = [(int(i), float(st.session_state[f"you_{int(i)}"])) for i in items
                 if st.session_state.get(f"you_{int(i)}", NOT_SEEN) != NOT_SEEN]
        st.session_state[YOU_KEY] = (np.array([i for i, _ in rated], dtype=np.int64), np.array([r for _, r in rated]))
        if not rated:
            st.warning("Rate at least one movie to land on the map.")
    chosen = st.session_state.get(YOU_KEY)
    if chosen is None or not len(chosen[0]):
        return items, None
    return chosen


def _lesson(key: str, dataset, result) -> Lesson | None:
    """The chosen lesson with its control drawn; None while a model it needs trains."""
    model = result.model
    if key == "you":
        items, ratings = _you_controls(dataset, result)
        return lesson_views.you(dataset, model, items, ratings)
    if key == "alternate":
        on = st.radio("Alternate on", ["the mini 4 x 5 example", dataset.name], horizontal=True, key="lesson_alt_on")
        return _shared(("alternate", result.key, on), lambda: lesson_views.alternate(dataset, model, on != dataset.name))
    if key == "directions":
        found = _directions(result.key, dataset, model)
        direction = st.radio("Direction", list(range(1, len(found.explained) + 1)), horizontal=True, key="lesson_dir")
        column = found.points[f"d{direction}"]
        low, high = float(column.min()), float(column.max())
        position = st.slider("Slide the point along it", round(low, 2), round(high, 2), round(high * 0.6, 2),
                             step=round((high - low) / 40, 3) or 0.01, key=f"lesson_pos_{direction}")
        return _shared(("directions", result.key, direction, position),
                       lambda: lesson_views.directions(dataset, found, direction, position))
    if key == "biases-first":
        minimum = st.slider("Minimum ratings for the table", 10, 200, 50, key="lesson_bias_min")
        train, test = _parts(dataset.fingerprint, dataset)
        return _shared(("biases", result.key, minimum), lambda: lesson_views.biases(dataset, train, test, model, minimum))
    if key == "regularisation":
        penalty = st.select_slider("Penalty of the regularised model", sorted(PENALTIES), value=PENALTIES[0],
                                   key="lesson_penalty")
        without = _model(dataset, UNREGULARISED)
        with_penalty = result if penalty == PENALTIES[0] else _model(dataset, {"reg": penalty})
        if without is None or with_penalty is None:
            return None
        return _shared(("regularisation", without.key, with_penalty.key, penalty),
                       lambda: lesson_views.regularisation(dataset, without.model, with_penalty.model, penalty))
    if key == "similarity":
        counts = np.bincount(dataset.ratings.items, minlength=dataset.n_items)
        popular = np.argsort(-counts, kind="stable")[:300]
        item = st.selectbox("Movie", popular, format_func=lambda i: dataset.titles([i])[0], key="lesson_movie")
        return _shared(("similarity", result.key, int(item)), lambda: lesson_views.similarity(dataset, model, int(item)))
    size = st.radio("One person's top-10 after", list(lessons.COLD_SIZES), horizontal=True, key="lesson_cold_size",
                    format_func=lambda n: f"{n} rating{'s' if n > 1 else ''}")
    return _shared(("cold", result.key, size), lambda: lesson_views.cold(_cold(result.key, dataset, model), size))


def _show(lesson: Lesson) -> None:
    for figure in lesson.figures:
        st.plotly_chart(figure)
    for caption, frame in lesson.tables:
        st.markdown(f"**{caption}**")
        st.dataframe(frame, hide_index=True)
    st.info(f"**What to notice.** {lesson.notice}", icon=":material/visibility:")


def _every_lesson(dataset, result) -> list[Lesson] | None:
    """All seven with their controls as they start (lesson 1 with this session's ratings, if any)."""
    without = services.cached_result(dataset, MODEL, SPLIT, UNREGULARISED)
    if without is None:
        return None
    model, train_test = result.model, _parts(dataset.fingerprint, dataset)
    found = _directions(result.key, dataset, model)
    you = st.session_state.get(YOU_KEY) or (_to_rate(result.key, dataset, model), None)
    first = int(np.argmax(np.bincount(dataset.ratings.items, minlength=dataset.n_items)))
    return [lesson_views.you(dataset, model, *you), lesson_views.alternate(dataset, model, True),
            lesson_views.directions(dataset, found, 1, float(found.points["d1"].max()) * 0.6),
            lesson_views.biases(dataset, *train_test, model, 50),
            lesson_views.regularisation(dataset, without.model, model, PENALTIES[0]),
            lesson_views.similarity(dataset, model, first), lesson_views.cold(_cold(result.key, dataset, model), 10)]


def _handouts(dataset, result, lesson: Lesson) -> None:
    source = f"{dataset.name}, {SPLIT.describe()}, model {MODEL} ({result.model.description})"
    left, right = st.columns(2)
    if left.button("Make a handout of this lesson", icon=":material/description:", key="handout_one"):
        st.session_state["handout"] = (f"lesson-{lesson.key}.html",
                                       handouts.handout_html([lesson], lesson.title, source))
    if right.button("Make a handout of all seven lessons", icon=":material/library_books:", key="handout_all"):
        every = _every_lesson(dataset, result)
        if every is None:
            right.warning("Open lesson 5 first: its unregularised model is not trained yet.")
        else:
            st.session_state["handout"] = ("lessons.html", handouts.handout_html(
                every, f"Matrix factorisation in seven lessons ({dataset.name})", source))
    made = st.session_state.get("handout")
    if made is not None:
        name, text = made
        st.download_button(f"Download {name} (opens in any browser, no server or network needed)", text, name,
                           "text/html", key="handout_download", icon=":material/download:")


def main() -> None:
    st.title("Lessons")
    st.caption("Matrix factorisation one idea at a time, on real ratings. Pick a lesson; play with its control.")
    dataset = datasets.current_dataset()
    if dataset is None:
        st.info("Pick or load a dataset in the sidebar first.")
        return
    key = st.radio("Lesson", list(TITLES), format_func=TITLES.get, horizontal=True, key="lesson",
                   on_change=lambda: st.session_state.pop("handout", None))
    st.subheader(TITLES[key])
    result = _model(dataset)
    if result is None:
        return
    text = st.empty()  # the lesson's sentences go above its control
    try:
        lesson = _lesson(key, dataset, result)
    except RecsysError as error:
        st.error(str(error))
        return
    if lesson is None:
        return
    text.write(lesson.text)
    _show(lesson)
    _handouts(dataset, result, lesson)


main()
