"""Bad hyper-parameters and unknown ids through every entry point: the library, the CLI and the
dashboard. Each ends in the package's own error (or a message in the page), never a traceback."""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from recsys.cli import main
from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.errors import ConfigError, RecsysError, UnknownIdError
from recsys.models import MODELS, make_model
from recsys.work.catalog import known_parameters
from recsys.work.training import train
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
BAD_VALUES = {"factors": 0, "epochs": -1, "learning_rate": 0.0, "l2": -0.5, "batch_size": 0, "reg": -1.0,
              "alpha": float("nan"), "k": 0, "reg_user": -1.0, "iterations": 0, "em_rounds": 0,
              "shrinkage": -2.0, "min_count": 0, "layers": (16, -1), "dropout": 2.0, "seed": -7,
              "components": ("nope",), "validation_fraction": 1.0, "negatives": 0, "patience": -1,
              "hidden": 0, "max_cells": 0, "candidates": 0, "optional": ("nope",)}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_refuses_each_bad_value_and_unknown_names(model):
    names = known_parameters(model) & set(BAD_VALUES)
    assert names, f"{model} has no parameter in BAD_VALUES"
    for name in names:
        with pytest.raises(ConfigError, match=name):
            make_model(model, **{name: BAD_VALUES[name]})
    with pytest.raises(ConfigError, match="unknown hyper-parameter"):
        make_model(model, colour="blue")
    with pytest.raises(ConfigError, match=r"must be a (whole )?number"):
        make_model(model, seed="forty-two")


def test_library_unknown_ids_and_misuse():
    mini = mini_dataset()
    with pytest.raises(UnknownIdError, match="unknown user id"):
        mini.user_index("Eve")
    with pytest.raises(UnknownIdError, match="unknown item id"):
        mini.item_index("Titanic")
    result = train(mini, "biases", split=Split(fraction=0.25))
    with pytest.raises(UnknownIdError, match="outside the trained range"):
        result.model.check_user(99)
    with pytest.raises(ConfigError, match="k must be a positive whole number"):
        result.model.recommend(0, k=0)
    assert np.isfinite(result.model.predict(np.array([99, -1]), np.array([0, 99]))).all()  # bias fallback


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "mini", "--model", "mf", "--set", "factors=0"], "factors must be between 1"),
    (["train", "--dataset", "mini", "--model", "mf", "--set", "learning_rate=fast"], "learning_rate must be a number"),
    (["train", "--dataset", "mini", "--model", "deep-mf", "--set", "layers=[0]"], "layers must be"),
    (["train", "--dataset", "mini", "--model", "ease", "--set", "reg=0"], "reg must be in"),
    (["train", "--dataset", "mini", "--model", "blend", "--set", "components=[\"blend\"]"], "cannot blend"),
    (["train", "--dataset", "mini", "--model", "mf", "--set", "colour=blue"], "unknown hyper-parameter"),
    (["train", "--dataset", "mini", "--fraction", "1.5"], "fraction must be between 0 and 1"),
    (["recommend", "--dataset", "mini", "--model", "biases", "--user", "Eve"], "unknown user id 'Eve'"),
    (["recommend", "--dataset", "mini", "--model", "biases", "--user", "Alice", "-k", "0"], "k must be"),
])
def test_cli_refuses_with_a_message(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_dashboard_refuses_bad_layers_and_survives_an_unknown_user(movielens_dir):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.sidebar.selectbox(key="dataset").set_value("mini").run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_model").set_value("deep-mf").run()
    for text, message in (("abc", "Dense layers must be comma-separated whole numbers"),
                          ("0, -3", "These hyper-parameters are not valid")):
        at.text_input[0].set_value(text).run()
        assert not at.exception and any(message in e.value for e in at.error), [e.value for e in at.error]
        assert not [b for b in at.button if b.key == "start_training"], "no training with bad settings"
    at.session_state["_keep_user"] = at.session_state["user"] = "Eve"  # e.g. a stale id from another dataset
    at.switch_page("app_pages/recommend.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="user").value in mini_dataset().user_ids.tolist()


def test_all_bad_values_are_refused_somewhere():
    """Every entry of BAD_VALUES belongs to some model, so none of them tests nothing."""
    covered = set().union(*(known_parameters(m) for m in MODELS))
    assert set(BAD_VALUES) <= covered, set(BAD_VALUES) - covered
    assert issubclass(ConfigError, RecsysError)
