"""`recsys compare`: models on one split with intervals, paired tests, segments and beyond accuracy."""
from __future__ import annotations

import time
from pathlib import Path

from recsys.cli.common import (
    load_dataset,
    resolved_request,
    run_training,
    split_from,
)
from recsys.errors import ConfigError
from recsys.evaluation.compare import MODEL_COLUMNS, comparison
from recsys.evaluation.confidence import verdict
from recsys.evaluation.external import external_model
from recsys.store.artifacts import ArtifactStore


def cmd_compare(args) -> int:
    """Models on one split with intervals, paired tests, segments and beyond-accuracy measures."""
    dataset = load_dataset(args)
    split = split_from(args)
    labels = [label.strip() for label in args.models.split(",") if label.strip()]
    if len(labels) + len(args.external) < 1:
        raise ConfigError("--models needs at least one model (or give --external NAME=FILE)")
    store, started = ArtifactStore(), time.perf_counter()
    models = {label: run_training(dataset, resolved_request(dataset, label, split), store, args.retrain, quiet=True).model
              for label in labels}
    for given in args.external:
        name, _, path = given.partition("=")
        if not name.strip() or not path:
            raise ConfigError(f"--external wants NAME=FILE, got {given!r}")
        if name.strip() in models:
            raise ConfigError(f"two models are called {name.strip()!r}; give the external one another name")
        model = external_model(name, Path(path), dataset, split)
        models[model.label] = model
        print(f"{model.label}: {model.results.rows:,} {model.results.kind} rows from {path} checked against the split")
    result = comparison(dataset, split, models, resamples=args.resamples, seed=args.seed)
    table = result.models[[c for c in MODEL_COLUMNS if c in result.models]]
    print(f"\n{dataset.name}, {split.label()}: 95% intervals by bootstrap over test users ({args.resamples:,} "
          "resamples); top-10, relevant = rating >= 4")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))
    if len(result.pairs):
        print("\nPairs (diff = a - b; paired bootstrap interval; paired permutation test, Holm over the pairs):")
        print(result.pairs.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-"))
        print()
        for _, row in result.pairs.iterrows():
            print(f"- {verdict(row)}")
    print(f"\n{len(models)} model(s) compared in {time.perf_counter() - started:.1f}s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "models.csv", index=False)
        result.pairs.to_csv(out / "pairs.csv", index=False)
        result.segments.to_csv(out / "segments.csv", index=False)
        print(f"wrote {out / 'models.csv'}, {out / 'pairs.csv'} and {out / 'segments.csv'}")
    return 0


