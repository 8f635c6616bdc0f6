"""A training process for fault injection: trains (or loads) one small model per seed, one after
another, on the embedded mini dataset, and prints one line per finished seed. The test kills it
with SIGKILL at random moments and checks what it left behind.

    python -m tests.robustness.fault_child ROOT MODEL SEEDS
"""
from __future__ import annotations

import importlib
import sys

from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.store.artifacts import ArtifactStore
from recsys.work.training import train

SPLIT = Split(fraction=0.25)


def config(model: str, seed: int) -> dict:
    """Settings that differ by seed only, so every seed is its own artifact."""
    extra = {"factors": 2, "epochs": 3} if model != "biases" else {}
    return {"seed": seed, **extra}


def main(root: str, model: str, seeds: int) -> int:
    store, dataset = ArtifactStore(root), mini_dataset()
    if model != "biases":
        importlib.import_module("keras")  # so the kills land in training and saving, not in the import
    print("ready", flush=True)
    for seed in range(seeds):
        result = train(dataset, model, config(model, seed), SPLIT, store=store)
        print(f"seed {seed} {'loaded' if result.loaded else 'trained'} {result.key}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
