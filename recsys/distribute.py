"""TensorFlow's own distribution engine for the Keras models' training (`strategy` setting).

- `default`: one device (TensorFlow's default strategy).
- `mirrored`: `tf.distribute.MirroredStrategy` over this machine's devices: every GPU, or, with
  none, every logical CPU device (one unless the process split its CPU with
  `tf.config.set_logical_device_configuration`). Keras' `fit` splits each global batch across
  the replicas and all-reduces the gradients; the sparse embedding gradients travel as
  `IndexedSlices`, which the row-sparse Adam applies row by row on every replica.
- `multi-worker`: `tf.distribute.MultiWorkerMirroredStrategy` across processes or machines named
  by `TF_CONFIG` (each worker runs the same command with its own task index). TensorFlow requires
  this strategy to be created before any other TensorFlow operation in the process, so a worker
  calls `strategy_for("multi-worker")` first thing (the CLI does).

The model trained under any of them is saved as an ordinary `.keras` file that loads anywhere
without the strategy."""
from __future__ import annotations

import json
import os

from recsys.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi-worker")
_made: dict[str, object] = {}


def check_strategy(name: object) -> str:
    if name not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    return str(name)


def strategy_for(name: str):
    """The `tf.distribute.Strategy` for a setting; made once per process and reused."""
    check_strategy(name)
    if name in _made:
        return _made[name]
    import tensorflow as tf

    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        strategy = tf.distribute.MirroredStrategy(devices=devices,
                                                  cross_device_ops=None if gpus else tf.distribute.ReductionToOneDevice())
    else:
        config = os.environ.get("TF_CONFIG", "")
        try:
            cluster = json.loads(config)["cluster"]["worker"] if config else None
        except (ValueError, KeyError, TypeError):
            cluster = None
        if not cluster:
            raise ConfigError("multi-worker training needs TF_CONFIG naming the workers, e.g. "
                              '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
                              '"index": 0}}, set on every worker')
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _made[name] = strategy
    return strategy


def replicas(name: str) -> int:
    """How many replicas a setting trains on here (after creating its strategy)."""
    return int(strategy_for(name).num_replicas_in_sync)
