"""The Train page's hyper-parameter controls, made from what each config declares
(`recsys.models.params`): `controls` is pure and tested without Streamlit; `render` draws them."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Literal, Sequence

from recsys.models.params import Param, declared, parse_value

_NONE = type("_NoField", (), {"metadata": {}})()
Widget = Literal["slider", "select_slider", "text", "multiselect", "checkbox"]


@dataclass(frozen=True)
class Control:
    """One widget: which kind, its words, its starting value and what it offers."""

    name: str
    widget: Widget
    label: str
    help: str
    value: Any
    param: Param
    options: tuple = ()
    low: float | None = None
    high: float | None = None


def controls(config: object, name_options: Sequence[str] = ()) -> list[Control]:
    """A control for each hyper-parameter of `config` that its class offers on the Train page,
    starting at the config's value. `name_options` are the models a list of names may hold."""
    values = {f.name: getattr(config, f.name) for f in fields(config)}
    params = declared(type(config))
    page = sorted((n for n in params if params[n].page), key=lambda n: declared_at(type(config), n))
    return [_control(name, params[name], values[name], tuple(name_options)) for name in page]


def declared_at(config_type: type, name: str) -> int:
    """How far up the config's ancestry `name` was declared: the model's own settings (0) come
    before those it shares with its family, and the training settings every model shares come last."""
    owners = [i for i, cls in enumerate(config_type.__mro__)
              if "param" in getattr(cls, "__dataclass_fields__", {}).get(name, _NONE).metadata]
    return max(owners, default=0)


def _control(name: str, param: Param, value: Any, name_options: tuple) -> Control:
    common = dict(name=name, label=param.label, help=param.help, param=param)
    if param.kind == "bool":
        return Control(widget="checkbox", value=value, **common)
    if param.kind == "names":
        return Control(widget="multiselect", value=tuple(v for v in value if v in name_options),
                       options=name_options, **common)
    if param.kind == "sizes":
        return Control(widget="text", value=", ".join(map(str, value)), **common)
    if param.kind == "choice":
        return Control(widget="select_slider", value=value, options=param.choices, **common)
    if param.steps:
        return Control(widget="select_slider", value=value, options=tuple(sorted({*param.steps, value})), **common)
    low, high = param.page_range or (param.low, param.high)
    cast = int if param.kind == "int" else float
    return Control(widget="slider", value=cast(value), low=cast(min(low, value)), high=cast(max(high, value)),
                   **common)


def read(control: Control, shown: Any) -> Any:
    """The setting a control's shown value stands for (a text box of sizes becomes a tuple)."""
    if control.widget == "text":
        return parse_value(control.param, shown)
    if control.widget == "multiselect":
        return tuple(shown)
    return shown


Kept = Callable[..., Any]


def render(items: list[Control], kept: Kept) -> dict:
    """Draw the controls with `kept(widget, label, name, default, **options)` (which keeps each
    value across pages) and return the settings they hold. A text that is not a valid value
    raises `ConfigError` naming the control."""
    import streamlit as st

    chosen = {}
    for c in items:
        if c.widget == "slider":
            shown = kept(st.slider, c.label, c.name, c.value, min_value=c.low, max_value=c.high, help=c.help)
        elif c.widget == "select_slider":
            shown = kept(st.select_slider, c.label, c.name, c.value, options=list(c.options), help=c.help)
        elif c.widget == "multiselect":
            shown = kept(st.multiselect, c.label, c.name, list(c.value), options=list(c.options), help=c.help)
        elif c.widget == "checkbox":
            shown = kept(st.checkbox, c.label, c.name, c.value, help=c.help)
        else:
            shown = kept(st.text_input, c.label, c.name, c.value, help=c.help)
        chosen[c.name] = read(c, shown)
    return chosen
