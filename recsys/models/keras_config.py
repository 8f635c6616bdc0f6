"""The Keras models' hyper-parameters: the shared settings, the deep models' tower, the
dot-product models' trainer, and the RecommenderNet's lighter penalty in logit space."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from recsys.distribute import STRATEGIES
from recsys.errors import ConfigError
from recsys.models.config import GradientConfig
from recsys.models.params import hyper

OBJECTIVES = ("rating", "ranking")


@dataclass(frozen=True)
class KerasConfig(GradientConfig):
    """Hyper-parameters shared by the Keras models (defaults tuned on ml-latest-small)."""

    factors: int = hyper(64, "int", "Factors", "length of each user's and movie's latent vector", low=1, high=1024,
                         search=(8, 256), log=True, page=True, page_range=(1, 256))
    l2: float | None = hyper(None, "float", "L2 regularisation",
                             "penalty on the embeddings (unset: 0.1 for ratings, 0.01 for ranking)", low=0.0,
                             high=10.0, search=(1e-4, 1.0), log=True, page=True,
                             steps=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0))
    objective: str = hyper("rating", "choice", "Objective", "predict ratings, or rank movies from implicit feedback",
                           choices=OBJECTIVES)
    negatives: int = hyper(4, "int", "Negatives", "unrated movies sampled per rating (ranking objective)",
                           low=1, high=100, search=(1, 10), when=("objective", "ranking"))
    center: bool = hyper(True, "bool", "Centre", "learn ratings around the global mean")
    non_negative: bool = hyper(False, "bool", "Non-negative", "keep the factors at or above zero")
    refit: bool = hyper(True, "bool", "Refit", "after early stopping, train again on all training data")
    strategy: str = hyper("default", "choice", "Distribution",
                          "tf.distribute for training: default, mirrored or multi-worker (see recsys.distribute)",
                          choices=STRATEGIES)
    #: L2 used when `l2` is left as None, by objective (ranking logits want a lighter penalty)
    default_l2: ClassVar[dict[str, float]] = {"rating": 0.1, "ranking": 0.01}

    def __post_init__(self) -> None:
        if self.l2 is None and self.objective in self.default_l2:
            object.__setattr__(self, "l2", self.default_l2[self.objective])
        super().__post_init__()


MAX_LAYERS = 8
MAX_UNITS = 4096


@dataclass(frozen=True)
class DeepConfig(KerasConfig):
    """Adds a dense tower: `layers` sizes (ReLU) and `dropout` between them."""

    factors: int = 32
    layers: tuple[int, ...] = hyper((64, 32), "sizes", "Dense layers",
                                    "sizes of the ReLU layers, first to last; deeper towers do not help these models "
                                    "and their cost grows with every layer",
                                    low=1, high=MAX_UNITS, max_count=MAX_LAYERS, page=True)
    dropout: float = hyper(0.0, "float", "Dropout", "fraction of units dropped between dense layers", low=0.0,
                           high=0.9, search=(0.0, 0.5))
    learning_rate: float = 0.002


TRAINERS = ("keras", "compiled")


@dataclass(frozen=True)
class DotConfig(KerasConfig):
    """The dot-product models (mf, biased-mf, recommender-net) can also train compiled: the same
    loss, gradients and row-sparse Adam in one compiled loop (`recsys.models.factor_training`)."""

    trainer: str = hyper("keras", "choice", "Trainer",
                         "keras: Keras' fit; compiled: the same loss, gradients and Adam in a compiled loop, several "
                         "times faster (rating objective, one device)", choices=TRAINERS)

    def validate(self) -> None:
        super().validate()
        if self.trainer == "compiled" and (self.objective != "rating" or self.strategy != "default"):
            raise ConfigError("trainer=compiled trains the rating objective on one device: set objective=rating "
                              "and strategy=default, or trainer=keras")


@dataclass(frozen=True)
class RecommenderNetConfig(DotConfig):
    """RecommenderNet works in logit space, where a lighter L2 fits best."""

    default_l2: ClassVar[dict[str, float]] = {"rating": 0.01, "ranking": 0.01}
