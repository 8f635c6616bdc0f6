"""One way in for every request: the CLI, the dashboard's pages and the bench ask for a model by
(dataset, label, split, overrides), and this resolves it once: preset -> per-size settings
(`catalog.size_defaults`) -> validated config -> artifact key -> cost. The same words from any
face mean the same model, the same key and nothing trained twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from recsys.budget import Cost
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.models import ModelConfig, model_class
from recsys.store.artifacts import ArtifactStore
from recsys.work.catalog import Preset, known_parameters, preset, size_defaults
from recsys.work.plan import Plan, plan
from recsys.work.training import TrainResult, lookup_plan


@dataclass(frozen=True)
class Resolved:
    """A request resolved: the model and config it trains, its artifact key, and the sentence a
    face shows about per-size settings ("" when the defaults already suit the data's size)."""

    label: str
    plan: Plan
    size_note: str
    overrides: Mapping = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.plan.model

    @property
    def config(self) -> ModelConfig:
        return self.plan.config

    @property
    def split(self) -> Split:
        return self.plan.split

    @property
    def key(self) -> str:
        return self.plan.key

    @property
    def cost(self) -> Cost:
        return self.plan.cost

    @property
    def refusal(self) -> str:
        """Why it cannot train on this dataset ("" when it can)."""
        return self.plan.refusal

    @property
    def preset(self) -> Preset:
        return Preset(self.label, self.model, dict(self.overrides))

    @property
    def description(self) -> str:
        """What the model is, in a line."""
        return model_class(self.model).description

    @property
    def curve_note(self) -> str:
        """What its training curves show when they are not the whole run ("" when they are)."""
        return model_class(self.model).curve_note

    @property
    def curve_step(self) -> str:
        """What one step of its training curve is ("epoch", "Gibbs iteration")."""
        return model_class(self.model).curve_step(self.config)


def resolve(dataset: Dataset, label: str, split: Split = Split(), overrides: Mapping | None = None,
            only_known: bool = False) -> Resolved:
    """Resolve a request: the per-size settings for this dataset under the caller's overrides
    (`only_known`: drop overrides the model has no setting for, as `evaluate --set` does over
    many models). Raises ConfigError for an unknown label or a bad setting."""
    scaled, note = size_defaults(label, dataset.n_ratings, dataset.n_items)
    overrides = dict(overrides or {})
    if only_known:
        names = known_parameters(preset(label).model)
        overrides = {k: v for k, v in overrides.items() if k in names}
    chosen = preset(label, **{**scaled, **overrides})
    return Resolved(label, plan(dataset, chosen.model, chosen.overrides, split), note, chosen.overrides)


def cost(dataset: Dataset, resolved: Resolved) -> Cost:
    """What training the resolved request costs on this dataset (worked out when it was resolved)."""
    return resolved.cost


def refusal(dataset: Dataset, resolved: Resolved) -> str:
    """Why the resolved request cannot train on this dataset ("" when it can): the one gate every
    face asks before offering a model, and the job runner before accepting it."""
    return resolved.refusal


def find_trained(dataset: Dataset, resolved: Resolved, store: ArtifactStore | None = None) -> TrainResult | None:
    """The trained model for the request from the artifact store, or None (never trains)."""
    return lookup_plan(resolved.plan, store)
