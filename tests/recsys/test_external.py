"""Models trained elsewhere: our split out (train.csv, test.csv, manifest.json), an outside model's
predictions or lists back in, checked against the split, and scored exactly like ours."""
from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from recsys.cli.parser import main as cli
from recsys.data.split import Split
from recsys.data.split_export import export_split
from recsys.errors import ConfigError, DataError
from recsys.evaluation.compare import comparison
from recsys.evaluation.evaluate import top_k_lists
from recsys.evaluation.external import external_model, read_external
from recsys.models import make_model


@pytest.fixture(scope="module")
def exported(ml_small, tmp_path_factory):
    folder = tmp_path_factory.mktemp("p2")
    manifest = export_split(ml_small, Split(), folder)
    return folder, manifest


def _outside_biases(folder) -> tuple[pd.DataFrame, float]:
    """An outside model made from train.csv alone (damped biases in pandas) and its test RMSE."""
    train, test = pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")
    mean = train["rating"].mean()
    movie = train.groupby("item")["rating"].agg(lambda r: (r - mean).sum() / (len(r) + 10))
    rest = train["rating"] - mean - train["item"].map(movie)
    user = rest.groupby(train["user"]).agg(lambda r: r.sum() / (len(r) + 15))
    predicted = (mean + test["item"].map(movie).fillna(0) + test["user"].map(user).fillna(0)).clip(0.5, 5.0)
    rmse = float(np.sqrt(((predicted - test["rating"]) ** 2).mean()))
    return test[["user", "item"]].assign(prediction=predicted), rmse


def test_the_export_is_the_split_with_its_manifest(ml_small, exported):
    folder, manifest = exported
    train, test = Split().apply(ml_small)
    written = {name: pd.read_csv(folder / name) for name in ("train.csv", "test.csv")}
    assert len(written["train.csv"]) == len(train) == manifest["rows"]["train"] == 80_669
    assert len(written["test.csv"]) == len(test) == manifest["rows"]["test"] == 20_167
    assert list(written["test.csv"].columns) == ["user", "item", "rating", "timestamp"]
    assert (written["test.csv"]["user"].to_numpy() == ml_small.user_ids[test.users]).all()
    assert (written["test.csv"]["rating"].to_numpy() == test.values).all()
    for name in ("train.csv", "test.csv"):
        assert manifest["sha256"][name] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert manifest["dataset_checksum"] == ml_small.fingerprint and manifest["split"]["seed"] == 42
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "test.csv", "train.csv"]  # no leftovers
    with pytest.raises(ConfigError):
        export_split(ml_small, Split("full"), folder / "full")


def test_outside_predictions_round_trip_through_the_command_line(exported, capsys, tmp_path):
    folder, _ = exported
    predictions, rmse = _outside_biases(folder)
    path = tmp_path / "mine.csv"
    predictions.to_csv(path, index=False)
    assert cli(["compare", "--dataset", "ml-latest-small", "--models", "global-mean", "--external", f"mine={path}",
                "--resamples", "50", "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "models.csv").set_index("model")
    assert table.at["mine", "rmse"] == pytest.approx(rmse, abs=2e-6)  # float32 predictions
    assert table.at["mine", "rmse_low"] < rmse < table.at["mine", "rmse_high"]
    assert np.isnan(table.at["mine", "ndcg"]) and np.isnan(table.at["mine", "coverage"])  # no lists given
    out = capsys.readouterr().out
    assert "20,167 prediction rows" in out and re.search(r"global-mean .*mine|mine .*global-mean", out)
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv")
    assert ((pairs["a"] == "global-mean") & (pairs["b"] == "mine") & (pairs["metric"] == "rmse")).any()


def test_outside_lists_score_exactly_as_the_same_lists_of_ours(ml_small):
    split = Split()
    train, test = split.apply(ml_small)
    ours = make_model("popular")
    ours.fit(train)
    users = np.unique(test.users)
    lists = top_k_lists(ours, train, users, 10)
    rows = [(ml_small.user_ids[u], ml_small.item_ids[i], rank + 1) for u, row in zip(users, lists)
            for rank, i in enumerate(row) if i >= 0]
    data = pd.DataFrame(rows, columns=["user", "item", "rank"]).to_csv(index=False).encode()
    result = comparison(ml_small, split, {"popular": ours, "theirs": external_model("theirs", data, ml_small, split)},
                        resamples=50)
    table = result.models.set_index("model")
    for metric in ("ndcg", "precision", "recall", "coverage", "arp", "poprsp", "popreo", "miscalibration"):
        assert table.at["theirs", metric] == pytest.approx(table.at["popular", metric]), metric
    assert np.isnan(table.at["theirs", "rmse"])


def _refusal(ml_small, frame: pd.DataFrame) -> str:
    train, test = Split().apply(ml_small)
    with pytest.raises(DataError) as error:
        read_external("bad", frame.to_csv(index=False).encode(), ml_small, train, test)
    return str(error.value)


def test_a_file_short_of_test_rows_or_with_unknown_ids_duplicates_or_training_rows_is_refused(ml_small, exported):
    folder, _ = exported
    good, _ = _outside_biases(folder)
    short = _refusal(ml_small, good.iloc[:-3])
    assert "3 of 20,167 test rows have no prediction" in short
    unknown = good.copy()
    unknown.loc[4, "user"], unknown.loc[9, "item"] = 999_999, 888_888
    message = _refusal(ml_small, unknown)
    assert "1 user ids that are not in the dataset (line 6)" in message
    assert "1 movie ids that are not in the dataset (line 11)" in message
    twice = pd.concat([good, good.iloc[[0, 1]]], ignore_index=True)
    assert f"2 (user, item) pairs given twice (lines {len(good) + 2}, {len(good) + 3})" in _refusal(ml_small, twice)
    train = pd.read_csv(folder / "train.csv").iloc[:2]
    leaked = pd.concat([good, train[["user", "item"]].assign(prediction=4.0)], ignore_index=True)
    assert "2 rows are training ratings" in _refusal(ml_small, leaked)
    assert "the columns must be" in _refusal(ml_small, good.rename(columns={"prediction": "guess"}))
    garbled = good.astype({"prediction": object})
    garbled.loc[0, "prediction"] = "four"
    assert "1 prediction values that are not numbers (line 2)" in _refusal(ml_small, garbled)
    lists = good[["user", "item"]].assign(rank=1).iloc[:50]
    assert "evaluated users have no list" in _refusal(ml_small, lists)


def test_the_pages_zip_holds_the_same_three_files(ml_small, exported):
    import io
    import zipfile

    from recsys.data.split_export import split_zip

    folder, _ = exported
    archive = zipfile.ZipFile(io.BytesIO(split_zip(ml_small, Split())))
    assert sorted(archive.namelist()) == ["manifest.json", "test.csv", "train.csv"]
    for name in archive.namelist():
        assert archive.read(name) == (folder / name).read_bytes(), name


def test_compare_help_gives_every_new_number_its_meaning(capsys):
    with pytest.raises(SystemExit):
        cli(["compare", "--help"])
    text = capsys.readouterr().out
    for phrase in ("popularity parity (PopRSP)", "popularity opportunity (PopREO)", "genre miscalibration",
                   "--external NAME=FILE", "age, gender and occupation"):
        assert phrase in text, phrase
