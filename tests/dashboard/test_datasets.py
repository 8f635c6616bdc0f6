"""The picker's pure pieces: labels and the status table."""
import pytest

from dashboard.datasets import picker_label, status_table
from recsys.data.sources import DatasetStatus


def _status(name, state, synthetic=False, size=250.0):
    return DatasetStatus(name, f"{name} description", state, "detail", size, synthetic)


def test_labels_say_what_opening_a_set_involves():
    assert picker_label(_status("ml-latest-small", "local")) == "ml-latest-small"
    assert picker_label(_status("ml-25m", "download")) == "ml-25m · download 250 MB"
    assert picker_label(_status("synthetic-25m", "synthetic", synthetic=True)) == "synthetic-25m · synthetic"


def test_status_table_has_a_row_per_set_and_labels_synthetic_ones():
    table = status_table([_status("mini", "embedded", size=0), _status("ml-25m", "download"),
                          _status("synthetic-25m", "synthetic", synthetic=True)])
    assert table["dataset"].tolist() == ["mini", "ml-25m", "synthetic-25m"]
    assert table["status"].tolist() == ["built in", "not here yet: download", "SYNTHETIC, generated here"]
    assert table["zip size (MB)"].isna().tolist() == [True, False, True]


def test_uploads_are_told_apart_and_the_latest_of_each_kind_counts():
    from dashboard.datasets import split_uploads
    from recsys.errors import DataError

    files = [("old.csv", b"1"), ("u.item", b"2"), ("ratings.csv", b"3"), ("movies.csv", b"4")]
    assert split_uploads(files) == (("ratings.csv", b"3"), ("movies.csv", b"4"))
    assert split_uploads([("u.data", b"1")]) == (("u.data", b"1"), None)
    with pytest.raises(DataError, match="add the ratings file too"):
        split_uploads([("movies.dat", b"1")])


def test_the_server_starts_with_the_pages_imports_and_the_default_dataset_warm(movielens_dir):
    """`make run` starts `python -m dashboard.serve`: the first visitor's first page does not wait
    for the libraries, the core or the default dataset's first read."""
    import sys

    from dashboard import datasets, serve

    assert serve.DEFAULT_DATASET == datasets.DEFAULT
    assert not [m for m in serve.WARM if m.startswith("dashboard")], "Streamlit caches belong to the running server"
    assert serve.warm() >= 0 and all(module in sys.modules for module in serve.WARM)
