"""Every page through streamlit.testing.v1.AppTest on real ml-latest-small."""
from __future__ import annotations

import dataclasses
import hashlib
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from recsys.data.split import Split
from recsys.work.catalog import DEFAULT_RATING_MODEL
from tests.conftest import REPO, compare_over_folds, finish_jobs

APP = str(REPO / "dashboard" / "app.py")
TIMEOUT = 300


@pytest.fixture()
def app(movielens_dir) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    at.switch_page("app_pages/dataset.py").run()  # the app opens on Start here; these begin with the data
    assert not at.exception
    return at


def _open(at: AppTest, page: str, settle: bool = True) -> AppTest:
    """Switch to a page; with `settle`, let any training it started finish and show the page."""
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return finish_jobs(at) if settle else at


def _train_if_offered(at: AppTest, label: str) -> None:
    """Click the page's offer to train `label` when it is not trained yet, and wait for it."""
    offers = [b for b in at.button if b.label.startswith(f"Train {label} (about")]
    if offers:
        offers[0].click().run()
    finish_jobs(at)


def _charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_the_app_opens_on_start_here(movielens_dir):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Latent Factor Explorer"
    assert {m.label: m.value for m in at.metric}["Ratings"] == "100,836"
    text = " ".join(m.value for m in at.markdown)
    assert all(who in text for who in ("Analysts", "Teachers and students", "Comparing models"))
    assert _charts(at) == 1 and len(at.dataframe) == 1  # at a glance, after the words
    assert at.dataframe[0].value["title"].iloc[0] == "Forrest Gump (1994)"


def test_dataset_page(app):
    assert app.title[0].value == "Dataset"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Ratings"] == "100,836" and metrics["Users"] == "610" and metrics["Movies"] == "9,724"
    assert _charts(app) >= 5
    assert app.slider(key="min_count").value == 50
    assert len(app.dataframe) == 3  # every dataset's status, most rated, best rated
    statuses = app.dataframe[0].value
    assert "ml-25m" in statuses["dataset"].tolist() and "SYNTHETIC, generated here" in statuses["status"].tolist()
    assert app.sidebar.selectbox(key="dataset").value == "ml-latest-small"
    assert metrics["Density"] == "1.70%"
    assert_no_missing_cells(app)


def test_bad_upload_shows_an_error_not_an_exception(app):
    app.file_uploader(key="upload_file").set_value(("mine.csv", b"userId,movieId\n1,2\n", "text/csv")).run()
    assert not app.exception
    assert any("missing required column(s) rating" in e.value for e in app.error)


def test_good_upload_becomes_a_dataset(app, movielens_dir):
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:3001]
    app.file_uploader(key="upload_file").set_value(("mine.csv", ("\n".join(lines)).encode(), "text/csv")).run()
    assert any("Loaded 3,000 ratings" in s.value for s in app.success)
    assert app.sidebar.selectbox(key="dataset").value == "uploaded file"
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Ratings"] == "3,000"


def test_rating_matrix_page(app):
    at = _open(app, "matrix")
    assert at.title[0].value == "Rating matrix"
    assert at.metric[0].value == "1.70%"  # as the Dataset page writes it
    assert _charts(at) == 2 and len(at.dataframe) == 1
    assert_no_missing_cells(at)  # empty cells are empty, not "None"
    at.radio(key="window_mode").set_value("pick users and movies").run()
    assert not at.exception and len(at.multiselect) == 2


