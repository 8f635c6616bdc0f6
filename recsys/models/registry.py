"""The model registry: every model class by its name. It imports no model, so a model that works
with others by name (the blend) looks them up here without importing the package that lists them;
`recsys.models` fills it, in the order pages list the models."""
from __future__ import annotations

from typing import TYPE_CHECKING

from recsys.errors import ConfigError

if TYPE_CHECKING:
    from recsys.models.base import Recommender

MODELS: dict[str, type[Recommender]] = {}


def register(*classes: type[Recommender]) -> None:
    """Add model classes under their names, in order."""
    MODELS.update({cls.name: cls for cls in classes})


def model_class(name: str) -> type[Recommender]:
    """The model class registered as `name`."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def make_model(name: str, **hyper_parameters) -> Recommender:
    """A new, unfitted model with validated hyper-parameters."""
    cls = model_class(name)
    return cls(cls.config_type.from_dict(hyper_parameters))
