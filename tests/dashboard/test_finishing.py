"""Journeys of the second finishing pass (issue 33), through AppTest on real ml-latest-small:
each fails on what the pages did before and passes now."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, compare_over_folds, finish_jobs

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture()
def app(movielens_dir) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    at.switch_page("app_pages/dataset.py").run()  # the app opens on Start here; these begin with the data
    assert not at.exception
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return finish_jobs(at)


def _links(at: AppTest) -> list[dict[str, str]]:
    """Every page link's query parameters."""
    return [{k: v[0] for k, v in parse_qs(e.proto.query_string).items()} for e in at.get("page_link")]


def test_a_link_from_the_map_opens_recommendations_with_the_maps_model_and_split(app):
    at = _open(app, "factors")
    at.selectbox(key="factors_model").set_value("pure-svd").run()
    buttons = [b for b in at.button if b.label.startswith("Train pure-svd")]
    if buttons:
        buttons[0].click().run()
    finish_jobs(at)
    at.text_input(key="map_user").set_value("5").run()
    finish_jobs(at)
    link = next(p for p in _links(at) if p.get("user") == "5")
    assert link["model"] == "pure-svd" and link["split"] == "random 80/20 holdout", link
    assert link["from"] == "Latent factors" and link["dataset"] == "ml-latest-small"
    at.query_params.update(link)
    at.switch_page("app_pages/recommend.py").run()
    finish_jobs(at)
    assert at.selectbox(key="rec_model").value == "pure-svd"
    assert at.selectbox(key="rec_split").value == "random 80/20 holdout"
    assert at.selectbox(key="user").value == 5
    assert any("Opened from Latent factors: pure-svd" in i.value for i in at.info)
    assert any(s.value.startswith("Top-10 by pure-svd") for s in at.subheader)
    # a person's own pick afterwards wins over the link
    at.selectbox(key="rec_model").set_value("global-mean").run()
    assert at.selectbox(key="rec_model").value == "global-mean"


def test_folds_mode_pairs_models_over_the_folds_and_says_what_it_leaves_out(app):
    at = compare_over_folds(_open(app, "compare"), ["biases", "global-mean"])
    assert any(h.value == "Which differences hold" for h in at.subheader)
    assert any("paired t-test" in c.value for c in at.caption)
    assert any("biases beats global-mean" in m.value and "RMSE" in m.value for m in at.markdown)
    assert any("Errors by segment, whom a model helps and warm against new rows" in i.value for i in at.info)


def test_a_model_that_cannot_train_here_is_offered_with_the_reason_never_queued(app):
    at = _open(app, "compare")
    at.multiselect(key="compare_models").set_value(["biases", "nmf"]).run()
    finish_jobs(at)
    said = [w.value for w in at.warning if w.value.startswith("nmf cannot train on ml-latest-small")]
    assert said and "max_cells" in said[0], [w.value for w in at.warning]
    assert not any("not trained yet: " in i.value and "nmf" in i.value for i in at.info)
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_model").set_value("nmf").run()
    assert any("nmf cannot train on ml-latest-small" in w.value for w in at.warning)
    assert at.button(key="start_training").disabled


def test_a_failed_job_belongs_to_the_session_that_ran_it(app, monkeypatch, tmp_path):
    from dashboard import datasets, resources
    from recsys.data.split import Split
    from recsys.errors import ConfigError
    from recsys.work import jobs

    def broken(*args, **kwargs):
        raise ConfigError("the disk ate it")
    monkeypatch.setattr(jobs, "train_plan", broken)
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    resources.reset_models()
    try:
        dataset = datasets.load_dataset("ml-latest-small")
        view = resources.job_runner().submit(dataset, "biases", None, Split(), label="biases", owner="another session")
        assert resources.job_runner().wait(view.key, 60).state == "failed"
        at = _open(app, "compare")
        at.multiselect(key="compare_models").set_value(["biases"]).run()
        assert not any("the disk ate it" in c.value for c in at.sidebar.caption)
        assert not any("the disk ate it" in e.value for e in at.error)
        assert any(b.key == "train_missing" for b in at.button)  # offered to this session afresh
    finally:
        resources.reset_models()


