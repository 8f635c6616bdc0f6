"""Every model behind one interface, by name."""
from __future__ import annotations

from recsys.errors import ConfigError
from recsys.models.base import Factors, Recommendations, Recommender, top_k_indices
from recsys.models.config import ModelConfig
from recsys.models.loop import EpochLog, History
from recsys.models.baselines import IALS, NMF, Biases, GlobalMean, Popular
from recsys.models.autorec import AutoRec
from recsys.models.bayes_fm import BayesFM
from recsys.models.blend import Blend
from recsys.models.neighbours import EASE, ItemKNN
from recsys.models.pure_svd import PureSVD
from recsys.models.keras_models import (GMF, MF, MLP, BiasedMF, DeepMF, KerasRecommender, NeuMF,
                                        RecommenderNet)

MODELS: dict[str, type[Recommender]] = {cls.name: cls for cls in (
    GlobalMean, Popular, Biases, NMF, ItemKNN, MF, BiasedMF, DeepMF, RecommenderNet, GMF, MLP, NeuMF, AutoRec, IALS, EASE,
    PureSVD, BayesFM, Blend)}


def model_class(name: str) -> type[Recommender]:
    """The model class registered as `name`."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def make_model(name: str, **hyper_parameters) -> Recommender:
    """A new, unfitted model with validated hyper-parameters."""
    cls = model_class(name)
    return cls(cls.config_type.from_dict(hyper_parameters))


__all__ = ["MODELS", "model_class", "make_model", "Recommender", "ModelConfig", "History", "EpochLog",
           "Factors", "Recommendations", "KerasRecommender", "top_k_indices"]
