"""Named model presets: a registry model name plus hyper-parameter overrides.

`<model>` is the model with its defaults; `<model>-ranking` is the same architecture trained for
top-k ranking from implicit feedback (negative sampling)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from recsys.errors import ConfigError
from recsys.models import MODELS, model_class, sizing
from recsys.work import tuned

RANKING_SUFFIX = "-ranking"
#: What `evaluate` runs by default: every rating model, and the ranking-trained NCF models.
DEFAULT_EVALUATION = ("global-mean", "popular", "biases", "nmf", "item-knn", "mf", "biased-mf", "deep-mf", "recommender-net",
                      "gmf", "mlp", "neumf", "autorec", "bayes-fm", "blend", "gmf-ranking", "neumf-ranking", "ials", "ease",
                      "pure-svd")
#: The model the dashboard offers first for rating prediction, for top-10 lists, and for factor maps.
DEFAULT_RATING_MODEL = "blend"
DEFAULT_RANKING_MODEL = "ease"
DEFAULT_FACTOR_MODEL = "bayes-fm"  # the heart of the blend: its map is the posterior means
#: the quick model (closed form, well under a second on ml-latest-small) a page shows while its
#: default for top-10 lists or factor maps trains; it ranks and draws on a map
STAND_IN = "pure-svd"
#: what the Compare page shows first: the baselines (biases for ratings, popular for top-10), a factor
#: model, the default and the ranking models
DEFAULT_COMPARISON = ("biases", "popular", "biased-mf", "recommender-net", "bayes-fm", "blend", "ials", "ease")


@dataclass(frozen=True)
class Preset:
    label: str
    model: str
    overrides: dict = field(default_factory=dict)


def preset(label: str, **overrides) -> Preset:
    """Resolve a preset label such as 'neumf', 'gmf-ranking' or 'biased-mf@tuned' (a study's best
    settings, `recsys.work.tuned`), with extra overrides."""
    if label.endswith(tuned.SUFFIX):
        found = tuned.get(label)
        return Preset(label, found.model, {**found.overrides, **overrides})
    base, extra = label, {}
    if label.endswith(RANKING_SUFFIX) and label[: -len(RANKING_SUFFIX)] in MODELS:
        base, extra = label[: -len(RANKING_SUFFIX)], {"objective": "ranking"}
        if not MODELS[base].trains_for_ranking:
            raise ConfigError(f"{base} has no ranking objective; ranking models: "
                              f"{', '.join(ranking_capable())}")
    if base not in MODELS:
        raise ConfigError(f"unknown model {label!r}; known models: {', '.join(all_labels())}")
    return Preset(label, base, {**extra, **overrides})


def stand_in(label: str) -> str | None:
    """The quick model a page may show first while `label`, its default, trains (None: wait)."""
    return STAND_IN if label in (DEFAULT_RANKING_MODEL, DEFAULT_FACTOR_MODEL) else None


def ranking_capable() -> list[str]:
    """The models that can also be trained for top-k lists (their `-ranking` presets)."""
    return [name for name, cls in MODELS.items() if cls.trains_for_ranking]


def map_labels() -> list[str]:
    """Every preset whose movie factors the latent map can draw."""
    return [label for label in all_labels() if MODELS[preset(label).model].draws_on_a_map]


@dataclass(frozen=True)
class Missing:
    """What a model does not show, why, and the model to open instead ("" when it shows all)."""

    views: str
    why: str
    instead: str


def missing_views(label: str) -> Missing | None:
    """Which of the latent map and the learning animation a preset has no data for (None: both
    are there), and the map model to offer in its place."""
    cls = MODELS[preset(label).model]
    if not cls.draws_on_a_map:
        return Missing("no latent map and no learning animation",
                       "its predictions do not come from a dot product of one user vector and one movie vector "
                       "(it averages models, passes vectors through dense layers, or has no vectors)",
                       DEFAULT_FACTOR_MODEL)
    if not cls.keeps_snapshots:
        return Missing("no learning animation", "it is solved in closed form or by whole alternating steps, not "
                       "epoch by epoch, so there are no in-between vectors to replay", DEFAULT_FACTOR_MODEL)
    return None


def without_a_map() -> list[str]:
    """The built-in models the latent map cannot draw (said on its page)."""
    return [name for name, cls in MODELS.items() if not cls.draws_on_a_map]


def blend_parts() -> list[str]:
    """The models a blend can hold: those that predict ratings, other than the blend."""
    return [name for name, cls in MODELS.items() if cls.blendable]


def builtin_labels() -> list[str]:
    """Every model and every `-ranking` variant: the presets that exist without any tuning."""
    return list(MODELS) + [f"{name}{RANKING_SUFFIX}" for name in ranking_capable()]


def all_labels() -> list[str]:
    """The built-in presets and the tuned presets saved so far."""
    return builtin_labels() + sorted(tuned.load_all())


def known_parameters(model_name: str) -> set[str]:
    """The hyper-parameter names a model's config accepts."""
    return {f.name for f in fields(model_class(model_name).config_type)}


def size_defaults(label: str, n_ratings: int, n_items: int) -> tuple[dict, str]:
    """Settings under which a preset trains on data of this size on one machine, and the sentence
    a page shows about them ({} and "" where the defaults already scale): each model declares its
    own (`Recommender.settings_for_size`)."""
    overrides, notes = model_class(preset(label).model).settings_for_size(n_ratings, n_items)
    return overrides, "; ".join(notes)


RANKING_SECONDS_PER_100K = 19  # the Keras models with the ranking objective (4 negatives per rating)
#: at scale the per-size settings cap the Keras models' epochs: at most this much of the linear guess
LARGE_SCALE_FACTOR = 0.3


def expected_seconds(label: str, n_ratings: int) -> float:
    """About how long training `label` on `n_ratings` ratings takes on a machine like the one this
    was measured on (linear in the ratings; the per-size settings shorten big runs)."""
    chosen = preset(label)
    ranking = chosen.overrides.get("objective") == "ranking"
    rate = RANKING_SECONDS_PER_100K if ranking else model_class(chosen.model).seconds_per_100k
    seconds = rate * n_ratings / 100_000
    return seconds * (LARGE_SCALE_FACTOR if n_ratings > sizing.LARGE_RATINGS else 1.0)
