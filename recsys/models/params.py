"""What each hyper-parameter is, declared once beside its default in the model's config.

A config field made with `hyper(default, ...)` carries a `Param` in its metadata: its kind, the
range the model accepts, the range worth searching when tuning, a short label and a sentence of
help. Validation (`check`), the Train page's controls, `recsys params MODEL` and the tuning
search space all read it from there, so a new setting is described in one place."""
from __future__ import annotations

import math
import re
from dataclasses import Field, dataclass, field, fields
from typing import Any, Literal

import numpy as np

from recsys.errors import ConfigError

Kind = Literal["int", "float", "bool", "choice", "sizes", "names", "assignments"]
#: the kinds whose values are lists (typed as "64,32" on a command line; assignments as "a.b=1; c.d=2")
LISTS = ("sizes", "names", "assignments")
ASSIGNMENT = re.compile(r"^\s*([\w-]+)\.(\w+)\s*=\s*(\S.*?)\s*$")
#: the metadata key a declared field keeps its `Param` under
KEY = "param"


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: kind, accepted range, search range, and words for people.

    - kind: int, float, bool, choice (one of `choices`), sizes (a list of whole numbers in
      [low, high], at most `max_count`), names (a list of model names, checked by the config) or
      assignments (a list of "part.setting=value", checked by the config);
    - low/high: the accepted range (None: unbounded on that side); `open_low` excludes `low`;
    - search: the range (or, for choice, the values) worth trying when tuning; None: not tuned;
    - log: search (and read) the range on a log scale;
    - page: offered on the Train page; `steps` are the values a slider offers there (empty: any
      value in `page_range`, or in [low, high])."""

    kind: Kind
    label: str
    help: str = ""
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple = ()
    max_count: int | None = None
    search: tuple | None = None
    log: bool = False
    page: bool = False
    steps: tuple = ()
    page_range: tuple[float, float] | None = None
    #: (setting, value): the setting matters only when that other setting has that value
    when: tuple = ()

    def describe(self) -> str:
        """The accepted values in words, e.g. "whole number in [1, 1024]" or "one of rating, ranking"."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "names":
            return "comma-separated model names"
        if self.kind == "assignments":
            return "part.setting=value, separated by semicolons"
        bounds = _bounds(self)
        if self.kind == "sizes":
            count = f", at most {self.max_count}" if self.max_count else ""
            return f"comma-separated whole numbers{' ' + bounds if bounds else ''}{count}"
        noun = "whole number" if self.kind == "int" else "number"
        return f"{noun}{' ' + bounds if bounds else ''}"


def _num(value: float) -> str:
    """A bound as people write it: 1048576 rather than 1.04858e+06, 0.005 rather than 5e-03."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _bounds(param: Param) -> str:
    if param.low is None and param.high is None:
        return ""
    if param.high is None:
        return f"≥ {_num(param.low)}" if not param.open_low else f"> {_num(param.low)}"
    low = "-inf" if param.low is None else _num(param.low)
    return f"in {'(' if param.open_low else '['}{low}, {_num(param.high)}]"


def hyper(default: Any, kind: Kind, label: str, help: str = "", **options: Any) -> Any:
    """A config field with its `Param` (see there for `options`)."""
    return field(default=default, metadata={KEY: Param(kind, label, help, **options)})


def declared(config_type: type) -> dict[str, Param]:
    """Every declared hyper-parameter of a config class, by name, in field order. A subclass that
    only changes a default (`factors: int = 32`) keeps the declaration of the class it inherits from."""
    out: dict[str, Param] = {}
    for f in fields(config_type):
        param = _param_of(config_type, f)
        if param is not None:
            out[f.name] = param
    return out


def _param_of(config_type: type, f: Field) -> Param | None:
    if KEY in f.metadata:
        return f.metadata[KEY]
    for base in config_type.__mro__[1:]:
        inherited = getattr(base, "__dataclass_fields__", {}).get(f.name)
        if inherited is not None and KEY in inherited.metadata:
            return inherited.metadata[KEY]
    return None


def check(config: object) -> None:
    """Raise `ConfigError` for the first declared hyper-parameter outside its kind or range; the
    choices come first, since other settings' defaults may follow from them (l2 from objective)."""
    params = declared(type(config))
    for name in sorted(params, key=lambda n: params[n].kind != "choice"):
        check_value(name, params[name], getattr(config, name))


