"""Every model behind one interface, by name."""
from __future__ import annotations

from recsys.models.als import ALS
from recsys.models.autorec import AutoRec
from recsys.models.base import Recommender
from recsys.models.baselines import IALS, NMF, Biases, GlobalMean, Popular
from recsys.models.bayes_fm import BayesFM
from recsys.models.blend import Blend
from recsys.models.config import ModelConfig
from recsys.models.keras_models import GMF, MF, MLP, BiasedMF, DeepMF, KerasRecommender, NeuMF, RecommenderNet
from recsys.models.loop import EpochLog, History
from recsys.models.neighbours import EASE, ItemKNN
from recsys.models.outputs import Factors, Recommendations, top_k_indices
from recsys.models.pure_svd import PureSVD
from recsys.models.registry import MODELS, make_model, model_class, register

register(GlobalMean, Popular, Biases, NMF, ItemKNN, MF, BiasedMF, DeepMF, RecommenderNet, GMF, MLP, NeuMF, AutoRec, ALS,
         IALS, EASE, PureSVD, BayesFM, Blend)


__all__ = ["MODELS", "model_class", "make_model", "Recommender", "ModelConfig", "History", "EpochLog",
           "Factors", "Recommendations", "KerasRecommender", "top_k_indices"]
