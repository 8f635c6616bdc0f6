import re
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
    assert "100,000" in out and "6.30%" in out and "#" in out


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


def test_recommend_leaves_out_every_movie_the_user_rated(capsys, ml_small):
    """The CLI and the pages share one path: on a split whose test part holds some of user 1's
    ratings (Forrest Gump, Star Wars IV, ...), those movies are not recommended either; by default
    the model is fitted on every rating (the full split) and says so."""
    user = ml_small.user_index(1)
    rated = set(ml_small.titles(ml_small.ratings.items[ml_small.ratings.users == user]))
    for extra in ([], ["--split", "holdout"]):
        assert main(["recommend", "--model", "biases", "--user", "1", *extra]) == 0
        out = capsys.readouterr().out
        titles = re.findall(r"^\s*\d+\.\s+\S+\s{2}(.*?)\s{2}\[", out, flags=re.MULTILINE)
        assert len(titles) == 10 and not set(titles) & rated, titles
        assert ("every rating (no test part)" in out) == (not extra)


def test_time_split_through_the_cli(capsys, movielens_dir):
    assert main(["evaluate", "--dataset", "ml-100k", "--models", "biases", "--split", "time", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "time-0.2" in out and "By row group" in out and "n_new_user" in out
    assert main(["evaluate", "--dataset", "ml-100k", "--models", "biases", "--split", "time",
                 "--before", "1998-01-01", "--quiet"]) == 0
    assert "time-before-1998-01-01" in capsys.readouterr().out


def test_time_split_of_a_file_without_timestamps_is_refused(capsys, tmp_path, movielens_dir):
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()[:501]
    plain = tmp_path / "no-time.csv"
    plain.write_text("\n".join(",".join(line.split(",")[:3]) for line in lines) + "\n")
    assert main(["train", "--file", str(plain), "--model", "biases", "--split", "time"]) == 1
    err = capsys.readouterr().err
    assert "has no timestamps, so it cannot be split by time" in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--dataset", "ml-100k", "--models", "biases", "--split", "time", "--before", "2030-01-01"],
     "leaves the test part empty: the ratings run from 1997-09-20 to 1998-04-22"),
    (["evaluate", "--dataset", "ml-100k", "--models", "biases", "--split", "time", "--before", "1990-01-01"],
     "leaves the training part empty"),
    (["evaluate", "--dataset", "ml-100k", "--models", "biases", "--split", "time", "--before", "soon"],
     "cannot read the cut date 'soon'"),
    (["evaluate", "--dataset", "ml-100k", "--models", "biases", "--before", "1998-01-01"], "--before needs --split time"),

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


def test_ctrl_c_stops_the_training_job_and_saves_nothing(tmp_path, movielens_dir):
    """The CLI trains through the job runner in the foreground; Ctrl-C (SIGINT) stops the job
    after its current batch, says so, exits 130 and leaves the artifact store empty."""
    import os
    import signal

    env = {**os.environ, "RECSYS_ARTIFACTS_DIR": str(tmp_path), "RECSYS_DATA_DIR": str(movielens_dir)}
    process = subprocess.Popen([sys.executable, "-m", "recsys", "train", "--dataset", "ml-100k", "--model", "mf",
                                "--set", "epochs=500", "--set", "factors=4"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # as in a terminal: a test runner started in the background inherits
                               # an ignored SIGINT, and Python then installs no Ctrl-C handler
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stderr:
        if "epoch 1/500" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "mf: stopped; nothing was saved" in err and "Traceback" not in err
    assert not list((tmp_path / "models").glob("mf-*")) if (tmp_path / "models").exists() else True


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


def test_data_check_reads_movielens_own_files_with_their_titles(capsys, movielens_dir):
    assert main(["data", "check", "--file", str(movielens_dir / "ml-100k" / "u.data"), "--scale", "whole-stars"]) == 0
    assert "100,000 ratings, 943 users, 1,682 items (1,682 with titles)" in capsys.readouterr().out


def test_train_prints_no_nan_for_a_group_the_split_does_not_have(capsys):
    """ml-100k's u1 has no new test users: their NDCG is not a number, so it is not printed."""
    assert main(["train", "--dataset", "ml-100k", "--split", "official", "--fold-name", "u1", "--model", "biases"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "n_new_user: 0" in out and "ndcg_warm:" in out