def test_training_page_trains_a_tiny_model_and_shows_curves(app):
    at = _open(app, "train")
    assert at.selectbox(key="train_model").value == DEFAULT_RATING_MODEL
    at.selectbox(key="train_model").set_value("recommender-net").run()
    at.slider[0].set_value(8)   # factors
    at.slider[1].set_value(2)   # epochs
    at.button(key="start_training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="start_training").disabled and not at.button(key="stop_training").disabled
    assert any(c.value.startswith(("queued", "fitting", "epoch", "step 1 of 3")) for c in at.caption)  # progress
    finish_jobs(at)
    assert at.subheader[0].value == "Finished"
    assert _charts(at) >= 2 and any(h.value == "Watch it learn" for h in at.subheader)  # curves, the moving map
    assert at.multiselect(key="follow_recommender-net").value, "the most-rated movies are followed by default"
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Test RMSE"]) < 1.2
    assert any("saved in the shared artifact store" in c.value for c in at.caption)
    assert not any("/" in c.value.split("`")[1] for c in at.caption if "artifact store as" in c.value)  # no paths
    assert at.button(key="start_training").label == "Retrain" and at.button(key="stop_training").disabled
    # another session with the same settings: the model of that job, and the sliders were kept per model
    other = AppTest.from_file(APP, default_timeout=TIMEOUT)
    other.run()
    other.switch_page("app_pages/train.py").run()
    other.selectbox(key="train_model").set_value("recommender-net").run()
    assert other.slider[0].value != 8  # a fresh session has the defaults
    _open(at, "dataset")
    _open(at, "train")
    assert at.slider[0].value == 8 and at.slider[1].value == 2 and at.subheader[0].value == "Finished"


def test_training_on_the_time_split_reports_warm_and_new_rows(app):
    at = _open(app, "train")
    at.selectbox(key="train_model").set_value("biases").run()
    at.selectbox(key="train_split").set_value(next(o for o in at.selectbox(key="train_split").options
                                                    if o.startswith("time"))).run()
    at.button(key="start_training").click().run()
    finish_jobs(at)
    summary = next(c.value for c in at.caption if c.value.startswith("Test rows:"))
    assert "1,310 warm" in summary and "18,247 of new users" in summary and "610 of new movies" in summary


def test_latent_factors_page(app):
    at = _open(app, "factors")
    assert at.title[0].value == "Latent factors"
    assert _charts(at) >= 2
    assert len(at.dataframe) >= 1 and at.dataframe[0].value.shape[0] == 10  # ten neighbours


def test_recommendations_for_a_known_user_and_a_new_profile(app, ml_small):
    at = _open(app, "recommend")
    at.selectbox(key="user").set_value(1).run()
    assert not at.exception
    favourites, recs = at.dataframe[0].value, at.dataframe[1].value
    assert len(recs) == 10
    user = ml_small.user_index(1)
    seen = set(ml_small.titles(ml_small.ratings.items[ml_small.ratings.users == user]))
    assert not set(recs["title"]) & seen
    # the title, its number, then the reason: all three in view in the page's right-hand column
    numbers = {"predicted rating", "preference score"}
    assert recs.columns[0] == "title" and recs.columns[1] in numbers and "reason" in recs.columns[2:4]
    assert (recs["reason"].str.len() > 0).all() and not recs["reason"].str.startswith("because").any()
    assert favourites["rating"].max() == 5.0
    # rate a few movies yourself
    options = at.multiselect(key="my_movies").options
    at.multiselect(key="my_movies").set_value([ml_small.item_index(260), ml_small.item_index(1196)]).run()
    assert not at.exception
    mine = at.dataframe[-1].value
    assert len(mine) == 10 and not {"Star Wars: Episode IV - A New Hope (1977)"} & set(mine["title"])
    assert options


def test_recommendations_say_which_split_and_how_a_new_user_was_served(app, ml_small):
    """Default: a model fitted on every rating. On the time split, a user whose ratings all come
    after the cut is new to the model: their ratings are folded in (blend) or, for a model that
    cannot fold in (deep-mf), the fallback ranking is shown and labelled as such."""
    at = _open(app, "recommend")
    at.selectbox(key="rec_model").set_value("biases").run()
    assert not at.get("progress")  # a picked model does not start by itself: it is offered
    _train_if_offered(at, "biases")
    assert any("fitted on every rating (no test part)" in c.value for c in at.caption)
    assert any("nothing later to check" in c.value for c in at.caption)
    at.selectbox(key="rec_split").set_value(next(o for o in at.selectbox(key="rec_split").options
                                                  if o.startswith("time"))).run()
    _train_if_offered(at, "biases")  # an earlier test may have trained it on this split
    train, _ = Split("time", fraction=0.2).apply(ml_small)
    new_user = next(u for u in range(ml_small.n_users) if u not in set(train.users.tolist()))
    at.selectbox(key="user").set_value(ml_small.user_ids[new_user]).run()
    assert not at.exception
    assert any("new to it" in i.value and "folded into" in i.value for i in at.info)
    recs = at.dataframe[1].value
    rated = set(ml_small.titles(ml_small.ratings.items[ml_small.ratings.users == new_user]))
    assert len(recs) == 10 and not set(recs["title"]) & rated
    # checked against the future: this user's ratings all came after the cut
    assert any(h.value.startswith(f"Checked against what user {ml_small.user_ids[new_user]} rated later")
               for h in at.subheader)
    later = at.dataframe[2].value
    hits = {m.label: m.value for m in at.metric}["Hits in the top-10"]
    assert hits == f"{int(later['rated later'].sum())} of 10"
    assert set(later.loc[later["rated later"], "title"]) <= rated
    # a user who rated nothing after the cut: said up front, with users who did, instead of an empty check
    _, test = Split("time", fraction=0.2).apply(ml_small)
    quiet = next(u for u in range(ml_small.n_users) if u not in set(test.users.tolist()))
    at.selectbox(key="user").set_value(ml_small.user_ids[quiet]).run()
    said = next(i.value for i in at.info if "rated nothing later" in i.value)
    assert "Hits in the top-10" not in {m.label for m in at.metric}
    assert str(ml_small.user_ids[int(np.bincount(test.users).argmax())]) in said


def assert_no_missing_cells(at) -> None:
    """Streamlit paints a missing cell as "None": every table a page shows is formatted first."""
    for table in list(at.dataframe) + list(at.get("arrow_data_frame")):
        assert table.value.isna().sum().sum() == 0, table.value


def test_unknown_user_in_state_is_handled(app):
    at = _open(app, "recommend")
    assert len(at.selectbox(key="user").options) == 610


def test_mini_demo_predicts_the_blanks(app):
    at = _open(app, "mini")
    values = {m.label: float(m.value) for m in at.metric}
    assert len(values) == 2  # one pair per tab, labels repeat
    assert any("turns pink" in c.value for c in at.caption)  # why a typed cell is refused, said before it happens
    assert values["Bob / Beauty Inside"] == pytest.approx(4.5, abs=0.5)
    assert values["Carol / Love Story"] == pytest.approx(1.0, abs=0.5)
    # only the open tab (NMF) is factorised and drawn; ALS also step by step, its animation when opened
    assert len(at.metric) == 2 and _charts(at) == 3
    at.session_state["mini_method"] = "alternating least squares"
    at.run()
    assert len(at.metric) == 2 and _charts(at) == 5  # + the step and the error per step
    at.session_state["mini_animation_als"] = True
    at.run()
    assert _charts(at) == 6
    step = at.select_slider(key="mini_step_als")
    assert str(step.value) == step.options[-1], "the slider opens on the final step"
    step.set_value(0).run()
    assert any(c.value.startswith("Step 0: every person and film starts") for c in at.caption)
    assert not at.exception
    assert_no_missing_cells(at)
    at.session_state["mini_method"] = "Keras 2-factor model"
    at.run()
    assert at.button(key="mini_start_keras")  # the slow Keras fit runs only when asked


def _value(cell: str) -> float:
    """The number in front of "0.8675 (0.8601 to 0.8752)"."""
    return float(cell.split(" ")[0])


def test_compare_page_trains_missing_and_compares_with_confidence(app):
    at = _open(app, "compare")
    at.multiselect(key="compare_models").set_value(["biases", "global-mean"]).run()
    assert any("not trained yet" in i.value for i in at.info) or at.dataframe
    if len(at.button) and any(b.key == "train_missing" for b in at.button):
        at.button(key="train_missing").click().run()
        finish_jobs(at)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("model")
    assert set(table.index) == {"biases", "global-mean"}
    low, high = (float(v) for v in table.at["biases", "RMSE"].split("(")[1].rstrip(")").split(" to "))
    assert low < _value(table.at["biases", "RMSE"]) < high < _value(table.at["global-mean", "RMSE"])
    # error and top-10 bars, the forest, RMSE and NDCG by segment, users a vs b, beyond accuracy,
    # popularity bias and calibration, one user's genre mixes, row groups, curves, fit time
    assert _charts(at) == 13  # (the forest: one chart per metric)
    sentences = [m.value for m in at.markdown if "beats" in m.value or "cannot be told apart" in m.value]
    assert any("biases beats global-mean by" in s and "RMSE" in s and "after Holm" in s for s in sentences)
    beyond = at.dataframe[1].value.set_index("model")
    assert {"catalogue coverage", "Gini of exposure", "novelty (bits)", "personalisation"} <= set(beyond.columns)
    serves = at.dataframe[2].value.set_index("model")  # popularity bias and calibration, with intervals
    assert {"popularity parity (PopRSP)", "popularity opportunity (PopREO)", "genre miscalibration"} <= set(serves.columns)
    assert any("has no demographics" in c.value for c in at.caption)  # ml-latest-small has none
    groups = at.dataframe[3].value.set_index("model")  # warm and new rows with their counts
    warm, new_items, new_users = (groups.at["biases", c] for c in ("warm rows", "rows of new movies", "rows of new users"))
    assert warm + new_items + new_users == 20167 and new_users == 0 and new_items > 0
    at.radio(key="compare_segment").set_value("movie popularity").run()
    assert not at.exception
    # a ranking model has no RMSE: its cell says so (—, explained below), never "None"; most-popular is a model too
    at.multiselect(key="compare_models").set_value(["biases", "popular"]).run()
    at.button(key="train_missing").click().run()
    finish_jobs(at)
    table = at.dataframe[0].value.set_index("model")
    assert set(table.index) == {"biases", "popular"} and table.at["popular", "RMSE"] == "—"
    assert any("— under RMSE and MAE: popular rank movies" in c.value for c in at.caption)
    assert at.dataframe[1].value.set_index("model").at["popular", "Gini of exposure"] > 0.9
    assert_no_missing_cells(at)


def test_compare_page_over_folds_gives_t_intervals(app):
    at = compare_over_folds(_open(app, "compare"), ["biases", "global-mean"])
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("model")
    low, high = (float(v) for v in table.at["biases", "RMSE"].split("(")[1].rstrip(")").split(" to "))
    assert low < _value(table.at["biases", "RMSE"]) < high
    assert any("t-interval" in c.value for c in at.caption)
    assert_no_missing_cells(at)


def _wait_for_download(at, name: str, timeout: float = 60) -> None:
    from dashboard.datasets import downloads

    deadline = time.time() + timeout
    while (current := downloads().get(name)) is not None and current.active and time.time() < deadline:
        time.sleep(0.2)
    at.run()


def test_missing_data_offers_its_download_and_says_why_it_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("no network in this test")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    import streamlit as st

    st.cache_resource.clear()  # datasets loaded by earlier tests live in this process's cache
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert any("not on this server yet" in i.value and "RECSYS_DATA_DIR" in i.value for i in at.info)
    at.button(key="download_ml-latest-small").click().run()
    _wait_for_download(at, "ml-latest-small")
    said = next(e.value for e in at.error if "download of ml-latest-small failed" in e.value)
    assert "could not reach files.grouplens.org (no network in this test)" in said  # what failed, in words
    assert "unzip it and put its folder (holding ratings.csv)" in said and str(tmp_path / "empty") in said  # what to do
    assert at.button(key="download_ml-latest-small")  # offered again
    at.switch_page("app_pages/mini.py").run()
    assert not at.exception and len(at.metric) == 2
    st.cache_resource.clear()


def test_a_dataset_downloads_from_the_page_with_its_checksum_and_opens(tmp_path, monkeypatch, movielens_dir):
    """ml-100k served as GroupLens lays it out (a zip of the real files) through a stand-in for the network."""
    import urllib.request

    from recsys.data import sources
    from tests.recsys.test_sources import _opener, _real_zip

    payload = _real_zip(movielens_dir)
    spec = sources.REGISTRY["ml-100k"]
    monkeypatch.setitem(sources.REGISTRY, "ml-100k", dataclasses.replace(spec, md5=hashlib.md5(payload).hexdigest()))
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setattr(urllib.request, "urlopen", _opener(payload, hashlib.md5(payload).hexdigest()))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.selectbox(key="dataset").set_value("ml-100k").run()
    assert any("ml-100k" in i.value and "not on this server yet" in i.value for i in at.info)
    at.button(key="download_ml-100k").click().run()
    _wait_for_download(at, "ml-100k")
    assert not at.exception and not at.error
    assert at.metric[0].value == "100,000"
    assert sources.status("ml-100k").state == "downloaded"
    st.cache_resource.clear()


def test_big_user_lists_take_a_typed_id(app, monkeypatch):
    from dashboard import services

    monkeypatch.setattr(services, "USER_LIST_MAX", 100)  # ml-latest-small's 610 users count as many
    at = _open(app, "recommend")
    box = at.text_input(key="user_id_text")
    assert "610 users" in box.label
    box.set_value("7").run()
    finish_jobs(at)
    assert any(h.value.startswith("User 7's favourites") for h in at.subheader)
    at.text_input(key="user_id_text").set_value("999999").run()
    assert any("unknown user id '999999'" in e.value for e in at.error) and not at.exception


def test_page_state_survives_navigation(app):
    at = _open(app, "recommend", settle=False)
    at.selectbox(key="user").set_value(7).run()
    _open(at, "dataset", settle=False)
    _open(at, "recommend", settle=False)
    assert at.selectbox(key="user").value == 7


def test_page_reruns_leave_keras_and_the_running_jobs_alone(app, monkeypatch):
    """Streamlit resets Keras after every script run; the dashboard turns that off, because the
    reset clears TensorFlow's kernel cache under the jobs training in other threads."""
    import keras

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    _open(app, "dataset")
    _open(app, "train")
    assert not calls


def test_a_failing_job_says_why_in_the_page_and_the_panel(app, monkeypatch, tmp_path):
    from dashboard import resources
    from recsys.errors import ConfigError
    from recsys.work import jobs

    def broken(*args, **kwargs):
        raise ConfigError("the disk ate it")
    monkeypatch.setattr(jobs, "train_plan", broken)
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))  # nothing trained yet
    resources.reset_models()
    try:
        at = _open(app, "factors")
        assert any("failed: the disk ate it" in e.value for e in at.error), [e.value for e in at.error]
        assert any("failed: the disk ate it" in c.value for c in at.sidebar.caption)
        assert any(b.label == "Try again" for b in at.button)
        assert not at.get("plotly_chart")
        monkeypatch.setattr(jobs, "train_plan", __import__("recsys.work.training", fromlist=["train_plan"]).train_plan)
        at.button(key=next(b.key for b in at.button if b.label == "Try again")).click().run()
        finish_jobs(at)
        assert not at.error and at.get("plotly_chart")
    finally:
        resources.reset_models()


