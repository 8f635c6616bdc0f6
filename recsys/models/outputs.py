"""What models hand back: top-k lists, latent vectors, and the helpers that make a list (the
ranking-only mixin, k checked, the vectorised partial sort)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from recsys.errors import ConfigError

FALLBACK_LABEL = "predicted rating for a new user (mean + newcomer offset + movie bias)"


@dataclass(frozen=True)
class Recommendations:
    """Top-k item indices with their scores, best first. `fallback` is True when the list comes
    from the bias fallback because the model knows nothing of the user."""

    items: np.ndarray
    scores: np.ndarray
    score_label: str = "predicted rating"
    fallback: bool = False
    #: the scores the list is ranked by, where clipping makes several of `scores` tie (predictions
    #: above the top of the scale are reported clipped but rank by their own values); else None
    ranked_by: np.ndarray | None = None


@dataclass(frozen=True)
class Factors:
    """Latent vectors: one row per user and one per item (index order)."""

    users: np.ndarray
    items: np.ndarray
    #: how unsure the model is of each vector (a Bayesian model's posterior spread), where it knows
    user_spread: np.ndarray | None = None
    item_spread: np.ndarray | None = None


class RankingOnly:
    """Mixin for models trained for top-k lists only: their scores are preferences, not ratings."""

    blendable: ClassVar[bool] = False

    @property
    def predicts_ratings(self) -> bool:
        return False

    @property
    def score_label(self) -> str:
        return "preference score"

    def scores_to_output(self, scores: np.ndarray) -> np.ndarray:
        return scores


def check_k(k: object) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a positive whole number, got {k!r}")


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (vectorised partial sort)."""
    k = min(k, scores.size)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