def test_an_upload_reports_every_problem_in_one_round_and_reads_u_data_in_whole_stars(app, movielens_dir):
    at = _open(app, "dataset")
    rows = ["userId,movieId,rating"] + [f"{u},{i},4" for u in range(1, 5) for i in range(1, 6)]
    rows[3] = "1,3,4,extra,fields"   # line 4: too many fields
    rows[6] = "2,1,x"                # line 7: not a number
    rows[8] = "1,2,5"                # line 9: repeats line 3's (1, 2)
    at.file_uploader(key="upload_file").set_value(("mine.csv", "\n".join(rows).encode(), "text/csv")).run()
    error = next(e.value for e in at.error if "mine.csv was not loaded" in e.value)
    lines = error.split("\n")
    assert "2 problems" in error and "line 4 has 5 fields" in error and "line 7: rating 'x'" in error
    assert error.index("line 4 has") < error.index("line 7:")  # the line's shape first
    assert "1 line repeats an earlier (user, movie) pair (line 9)" in error, lines
    # a new file: only it is shown, and ml-100k's u.data reads in whole stars, saying so
    u_data = (movielens_dir / "ml-100k" / "u.data").read_bytes().splitlines()[:3000]
    assert [u.key for u in at.get("file_uploader")] == ["upload_file_1"], "the uploader was emptied"
    at.file_uploader(key="upload_file_1").set_value(("u.data", b"\n".join(u_data), "text/plain")).run()
    assert not at.exception
    loaded = next(s.value for s in at.success if "Loaded 3,000 ratings from u.data" in s.value)
    assert "1-5 in steps of 1 (every rating is a whole number from 1 to 5)" in loaded
    assert not any("mine.csv" in e.value for e in at.error)
    assert [u.key for u in at.get("file_uploader")] == ["upload_file_2"]


def test_a_model_without_a_map_says_so_and_offers_one_that_has_it(app):
    at = _open(app, "train")
    at.selectbox(key="train_model").set_value("blend").run()
    said = [c.value for c in at.caption if "blend has no latent map and no learning animation" in c.value]
    assert said, [c.value for c in at.caption]
    at.button(key="train_instead").click().run()
    assert at.selectbox(key="train_model").value == "bayes-fm"
    assert not any(b.key == "train_instead" for b in at.button)
    at.selectbox(key="train_model").set_value("pure-svd").run()
    assert any("pure-svd has no learning animation" in c.value for c in at.caption)
    at.switch_page("app_pages/factors.py").run()
    assert any(c.value.startswith("Not on the map") and "blend" in c.value and "deep-mf" in c.value
               for c in at.caption)


def test_compare_names_its_columns_for_readers(app):
    at = _open(app, "compare")
    at.multiselect(key="compare_models").set_value(["biases", "global-mean"]).run()
    at.selectbox(key="compare_split").set_value(next(o for o in at.selectbox(key="compare_split").options
                                                     if o.startswith("time"))).run()
    if any(b.key == "train_missing" for b in at.button):
        at.button(key="train_missing").click().run()
    finish_jobs(at)
    headers = [set(d.value.columns) for d in at.dataframe]
    assert any({"average popularity (ARP)", "long-tail share (APLT)"} <= h for h in headers), headers
    assert any({"warm rows", "RMSE, new users"} <= h for h in headers), headers
    assert not any(h & {"arp", "aplt", "n_warm", "rmse_new_user"} for h in headers)


def test_the_matrix_page_speaks_of_rank_only_in_rank_mode(app):
    at = _open(app, "matrix")
    assert any("densest corner" in c.value for c in at.caption)
    at.radio(key="window_mode").set_value("pick users and movies").run()
    assert any("of this window is filled" in c.value for c in at.caption)
    assert not any("densest corner" in c.value for c in at.caption)
