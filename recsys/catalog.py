"""Named model presets: a registry model name plus hyper-parameter overrides.

`<model>` is the model with its defaults; `<model>-ranking` is the same architecture trained for
top-k ranking from implicit feedback (negative sampling)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from recsys.errors import ConfigError
from recsys.models import MODELS, KerasRecommender, model_class

RANKING_SUFFIX = "-ranking"
#: What `evaluate` runs by default: every rating model, and the ranking-trained NCF models.
DEFAULT_EVALUATION = ("global-mean", "biases", "nmf", "item-knn", "mf", "biased-mf", "deep-mf", "recommender-net",
                      "gmf", "mlp", "neumf", "autorec", "blend", "gmf-ranking", "neumf-ranking", "ials", "ease")
#: The model the dashboard offers first for rating prediction, for top-10 lists, and for factor maps.
DEFAULT_RATING_MODEL = "blend"
DEFAULT_RANKING_MODEL = "ease"
DEFAULT_FACTOR_MODEL = "recommender-net"  # the blend's latent-factor half


@dataclass(frozen=True)
class Preset:
    label: str
    model: str
    overrides: dict = field(default_factory=dict)


def preset(label: str, **overrides) -> Preset:
    """Resolve a preset label such as 'neumf' or 'gmf-ranking', with extra overrides."""
    base, extra = label, {}
    if label.endswith(RANKING_SUFFIX) and label[: -len(RANKING_SUFFIX)] in MODELS:
        base, extra = label[: -len(RANKING_SUFFIX)], {"objective": "ranking"}
        if not issubclass(MODELS[base], KerasRecommender):
            raise ConfigError(f"{base} has no ranking objective; ranking models: "
                              f"{', '.join(ranking_capable())}")
    if base not in MODELS:
        raise ConfigError(f"unknown model {label!r}; known models: {', '.join(all_labels())}")
    return Preset(label, base, {**extra, **overrides})


def ranking_capable() -> list[str]:
    return [name for name, cls in MODELS.items() if issubclass(cls, KerasRecommender)]


def all_labels() -> list[str]:
    return list(MODELS) + [f"{name}{RANKING_SUFFIX}" for name in ranking_capable()]


def known_parameters(model_name: str) -> set[str]:
    """The hyper-parameter names a model's config accepts."""
    return {f.name for f in fields(model_class(model_name).config_type)}
