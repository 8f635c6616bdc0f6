"""The Compare page with a model trained elsewhere (issue 36), through AppTest on real data: the
split's download, an outside model's predictions joining the comparison as a row like ours, a
broken file named by its lines, the demographic segments of ml-100k and popularity bias."""
from __future__ import annotations


import pandas as pd
from streamlit.testing.v1 import AppTest

from recsys.data import sources
from recsys.data.split import Split
from tests.conftest import REPO, finish_jobs

APP = str(REPO / "dashboard" / "app.py")


def _compare(dataset: str, models: list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if dataset != "ml-latest-small":
        at.selectbox(key="dataset").set_value(dataset).run()
    at.switch_page("app_pages/compare.py").run()
    at.multiselect(key="compare_models").set_value(models).run()
    if any(b.key == "train_missing" for b in at.button):
        at.button(key="train_missing").click().run()
    return finish_jobs(at)


def _biases_file(name: str) -> tuple[bytes, float]:
    """Predictions made outside from the exported training part alone (the mean plus movie
    biases), and their test RMSE computed here, independently of the page."""
    dataset = sources.load(name, download=False)
    train, test = Split().apply(dataset)
    frame = pd.DataFrame({"user": dataset.user_ids[train.users], "item": dataset.item_ids[train.items],
                          "rating": train.values})
    mean = frame["rating"].mean()
    movie = frame.groupby("item")["rating"].mean() - mean
    out = pd.DataFrame({"user": dataset.user_ids[test.users], "item": dataset.item_ids[test.items]})
    out["prediction"] = (mean + out["item"].map(movie).fillna(0)).clip(0.5, 5.0)
    rmse = float(((out["prediction"] - test.values) ** 2).mean() ** 0.5)
    return out.to_csv(index=False).encode(), rmse


def test_an_outside_model_joins_the_comparison_as_a_row_like_ours(movielens_dir):
    at = _compare("ml-latest-small", ["biases", "global-mean"])
    download = next(e for e in at.get("download_button") if "Download this split" in e.proto.label)
    assert "holdout-0.2-s42" in download.proto.label
    data, rmse = _biases_file("ml-latest-small")
    at.session_state["external_files"] = {"outside-means": data}  # as the uploader keeps it
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("outside-means: 20,167 prediction rows" in s.value for s in at.success)
    table = at.dataframe[0].value.set_index("model")
    assert set(table.index) == {"biases", "global-mean", "outside-means"}
    assert table.at["outside-means", "NDCG@10"] == "—"  # predictions only: no lists, no top-10 numbers
    assert table.at["outside-means", "RMSE"].startswith(f"{rmse:.4f} (")  # the same RMSE as computed outside
    sentences = [m.value for m in at.markdown if "outside-means" in m.value and "RMSE" in m.value]
    assert sentences  # paired against ours
    # a broken file is refused with its lines named, and the rest of the page goes on
    at.session_state["external_files"] = {"broken": b"user,item,prediction\n1,1,4.0\n999999,1,3\n"}
    at.run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "broken was not taken" in message and "line 3" in message and "training ratings" in message
    assert set(at.dataframe[0].value["model"]) == {"biases", "global-mean"}


def test_ml100k_is_segmented_by_age_gender_and_occupation(movielens_dir):
    at = _compare("ml-100k", ["biases", "global-mean"])
    kinds = at.radio(key="compare_segment").options
    assert {"age", "gender", "occupation"} <= set(kinds)
    at.radio(key="compare_segment").set_value("gender").run()
    assert not at.exception
    groups = next(d.value for d in at.dataframe if "mean change (95% interval)" in d.value.columns)
    assert {"age", "gender", "occupation"} == set(groups["kind"]) and groups["users"].sum() > 0
    assert not any("has no demographics" in c.value for c in at.caption)
