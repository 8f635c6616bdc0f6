"""The latent map as an explorer, through AppTest on real ml-latest-small: search, a click and a
lasso (as the chart's selection events), colour by, 3-D, users on the map, the users tab, export."""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from recsys.explain import explore
from tests.conftest import REPO, finish_jobs

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture()
def at(movielens_dir) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    app.run()
    app.switch_page("app_pages/factors.py").run()
    finish_jobs(app)
    assert not app.exception, [e.value for e in app.exception]
    return app


def _traces(at, key="movie_map") -> list[dict]:
    """The chart's traces as sent to the browser (numeric arrays decoded from plotly's base64 form)."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id)
    traces = json.loads(chart.proto.spec)["data"]
    for trace in traces:
        for axis in ("x", "y", "z"):
            value = trace.get(axis)
            if isinstance(value, dict) and "bdata" in value:
                trace[axis] = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return traces


def _nearest_title(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Nearest to "))[len("**Nearest to "):-2]


def test_search_highlights_the_matches_and_picks_the_first(at, ml_small):
    at.text_input(key="factors_search").set_value("star wars").run()
    assert not at.exception
    assert any("title(s) match “star wars”" in c.value for c in at.caption)
    assert "Star Wars" in _nearest_title(at)
    traces = {t.get("name"): t for t in _traces(at)}
    assert len(traces["search matches"]["x"]) >= 2


def test_a_click_picks_a_movie_and_a_lasso_lists_the_selection(at, ml_small):
    matrix = ml_small.item_index(2571)  # The Matrix (1999)
    at.session_state["movie_map"] = {"selection": {"points": [{"customdata": [matrix]}], "box": [], "lasso": [],
                                                   "point_indices": [0]}}
    at.run()
    assert not at.exception and _nearest_title(at) == "Matrix, The (1999)"
    assert {m.label: m.value for m in at.metric}["Ratings"] == "278"
    chosen = [ml_small.item_index(i) for i in (1, 260, 1196, 2571, 318)]
    at.session_state["movie_map"] = {"selection": {"points": [{"customdata": [i]} for i in chosen], "box": [],
                                                   "lasso": [{"x": [0, 1, 1], "y": [0, 0, 1]}], "point_indices": []}}
    at.run()
    assert any(h.value.startswith("The selection: 5 movies") for h in at.subheader)
    table = next(d.value for d in at.dataframe if "mean_rating" in d.value.columns and len(d.value) == 5)
    assert set(table["title"]) >= {"Matrix, The (1999)", "Toy Story (1995)"}
    at.toggle(key="only_selection").set_value(True).run()
    assert not at.exception
    assert sum(len(t["x"]) for t in _traces(at) if t.get("name") not in
               ("nearest neighbours", "picked movie", "search matches")) == 5
    # the selection and the picked movie survive a page change
    at.switch_page("app_pages/dataset.py").run()
    at.switch_page("app_pages/factors.py").run()
    assert _nearest_title(at) == "Matrix, The (1999)" and any("The selection: 5" in h.value for h in at.subheader)


def test_colour_by_every_property_and_3d(at):
    for choice in ("one genre against the rest", "mean rating", "popularity", "release year", "primary genre"):
        at.selectbox(key="factors_colour").set_value(choice).run()
        assert not at.exception, choice
    genre_traces = [t for t in _traces(at) if t.get("legendgroup")]
    colours = [t["marker"]["color"] for t in genre_traces]
    assert len(colours) == len(set(colours)) >= 15  # every genre its own colour
    at.radio(key="factors_dims").set_value(3).run()
    assert not at.exception
    assert {t["type"] for t in _traces(at)} == {"scatter3d"}


def test_a_user_and_you_on_the_map(at, ml_small):
    at.text_input(key="map_user").set_value("1").run()
    assert not at.exception
    assert any(c.value.startswith("Drawn: user 1's 10 favourites (squares: rated 4 or more) and top-10 (triangles); "
                                  "the arrow")
               for c in at.caption)
    traces = {t.get("name"): t for t in _traces(at)}
    assert {"user's favourites", "user's top-10", "user's direction"} <= set(traces)
    # all 20 are drawn, also those below the map's minimum number of ratings
    assert len(traces["user's favourites"]["x"]) == 10 and len(traces["user's top-10"]["x"]) == 10
    at.text_input(key="map_user").set_value("you").run()
    assert any("Rate a few movies on the Recommendations page first" in i.value for i in at.info)
    at.text_input(key="map_user").set_value("999999").run()
    assert any("unknown user id '999999'" in w.value for w in at.warning)


def test_clicking_a_user_links_to_their_recommendations(at, ml_small):
    at.session_state["user_map"] = {"selection": {"points": [{"customdata": [7]}], "box": [], "lasso": [],
                                                  "point_indices": [0]}}
    at.run()
    assert not at.exception
    assert any("User 7 is drawn on the movie map" in s.value for s in at.success)
    at.switch_page("app_pages/recommend.py").run()
    finish_jobs(at)
    assert at.selectbox(key="user").value == 7


def test_export_offers_the_projector_files(at):
    labels = {b.label for b in at.get("download_button")}
    assert {"movie vectors.tsv", "movie metadata.tsv", "user vectors.tsv", "user metadata.tsv"} <= labels


def test_selection_events_read_as_items():
    assert explore.selection_items(None) == ([], False)
    event = {"points": [{"customdata": [4]}, {"customdata": [4]}, {"customdata": 9}, {"x": 1}], "box": [{}], "lasso": []}
    assert explore.selection_items(event) == ([4, 9], True)
    # what Chromium sends for a point of a px map with hover data: the customdata row as a dict
    clicked = {"points": [{"customdata": {"0": 3, "1": 39, "2": 2.43}, "hovertext": "user 3"}], "box": [], "lasso": []}
    assert explore.selection_items(clicked) == ([3], False)