def check_value(name: str, param: Param, value: Any) -> None:
    """Raise `ConfigError` unless `value` is of the parameter's kind and within its range."""
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
    elif param.kind == "choice":
        if value not in param.choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, param.choices))}, got {value!r}")
    elif param.kind == "int":
        _check_int(name, param, value)
    elif param.kind == "float":
        _check_float(name, param, value)
    elif param.kind == "sizes":
        _check_sizes(name, param, value)
    elif param.kind == "names":
        if not isinstance(value, tuple) or not all(isinstance(n, str) for n in value):
            raise ConfigError(f"{name} must be a list of model names, got {value!r}")
    elif param.kind == "assignments":
        if not isinstance(value, tuple) or not all(isinstance(a, str) and ASSIGNMENT.match(a) for a in value):
            raise ConfigError(f"{name} must be a list of part.setting=value, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_int(name: str, param: Param, value: Any) -> None:
    if not _is_int(value):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    low, high = param.low, param.high
    if (low is not None and value < low) or (high is not None and value > high):
        bound = f"between {_num(low)} and {_num(high)}" if high is not None and low is not None else \
            f"at least {_num(low)}" if low is not None else f"at most {_num(high)}"
        raise ConfigError(f"{name} must be {bound}, got {value}")


def _check_float(name: str, param: Param, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    low = -math.inf if param.low is None else param.low
    high = math.inf if param.high is None else param.high
    too_low = value <= low if param.open_low else value < low
    if not math.isfinite(value) or too_low or value > high:
        raise ConfigError(f"{name} must be {_bounds(param) or 'finite'}, got {value}")


def _check_sizes(name: str, param: Param, value: Any) -> None:
    low, high = param.low or 1, param.high
    if not isinstance(value, tuple) or not value or \
            not all(_is_int(n) and low <= n and (high is None or n <= high) for n in value):
        shown = value if not isinstance(value, tuple) or len(value) <= 12 else f"{len(value)} values"
        raise ConfigError(f"{name} must be a non-empty list of sizes between {_num(low)} and {_num(high)}, got {shown!r}")
    if param.max_count is not None and len(value) > param.max_count:
        raise ConfigError(f"at most {param.max_count} {param.label.lower()} are allowed, got {len(value)} "
                          f"({name}){'; ' + param.help if param.help else ''}")


def parse_value(param: Param, text: str, name: str = "") -> Any:
    """Read a value typed by a person (CLI `--set`, a text box) as the parameter's kind."""
    text = text.strip()
    try:
        if param.kind == "bool":
            if text.lower() in ("true", "yes", "1", "on"):
                return True
            if text.lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError(text)
        if param.kind == "int":
            return int(text)
        if param.kind == "float":
            return float(text)
        if param.kind == "sizes":
            return tuple(int(v) for v in text.split(",") if v.strip())
        if param.kind == "names":
            return tuple(v.strip() for v in text.split(",") if v.strip())
        if param.kind == "assignments":
            return tuple(v.strip() for v in text.split(";") if v.strip())
    except ValueError:
        raise ConfigError(f"{name or param.label} must be {param.describe()}, got {text!r}") from None
    return text


def search_space(config_type: type, config: object | None = None) -> dict[str, Param]:
    """The hyper-parameters worth tuning, with their search ranges (`Param.search`); given a
    config, only those that matter under its other settings (`Param.when`)."""
    return {name: param for name, param in declared(config_type).items() if param.search is not None
            and not (config is not None and param.when and getattr(config, param.when[0]) != param.when[1])}
