"""Hostile settings and shapes refused before any work starts, with a clear message, through the
library, the CLI and the dashboard: huge layer lists, factors x users over the budget, and EASE
on an upload with tens of thousands of distinct movies."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from recsys.budget import BudgetError
from recsys.cli import main
from recsys.data.upload import read_ratings_file
from recsys.errors import ConfigError
from recsys.work.training import train
from tests.conftest import REPO, finish_jobs

APP = str(REPO / "dashboard" / "app.py")
HUGE_LAYERS = [4096] * 200


@pytest.fixture(scope="module")
def many_movies() -> bytes:
    """An upload with 25,000 distinct movies, each rated by three users (60k ratings)."""
    lines = ["userId,movieId,rating"] + [f"{user},{movie},{1 + (movie + user) % 5}"
                                         for movie in range(1, 25_001) for user in (1, 2, 3)]
    return ("\n".join(lines) + "\n").encode()


def test_the_library_refuses_before_fitting(ml_small, many_movies, store, monkeypatch):
    with pytest.raises(ConfigError, match="at most 8 dense layers"):
        train(ml_small, "deep-mf", {"layers": HUGE_LAYERS}, store=store)
    with pytest.raises(BudgetError, match="movies x movies matrix"):
        train(read_ratings_file(many_movies), "ease", store=store)
    monkeypatch.setenv("RECSYS_MODEL_BUDGET_MB", "64")
    with pytest.raises(BudgetError, match=r"1024 factors for 10,334 users and movies.*budget of 64.0 MiB"):
        train(ml_small, "mf", {"factors": 1024}, store=store)
    assert store.entries().empty


def test_the_cli_exits_with_the_message(ml_small, many_movies, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    assert main(["train", "--model", "deep-mf", "--set", f"layers={HUGE_LAYERS}"]) == 1
    assert "at most 8 dense layers" in capsys.readouterr().err
    upload = tmp_path / "many.csv"
    upload.write_bytes(many_movies)
    # as on the page: ease keeps the 10,000 most-rated of 25,000 movies (about 2.3 GiB), over this budget
    monkeypatch.setenv("RECSYS_MODEL_BUDGET_MB", "1024")
    assert main(["train", "--model", "ease", "--file", str(upload)]) == 1
    err = capsys.readouterr().err
    assert "budget" in err and "Traceback" not in err and "keeps the 10,000 most-rated" in err
    assert not (tmp_path / "artifacts" / "models").exists() or not list((tmp_path / "artifacts" / "models").iterdir())


def test_the_dashboard_says_why_and_queues_nothing(movielens_dir, many_movies, monkeypatch):
    from dashboard import resources

    # at 25,000 movies the page trains ease on the 10,000 most-rated (about 2.3 GiB): over this budget
    monkeypatch.setenv("RECSYS_MODEL_BUDGET_MB", "1024")
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_model").set_value("deep-mf").run()
    at.text_input(key="train_deep-mf_layers").set_value(", ".join(map(str, HUGE_LAYERS))).run()
    assert any("at most 8 dense layers" in e.value for e in at.error), [e.value for e in at.error]
    at.switch_page("app_pages/dataset.py").run()
    at.file_uploader[0].set_value(("many.csv", many_movies, "text/csv")).run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_model").set_value("ease").run()
    assert any("budget" in c.value for c in at.caption)  # the cost is stated before starting
    assert any("keeps the 10,000 most-rated of 25,000 movies" in c.value for c in at.caption)
    before = len(resources.job_runner().jobs(everyone=True))
    at.button(key="start_training").click().run()
    assert any("Training was not started" in e.value and "budget" in e.value for e in at.error)
    assert len(resources.job_runner().jobs(everyone=True)) == before
    finish_jobs(at)
