import subprocess
import sys

import pytest

from recsys.cli import main

from tests.conftest import REPO


def test_data_list_and_info(capsys, movielens_dir):
    assert main(["data", "list"]) == 0
    assert "ml-25m" in capsys.readouterr().out
    assert main(["data", "info", "ml-100k"]) == 0
    out = capsys.readouterr().out
    assert "100,000" in out and "6.3047%" in out and "#" in out


def test_evaluate_trains_then_loads_from_cache(capsys, movielens_dir):
    args = ["evaluate", "--dataset", "ml-100k", "--models", "biases,mf", "--set", "epochs=2",
            "--set", "factors=4", "--quiet"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "rmse" in first and "ndcg" in first and "trained" in first
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "cache" in second and "trained" not in second.split("coverage")[1]


def test_recommend_prints_titles(capsys, movielens_dir):
    assert main(["recommend", "--dataset", "ml-100k", "--model", "biases", "--user", "1", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("(19") >= 3 or out.count("(") >= 3


@pytest.mark.parametrize("args, message", [
    (["recommend", "--dataset", "ml-100k", "--model", "biases", "--user", "99999"], "unknown user id"),
    (["train", "--dataset", "ml-100k", "--model", "mf", "--set", "epochs=0"], "epochs must be"),
    (["train", "--dataset", "ml-100k", "--model", "mf", "--set", "epochs"], "NAME=VALUE"),
    (["artifacts", "rm", "../../etc"], "expected an artifact name"),
    (["data", "info"], "needs a dataset name"),
])
def test_errors_exit_non_zero_with_a_message(capsys, movielens_dir, args, message):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_arguments_show_usage_in_a_subprocess():
    done = subprocess.run([sys.executable, "-m", "recsys", "train", "--model", "nope"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "usage:" in done.stderr and "Traceback" not in done.stderr


def test_own_ratings_file_through_the_cli(capsys, tmp_path, movielens_dir):
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:2001]
    good = tmp_path / "mine.csv"
    good.write_text("\n".join(lines) + "\n")
    assert main(["data", "check", "--file", str(good)]) == 0
    assert "2,000 ratings" in capsys.readouterr().out
    assert main(["evaluate", "--file", str(good), "--models", "biases", "--quiet"]) == 0
    assert "biases" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines[:5] + ["1,50,abc,964982931"]) + "\n")
    assert main(["data", "check", "--file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 6: rating 'abc' is not a number" in err and "Traceback" not in err
