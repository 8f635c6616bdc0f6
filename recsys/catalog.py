"""Named model presets: a registry model name plus hyper-parameter overrides.

`<model>` is the model with its defaults; `<model>-ranking` is the same architecture trained for
top-k ranking from implicit feedback (negative sampling)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from recsys.errors import ConfigError
from recsys.models import MODELS, KerasRecommender, model_class
from recsys.models.neighbours import EASEConfig

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
    """The models that can also be trained for top-k lists (their `-ranking` presets)."""
    return [name for name, cls in MODELS.items() if cls.trains_for_ranking]


def map_labels() -> list[str]:
    """Every preset whose movie factors the latent map can draw."""
    return [label for label in all_labels() if MODELS[preset(label).model].draws_on_a_map]


def blend_parts() -> list[str]:
    """The models a blend can hold: those that predict ratings, other than the blend."""
    return [name for name, cls in MODELS.items() if cls.blendable]


def all_labels() -> list[str]:
    return list(MODELS) + [f"{name}{RANKING_SUFFIX}" for name in ranking_capable()]


def known_parameters(model_name: str) -> set[str]:
    """The hyper-parameter names a model's config accepts."""
    return {f.name for f in fields(model_class(model_name).config_type)}


#: above this many ratings the pages train each model with the settings `size_defaults` gives
LARGE_RATINGS = 5_000_000
EASE_LARGE_ITEMS = 10_000
LARGE_EPOCHS = 6  # and as many again for the refit on all training data: about 10 minutes at 25M


def size_defaults(label: str, n_ratings: int, n_items: int) -> tuple[dict, str]:
    """Settings under which a preset trains on data of this size on one machine, and the sentence
    a page shows about them ({} and "" where the defaults already scale).

    - ease: its items x items matrix is dense; past 20,000 qualifying movies it keeps the 10,000
      most-rated (about 2.4 GB while it is built), and the rest are not recommended.
    - blend: item-knn's neighbour lists and AutoRec's dense user rows do not fit 15 minutes on two
      cores at MovieLens-25M's size, so past `LARGE_RATINGS` the blend is its recommender-net half.
    - the Keras models: the batch grows with the data (1024 up to about 500k ratings, 65,536 from
      about 17M) and training stops after at most `LARGE_EPOCHS` epochs (then refits as many), so a
      run stays within about 10 minutes at 25M ratings."""
    chosen = preset(label)
    overrides: dict = {}
    notes: list[str] = []
    if chosen.model == "ease" and n_items > EASEConfig().max_items:
        overrides.update(most_rated=True, max_items=EASE_LARGE_ITEMS)
        notes.append(f"ease keeps the {EASE_LARGE_ITEMS:,} most-rated of {n_items:,} movies (its movies x movies "
                     "matrix is dense); the others are not recommended")
    if chosen.model == "blend" and n_ratings > LARGE_RATINGS:
        overrides.update(components=("recommender-net",), optional=())
        notes.append(f"above {LARGE_RATINGS:,} ratings the blend is its recommender-net half alone: item-knn's "
                     "neighbour lists and AutoRec's dense rows do not fit minutes on this machine")
    if issubclass(MODELS[chosen.model], KerasRecommender) or chosen.model == "blend":
        batch = large_batch(n_ratings)
        if batch > 1024:
            prefix = "part_" if chosen.model == "blend" else ""
            overrides.update({f"{prefix}batch_size": batch, f"{prefix}epochs": LARGE_EPOCHS})
            notes.append(f"batch {batch:,} and at most {LARGE_EPOCHS} epochs at {n_ratings:,} ratings")
    return overrides, "; ".join(notes)


def large_batch(n_ratings: int) -> int:
    """The batch grows with the data: 1024 up to about 500k ratings, 65,536 from about 17M."""
    return int(min(65536, max(1024, 2 ** int(np.log2(max(n_ratings, 1) / 256)))))



#: seconds `train()` took end to end (fit, evaluation, save) per 100,000 ratings, measured once on
#: ml-latest-small (random 80/20) on a 2-core machine; the blend trained cold, with no part cached.
#: Only for "about how long" on the pages: real runs report their own progress.
SECONDS_PER_100K = {"global-mean": 1, "biases": 1, "nmf": 3, "item-knn": 19, "mf": 10, "biased-mf": 6,
                    "deep-mf": 6, "recommender-net": 8, "gmf": 5, "mlp": 6, "neumf": 8, "autorec": 10,
                    "ials": 7, "ease": 5, "blend": 60}
RANKING_SECONDS_PER_100K = 19  # the Keras models with the ranking objective (4 negatives per rating)
#: at scale the per-size settings cap the Keras models' epochs: at most this much of the linear guess
LARGE_SCALE_FACTOR = 0.3


def expected_seconds(label: str, n_ratings: int) -> float:
    """About how long training `label` on `n_ratings` ratings takes on a machine like the one this
    was measured on (linear in the ratings; the per-size settings shorten big runs)."""
    chosen = preset(label)
    rate = RANKING_SECONDS_PER_100K if label.endswith(RANKING_SUFFIX) else SECONDS_PER_100K.get(chosen.model, 10)
    seconds = rate * n_ratings / 100_000
    return seconds * (LARGE_SCALE_FACTOR if n_ratings > LARGE_RATINGS else 1.0)
