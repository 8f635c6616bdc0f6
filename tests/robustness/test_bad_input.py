"""Every malformed file of the corpus through the three doors a user has: the library, the CLI and
the dashboard's upload. Each must end in the package's own error naming the problem, and write
nothing anywhere but a temporary folder."""
from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recsys.cli import main
from recsys.data.upload import SCALES, read_ratings_file
from recsys.errors import DataError
from tests.conftest import REPO
from tests.robustness.corpus import BadInput, corpus, csv

APP = str(REPO / "dashboard" / "app.py")
CASES = corpus(["userId,movieId,rating,timestamp"], ["userId,movieId,rating,timestamp", "1,1,4.0,1"])
IDS = [case.name for case in CASES]
SCALE_LABELS = {"half-stars": "0.5-5 in half stars", "whole-stars": "1-5 whole stars"}


@pytest.fixture(scope="module")
def rows(movielens_dir) -> tuple[list[str], list[str]]:
    full = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()
    return full[:201], full


@pytest.fixture(scope="module")
def payload(rows):
    """Build each case's bytes once per module from the real rows."""
    short, full = rows
    built = {case.name: case for case in corpus(short, full)}

    @functools.cache
    def make(name: str) -> tuple[BadInput, bytes]:
        case = built[name]
        return case, case.build(short)
    return make


def _snapshot(*folders: Path) -> set[str]:
    return {str(p) for folder in folders if folder.exists() for p in folder.rglob("*")}


@pytest.mark.parametrize("name", IDS)
def test_library_names_the_problem(payload, name):
    case, data = payload(name)
    with pytest.raises(DataError, match=case.message):
        read_ratings_file(data, scale=SCALES[case.scale])


@pytest.mark.parametrize("name", IDS)
def test_cli_exits_non_zero_with_the_message(payload, name, tmp_path, capsys, monkeypatch):
    case, data = payload(name)
    source = tmp_path / "in" / case.filename
    source.parent.mkdir()
    source.write_bytes(data)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(work / "artifacts"))
    for command in (["data", "check"], ["train", "--model", "biases"]):
        assert main([*command, "--file", str(source), "--scale", case.scale]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert re.search(case.message, err), err
    assert _snapshot(work) == set(), "nothing may be written on failure"


def test_cli_in_a_real_process_has_no_traceback(payload, tmp_path):
    for name in ("binary garbage", "zip with a .. path", "a single rating"):
        case, data = payload(name)
        source = tmp_path / case.filename
        source.write_bytes(data)
        done = subprocess.run([sys.executable, "-m", "recsys", "data", "check", "--file", str(source)],
                              cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith("error: "), done.stderr


@pytest.fixture(scope="module")
def upload_page(movielens_dir, tmp_path_factory) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception
    at.switch_page("app_pages/dataset.py").run()  # the app opens on Start here; these begin with the data
    assert not at.exception
    return at


@pytest.mark.parametrize("name", [case.name for case in CASES if case.in_dashboard])
def test_dashboard_upload_shows_the_message(payload, upload_page, name):
    case, data = payload(name)
    artifacts = Path(os.environ["RECSYS_ARTIFACTS_DIR"])
    before = _snapshot(artifacts, REPO / "artifacts")
    at = upload_page
    at.radio(key="upload_scale").set_value(SCALE_LABELS[case.scale]).run()
    at.file_uploader[0].set_value((case.filename, data, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(f"{case.filename} was not loaded" in e for e in errors), errors
    assert any(re.search(case.message, e) for e in errors), errors
    assert at.sidebar.selectbox(key="dataset").value == "ml-latest-small"
    assert _snapshot(artifacts, REPO / "artifacts") == before


def test_duplicates_are_kept_latest_and_reported_everywhere(rows, tmp_path, capsys, upload_page):
    short, _ = rows
    user, item, _, stamp = short[1].split(",")
    data = csv(short + [f"{user},{item},1.0,{int(stamp) + 10}"])
    dataset = read_ratings_file(data)
    assert dataset.n_ratings == 200 and "1 duplicate" in dataset.notes[0]
    source = tmp_path / "dupes.csv"
    source.write_bytes(data)
    assert main(["data", "check", "--file", str(source)]) == 0
    assert "1 duplicate" in capsys.readouterr().err
    at = upload_page
    at.radio(key="upload_scale").set_value(SCALE_LABELS["half-stars"]).run()
    at.file_uploader[0].set_value(("dupes.csv", data, "text/csv")).run()
    assert any("1 duplicate" in w.value for w in at.warning)
    assert any("Loaded 200 ratings" in s.value for s in at.success)


def test_a_million_real_rows_load(rows):
    from tests.robustness.corpus import million_rows

    _, full = rows
    dataset = read_ratings_file(million_rows(full))
    assert dataset.n_ratings == 10 * (len(full) - 1) and dataset.n_users == 10 * 610
