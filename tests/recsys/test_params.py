"""Hyper-parameters declared once in the configs: validation, the Train page's controls, the
CLI's help and the tuning space all read the same declarations."""
from __future__ import annotations

from dataclasses import fields

import pytest

from dashboard.settings_form import controls, read
from recsys.cli import main
from recsys.errors import ConfigError
from recsys.models import MODELS, make_model
from recsys.models.params import Param, check_value, declared, parse_value, search_space
from recsys.work.catalog import blend_parts


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_setting_is_declared_with_a_valid_default_and_search_range(name):
    config_type = MODELS[name].config_type
    params = declared(config_type)
    assert [f.name for f in fields(config_type)] == list(params), "every field is declared"
    config = config_type()
    for key, param in params.items():
        assert param.label and param.describe(), key
        check_value(key, param, getattr(config, key))  # the default is accepted
        if param.search is not None and param.kind in ("int", "float"):
            low, high = param.search
            assert low < high, key
            for end in (low, high):
                check_value(key, param, type(getattr(config, key))(end))  # searched values are accepted
            assert not param.log or low > 0, f"{key}: a log range starts above zero"


def test_a_subclass_that_changes_a_default_keeps_the_declaration():
    deep = declared(MODELS["deep-mf"].config_type)
    assert deep["factors"] is declared(MODELS["mf"].config_type)["factors"]
    assert MODELS["deep-mf"].config_type().factors == 32


@pytest.mark.parametrize("param, value, message", [
    (Param("int", "n", low=1, high=10), 0, "n must be between 1 and 10, got 0"),
    (Param("int", "n", low=1), 2.5, "n must be a whole number"),
    (Param("int", "n", low=0, high=1 << 20), 1 << 21, "between 0 and 1048576"),
    (Param("float", "n", low=0.0, high=1.0, open_low=True), 0.0, r"n must be in \(0, 1\], got 0.0"),
    (Param("float", "n", low=0.0, high=1.0), float("nan"), "n must be in"),
    (Param("float", "n", low=0.0), True, "n must be a number"),
    (Param("bool", "n"), "yes", "n must be true or false"),
    (Param("choice", "n", choices=("a", "b")), "c", "n must be one of a, b"),
    (Param("sizes", "n", low=1, high=8, max_count=2), (1, 9), "between 1 and 8"),
    (Param("sizes", "n", low=1, high=8, max_count=2), (1, 2, 3), "at most 2"),
    (Param("names", "n"), ("a", 3), "list of model names"),
])
def test_values_outside_their_declaration_are_refused_with_the_range(param, value, message):
    with pytest.raises(ConfigError, match=message):
        check_value("n", param, value)


def test_typed_values_are_read_as_their_kind():
    assert parse_value(Param("sizes", "Layers"), "64, 32") == (64, 32)
    assert parse_value(Param("names", "Parts"), "biases, ease") == ("biases", "ease")
    assert parse_value(Param("bool", "Flag"), "off") is False
    with pytest.raises(ConfigError, match="layers must be comma-separated whole numbers"):
        parse_value(Param("sizes", "Layers"), "abc", "layers")
    assert make_model("deep-mf", layers="16,8").config.layers == (16, 8)  # as `--set layers=16,8` gives it


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_train_page_controls_come_from_the_declarations(name):
    config = MODELS[name].config_type()
    made = controls(config, blend_parts())
    params = declared(type(config))
    assert [c.name for c in made] == [c.name for c in made if params[c.name].page]
    for c in made:
        if c.widget == "slider":
            assert c.low <= c.value <= c.high, c.name
        elif c.widget in ("select_slider", "multiselect"):
            assert set([c.value] if c.widget == "select_slider" else c.value) <= set(c.options), c.name
        assert read(c, c.value) == getattr(config, c.name), "a control left alone keeps the default"


def test_controls_put_the_models_own_settings_before_the_shared_training_ones():
    names = [c.name for c in controls(MODELS["recommender-net"].config_type())]
    assert names.index("factors") < names.index("epochs") < names.index("batch_size")
    blend = controls(MODELS["blend"].config_type(), blend_parts())
    assert blend[0].widget == "multiselect" and "ease" not in blend[0].options and "autorec" in blend[0].options


def test_search_space_holds_the_declared_search_ranges():
    space = search_space(MODELS["recommender-net"].config_type)
    assert {"factors", "learning_rate", "l2"} <= set(space) and "epochs" not in space
    assert space["learning_rate"].log and space["factors"].kind == "int"


def test_the_cli_lists_a_models_settings(capsys):
    assert main(["params", "deep-mf"]) == 0
    out = capsys.readouterr().out
    for name in declared(MODELS["deep-mf"].config_type):
        assert f" {name} = " in out, name
    assert "* learning_rate = 0.002  (number in (0, 1])" in out and "  epochs = 30" in out
