"""Train a small Keras model under a tf.distribute strategy in a fresh process (the logical CPU
split and MultiWorkerMirroredStrategy must come before any other TensorFlow operation) and print
its results as JSON. Used by test_distribute.py and bench/speed.py --parts distribute."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategies", default="default")
    parser.add_argument("--logical-cpus", type=int, default=1)
    parser.add_argument("--models", default="mf")
    parser.add_argument("--ratings", type=int, default=20_000, help="the first N ratings of ml-latest-small")
    parser.add_argument("--synthetic", type=int, default=0, help="synthetic ratings instead (benchmarks)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--save", help="artifact store folder: save the first model trained there")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    import tensorflow as tf

    if args.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    from recsys.distribute import replicas, strategy_for

    if "multi-worker" in strategies:
        strategy_for("multi-worker")
    import numpy as np

    from recsys.data import sources
    from recsys.evaluation.evaluate import rmse
    from recsys.models import make_model

    if args.synthetic:
        from recsys.data.synthetic import synthetic_dataset

        ratings = synthetic_dataset(args.synthetic, seed=0).ratings
    else:
        ratings = sources.load("ml-latest-small", download=False).ratings.take(np.arange(args.ratings))
    rows = np.random.default_rng(0).permutation(len(ratings))
    cut = len(ratings) // 5
    train, test = ratings.take(np.sort(rows[cut:])), ratings.take(np.sort(rows[:cut]))
    results = []
    for model_name in args.models.split(","):
        for strategy in strategies:
            label, extra = (model_name[:-8], {"objective": "ranking"}) if model_name.endswith("-ranking") else (model_name, {})
            model = make_model(label, epochs=args.epochs, batch_size=args.batch, refit=False, strategy=strategy, **extra)
            logs = []
            started = time.perf_counter()
            model.fit(train, callbacks=[logs.append])
            seconds = time.perf_counter() - started
            predictions = model.predict(test.users[:50], test.items[:50])
            results.append({"model": model_name, "strategy": strategy, "replicas": replicas(strategy),
                            "rmse": rmse(model.predict(test.users, test.items), test.values) if not extra else None,
                            "loss": logs[-1].loss, "seconds": seconds, "epoch_s": [log.seconds for log in logs],
                            "ratings": len(train), "predictions": np.asarray(predictions).tolist()})
    if args.save:
        results.append(save_trained(Path(args.save), strategies[-1]))
    print(json.dumps(results))


def save_trained(root: Path, strategy: str) -> dict:
    """Train mf through `recsys.work.training.train` under `strategy` into a store at `root`."""
    from recsys.data import sources
    from recsys.store.artifacts import ArtifactStore
    from recsys.work.training import train

    dataset = sources.load("ml-latest-small", download=False)
    result = train(dataset, "mf", {"epochs": 2, "refit": False}, store=ArtifactStore(root), strategy=strategy)
    users, items = dataset.ratings.users[:20], dataset.ratings.items[:20]
    return {"key": result.key, "predictions": result.model.predict(users, items).tolist(),
            "strategy": result.model.config.strategy}


if __name__ == "__main__":
    main()