def test_an_upload_and_its_models_stay_private_to_the_session(movielens_dir, tmp_path, monkeypatch):
    from dashboard import resources
    from recsys.store.artifacts import ArtifactStore

    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    resources.reset_models()
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:5001]
    mine = AppTest.from_file(APP, default_timeout=TIMEOUT)
    mine.run().switch_page("app_pages/dataset.py").run()  # the app opens on Start here
    mine.file_uploader(key="upload_file").set_value(("secret-name.csv", "\n".join(lines).encode(), "text/csv")).run()
    assert any("private scratch folder" in c.value for c in mine.caption)
    mine.switch_page("app_pages/recommend.py").run()
    assert any("Training" in p.proto.text for p in mine.get("progress")) or mine.dataframe
    # (AppTest gives every instance one session id: the browser test checks another session's view)
    finish_jobs(mine)
    assert len(mine.dataframe[1].value) == 10
    assert ArtifactStore(tmp_path / "models").entries().empty  # nothing in the shared store
    (scratch,) = (tmp_path / "private").iterdir()
    assert not ArtifactStore(scratch / "models").entries().empty
    mine.switch_page("app_pages/dataset.py").run()
    mine.button(key="forget_upload").click().run()
    assert not mine.exception and not scratch.exists()
    assert mine.sidebar.selectbox(key="dataset").value == "ml-latest-small"
    resources.reset_models()


