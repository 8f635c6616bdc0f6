"""What a training will cost, checked before it starts.

Every model states its cost for a data shape (`Recommender.estimate`): parameters, and the peak
memory its training is expected to take (embeddings with their optimiser slots, dense matrices
such as EASE's items x items Gram matrix, the training arrays). `check` refuses a run whose
estimate exceeds the per-model budget, and the job runner refuses a job that would take the
running and queued jobs past the server budget. Both budgets are configurable:
RECSYS_MODEL_BUDGET_MB (default 4096) and RECSYS_SERVER_BUDGET_MB (default 12288).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from recsys.errors import ConfigError

MIB = 1024**2
DEFAULT_MODEL_BUDGET_MB = 4096
DEFAULT_SERVER_BUDGET_MB = 12288
RATING_ROW_BYTES = 48  # a training row as the models hold it: ids, rating, copies for shuffling and validation


class BudgetError(ConfigError):
    """A run whose estimated cost is over a budget; raised before any work starts."""


@dataclass(frozen=True)
class Shape:
    """The size of the data a model is fitted on."""

    n_users: int
    n_items: int
    n_ratings: int


@dataclass(frozen=True)
class Cost:
    """A model's estimated parameters and peak training memory, with what dominates it."""

    parameters: int
    bytes: int
    detail: str

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.parameters + other.parameters, self.bytes + other.bytes, f"{self.detail}; {other.detail}")

    def describe(self) -> str:
        return f"about {human_bytes(self.bytes)} while training, {self.parameters:,} parameters ({self.detail})"


def human_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} TiB"


def rows_cost(shape: Shape) -> int:
    return shape.n_ratings * RATING_ROW_BYTES


def megabytes(variable: str, default: int) -> int:
    """Bytes from an environment variable in MiB (or the default MiB); a bad value is refused."""
    text = os.environ.get(variable, "")
    if not text:
        return default * MIB
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{variable} must be a whole number of MiB, got {text!r}") from None
    if value < 1:
        raise ConfigError(f"{variable} must be at least 1 MiB, got {value}")
    return value * MIB


def model_budget() -> int:
    """Bytes one training may take (RECSYS_MODEL_BUDGET_MB, default 4096 MiB)."""
    return megabytes("RECSYS_MODEL_BUDGET_MB", DEFAULT_MODEL_BUDGET_MB)


def server_budget() -> int:
    """Bytes all running and queued trainings of one server may take together
    (RECSYS_SERVER_BUDGET_MB, default 12288 MiB)."""
    return megabytes("RECSYS_SERVER_BUDGET_MB", DEFAULT_SERVER_BUDGET_MB)


def check(model_name: str, cost: Cost, budget: int | None = None) -> None:
    """Refuse a run whose estimate is over the per-model budget, saying what it would cost."""
    budget = model_budget() if budget is None else budget
    if cost.bytes > budget:
        raise BudgetError(f"{model_name} with these settings would need {cost.describe()}: more than the "
                          f"budget of {human_bytes(budget)} per training (RECSYS_MODEL_BUDGET_MB). Use fewer "
                          "factors, smaller or fewer layers, or a smaller dataset.")


def dense_refusal(model: str, matrix: str, cells: int, most: int, use: str) -> str:
    """Why a model that holds a dense matrix refuses this one ("" when it fits within `most`)."""
    return "" if cells <= most else (f"{model} works on a dense {matrix} matrix: {cells:,} cells is more than "
                                     f"max_cells ({most:,}); use it on {use}")
