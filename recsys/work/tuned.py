"""Tuned presets: a study's best settings under a name every face accepts (`biased-mf@tuned`).

They are kept in one small JSON file beside the studies (`artifacts/studies/tuned.json`),
written atomically (a temporary file renamed over the old one) under a lock, and read fresh on
each look-up, so a preset saved by one process (the CLI, a Tune page job) is seen by the others.
A tuned preset resolves to its base model with the tuned settings, so its artifact key is that
of the settings: training it on Train, in Compare or from the CLI is the same model.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from recsys.data.sources import artifacts_root
from recsys.errors import ConfigError

SUFFIX = "@tuned"
_lock = threading.Lock()


@dataclass(frozen=True)
class TunedPreset:
    """A tuned label, the model and settings it stands for, and where they came from."""

    label: str
    base: str  # the preset that was tuned, e.g. biased-mf or gmf-ranking
    model: str
    overrides: dict
    study: str
    dataset: str
    split: str
    metric: str
    value: float
    trials: int
    saved: float = field(default_factory=time.time)
    #: the default settings' score on the same tuning-validation part (None: saved before it was kept)
    default_value: float | None = None
    #: no trial beat the defaults on validation, so the preset keeps the defaults
    kept_defaults: bool = False


def path() -> Path:
    return artifacts_root() / "studies" / "tuned.json"


def load_all() -> dict[str, TunedPreset]:
    """Every saved tuned preset by label ({} when none, or when the file cannot be read)."""
    try:
        raw = json.loads(path().read_text())
        return {label: TunedPreset(**record) for label, record in raw.items()}
    except (OSError, ValueError, TypeError):
        return {}


def get(label: str) -> TunedPreset:
    """The tuned preset `label` (e.g. biased-mf@tuned), or a ConfigError saying how to make it."""
    found = load_all().get(label)
    if found is None:
        base = label.removesuffix(SUFFIX)
        raise ConfigError(f"no tuned settings for {base} yet: tune it first (python -m recsys tune --model {base}, "
                          "or the Tune page)")
    return found


def save(preset: TunedPreset) -> Path:
    """Add or replace one tuned preset, atomically."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        records = {label: asdict(p) for label, p in load_all().items()}
        records[preset.label] = asdict(preset)
        handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tuned-", suffix=".json")
        with os.fdopen(handle, "w") as out:
            json.dump(records, out, indent=1, sort_keys=True)
        os.replace(tmp, target)
    return target
