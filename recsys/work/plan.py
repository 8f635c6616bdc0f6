"""A request for a model, resolved once into a frozen value: what trains (the model and its
validated config), on which split, under which artifact key, at what cost, and why it cannot
train on this data ("" when it can). Training, the job runner, the CLI, the pages and the bench
receive this value and never work any of it out again."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

from recsys.budget import Cost, Shape
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.distribute import check_strategy
from recsys.errors import ConfigError
from recsys.models import ModelConfig, model_class
from recsys.store.artifacts import artifact_key


@dataclass(frozen=True)
class Plan:
    """What a request trains and what it costs, worked out once."""

    model: str
    config: ModelConfig
    split: Split
    key: str
    cost: Cost
    refusal: str


def resolve_config(model_name: str, config: ModelConfig | Mapping | None) -> ModelConfig:
    """A validated config for `model_name` from a config object, a dict of overrides or None."""
    cls = model_class(model_name)
    if config is None:
        return cls.config_type()
    if isinstance(config, ModelConfig):
        return config
    return cls.config_type.from_dict(dict(config))


def with_strategy(model_name: str, config: ModelConfig, strategy: str) -> ModelConfig:
    """`config` trained under a tf.distribute strategy (default, mirrored, multi-worker); the Keras
    models only. The strategy is not part of the artifact key: the model is the same."""
    if not hasattr(config, "strategy"):
        raise ConfigError(f"{model_name} does not train with tf.distribute; the Keras models do")
    return dataclasses.replace(config, strategy=check_strategy(strategy))


def plan(dataset: Dataset, model_name: str, config: ModelConfig | Mapping | None = None, split: Split = Split(),
         strategy: str | None = None) -> Plan:
    """The one resolution of (model, settings, split) on a dataset: config, key, cost, refusal."""
    config = resolve_config(model_name, config)
    if strategy is not None:
        config = with_strategy(model_name, config, strategy)
    cls = model_class(model_name)
    shape = Shape(dataset.n_users, dataset.n_items, dataset.n_ratings)  # an upper bound for any split's part
    return Plan(model_name, config, split, artifact_key(dataset.fingerprint, split, model_name, config),
                cls.estimate(config, shape), cls.refuses(config, shape))
