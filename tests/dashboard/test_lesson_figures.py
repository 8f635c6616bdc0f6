"""The Lessons page's figures and handouts as pure functions (no Streamlit), on small frames."""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import handouts, lesson_figures as lf
from dashboard.lesson_views import Lesson


def test_you_are_a_star_among_the_people():
    people = pd.DataFrame({"user": [1, 2, 3], "x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, 1.0], "count": [20, 30, 40]})
    fig = lf.you_map(people, (0.5, 0.5))
    crowd, you = fig.data
    assert len(crowd.x) == 3 and you.marker.symbol == "star" and you.x == (0.5,) and you.text == ("you",)


def test_half_steps_draw_training_and_validation_only_where_there_is_one():
    table = pd.DataFrame({"iteration": [0, 0.5, 1.0], "solved": ["random start", "people solved", "movies solved"],
                          "train_rmse": [1.0, 0.9, 0.8], "valid_rmse": [np.nan] * 3})
    assert [t.name for t in lf.alternation_figure(table, "t").data] == ["training"]
    table["valid_rmse"] = [1.1, 1.0, 0.95]
    fig = lf.alternation_figure(table, "t")
    assert [t.name for t in fig.data] == ["training", "validation"] and list(fig.data[1].y) == [1.1, 1.0, 0.95]
    table["objective"] = [1.2, 1.0, 0.9]
    assert fig.data[-1].line.dash != "dot" and lf.alternation_figure(table, "t").data[-1].line.dash == "dot"


def test_the_direction_figure_marks_the_point_and_its_nearest_movies():
    points = pd.DataFrame({"title": list("abcd"), "d1": [2.0, -1.0, 0.5, -3.0], "d2": [0.0, 1.0, -1.0, 0.2]})
    fig = lf.direction_figure(points, 1, 2, 1.5, pd.DataFrame({"title": ["a", "c"]}))
    movies, nearest, point = fig.data
    assert list(nearest.text) == ["a", "c"] and point.x == (1.5,) and fig.layout.xaxis.title.text == "direction 1"


def test_ladder_and_cold_start_bars_print_their_values():
    ladder = pd.DataFrame({"model": ["global mean", "+ movie biases"], "rmse": [1.04, 0.97]})
    assert list(lf.ladder_figure(ladder).data[0].text) == ["1.0400", "0.9700"]
    errors = pd.DataFrame({"ratings known": ["0", "1", "10", "all"], "rmse": [0.95, 0.94, 0.9, 0.85]})
    bars = lf.cold_start_figure(errors).data[0]
    assert list(bars.x) == ["0 (movie biases)", "1", "10", "all (trained)"] and bars.text[-1] == "0.8500"


def test_curves_keep_one_colour_per_model_and_dash_validation():
    curves = pd.DataFrame({"model": ["without a penalty"] * 4 + ["with penalty 0.1"] * 4,
                           "part": ["training", "training", "validation", "validation"] * 2,
                           "iteration": [0, 1, 0, 1] * 2, "rmse": [1.0, 0.5, 1.0, 1.3, 1.0, 0.8, 1.0, 0.86]})
    traces = lf.curves_figure(curves).data
    colours = {t.name: t.line.color for t in traces}
    assert colours["without a penalty: training"] == colours["without a penalty: validation"]
    assert colours["without a penalty: training"] != colours["with penalty 0.1: training"]
    assert {t.line.dash for t in traces if t.name.endswith("validation")} == {"dash"}


def test_two_maps_side_by_side_and_length_on_a_log_axis():
    points = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, 1.0], "title": ["a", "b", "c"]})
    fig = lf.twin_maps({"without a penalty": points, "with penalty 0.1": points.assign(x=points["x"] / 10)})
    assert len(fig.data) == 2 and fig.data[0].xaxis == "x" and fig.data[1].xaxis == "x2"
    assert [a.text for a in fig.layout.annotations] == ["without a penalty", "with penalty 0.1"]
    frame = pd.DataFrame({"title": ["a", "b"], "ratings": [3, 300], "length": [0.2, 1.1]})
    fig = lf.length_figure(frame, 0.74)
    assert fig.layout.xaxis.type == "log" and "Spearman 0.74" in fig.layout.title.text
    assert list(fig.layout.xaxis.tickvals) == [1, 10, 100]


def test_a_handout_writes_plotly_once_and_every_lesson_in_order():
    people = pd.DataFrame({"user": [1, 2, 3], "x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, 1.0], "count": [1, 2, 3]})
    one = Lesson("you", "Words <one>.", "Notice one.", (lf.you_map(people, (1.0, 1.0)),),
                 (("A table", pd.DataFrame({"title": ["x & y"]})),))
    two = Lesson("cold", "Words two.", "Notice two.", (lf.you_map(people, (0.0, 0.0)),))
    text = handouts.handout_html([one, two], "Handout", "ml-latest-small")
    assert text.count("<h2>") == 2 and text.index("1. You in the matrix") < text.index("7. Cold start")
    assert "Words &lt;one&gt;." in text and "x &amp; y" in text and "What to notice" in text
    assert text.count("plotly.js v") == 1  # the library once, inline: no network needed