def test_mini_demo_answers_an_edit_and_resets(app):
    """An edit refactorises at once (NumPy and scikit-learn, no Keras); Reset brings the grid back."""
    at = _open(app, "mini")
    key = "mini_grid_0"
    # a cell cleared in the browser arrives as None: it is kept as an empty cell, never shown as "None"
    at.session_state[key] = {"edited_rows": {0: {"Matrix": None}, 1: {"Star Wars": "7"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Alice / Matrix" in labels and labels.count("Alice / Matrix") == 1  # the open tab only
    assert any("Bob / Star Wars" in w.value for w in at.warning)  # 7 is not a rating: read as blank, and said
    from dashboard.mini_grid import original_grid, with_edits

    kept = with_edits(original_grid(), {"edited_rows": {"0": {"Matrix": None}}})
    assert kept.at["Alice", "Matrix"] == "" and not kept.isna().any().any()
    at.button(key="mini_reset").click().run()
    assert "Alice / Matrix" not in [m.label for m in at.metric]


def test_the_blend_has_settings_and_a_model_on_little_data_is_flagged(app, movielens_dir):
    """Train offers the blend's parts; a model trained on a tiny upload carries a warning and says
    it lives with the upload, not in the shared store."""
    at = _open(app, "train")
    assert at.selectbox(key="train_model").value == "blend"
    parts = at.multiselect(key=next(m.key for m in at.multiselect if m.label.startswith("Blend parts")))
    assert set(parts.value) == {"bayes-fm", "item-knn", "autorec"}
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:301]
    _open(at, "dataset")
    at.file_uploader(key="upload_file").set_value(("tiny.csv", "\n".join(lines).encode(), "text/csv")).run()
    _open(at, "train")
    at.selectbox(key="train_model").set_value("biases").run()
    at.button(key="start_training").click().run()
    finish_jobs(at)
    assert any("Trained on very little data (300 ratings)" in w.value for w in at.warning)
    assert any("kept with this session's upload (private" in c.value for c in at.caption)
    assert not any("shared artifact store" in c.value for c in at.caption)
    _open(at, "dataset")
    at.button(key="forget_upload").click().run()  # the session's scratch space goes with it
    assert not at.exception


def test_a_first_visit_shows_a_quick_model_while_the_default_trains(movielens_dir, tmp_path, monkeypatch):
    """On a server that has trained nothing, Recommendations and Latent factors answer at once
    with the labelled stand-in (PureSVD) while their defaults train as jobs, then switch."""
    import threading

    import streamlit as st

    from recsys.models import model_class
    from recsys.work.catalog import DEFAULT_FACTOR_MODEL, DEFAULT_RANKING_MODEL, STAND_IN

    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    st.cache_resource.clear()  # a server that has trained nothing
    go = threading.Event()
    for label in (DEFAULT_RANKING_MODEL, DEFAULT_FACTOR_MODEL):  # the defaults wait until the test has looked
        cls = model_class(label)
        monkeypatch.setattr(cls, "_fit", lambda self, *a, _fit=cls._fit, **k: go.wait(120) and _fit(self, *a, **k))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/recommend.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Meanwhile: **{STAND_IN}**" in i.value for i in at.info)
    assert [h.value for h in at.subheader if h.value.startswith("Top-10 by")] == [f"Top-10 by {STAND_IN}"]
    assert len(at.dataframe[1].value) == 10
    at.switch_page("app_pages/factors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Meanwhile: **{STAND_IN}**" in i.value for i in at.info)
    assert f"Movie vectors of {STAND_IN}" in at.get("plotly_chart")[0].proto.spec
    go.set()
    finish_jobs(at)
    assert not any("Meanwhile" in i.value for i in at.info)
    assert f"Movie vectors of {DEFAULT_FACTOR_MODEL}" in at.get("plotly_chart")[0].proto.spec
    at.switch_page("app_pages/recommend.py").run()
    assert not any("Meanwhile" in i.value for i in at.info)
    assert [h.value for h in at.subheader if h.value.startswith("Top-10 by")] == [f"Top-10 by {DEFAULT_RANKING_MODEL}"]
    st.cache_resource.clear()  # the next test's server does not inherit this folder's models
