"""`recsys train`, `evaluate`, `recommend`, `factors`, `params` and `artifacts`: one model (or
several) trained, scored, asked for a top-k, exported, described or removed."""
from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from recsys.cli.common import (
    TABLE_COLUMNS,
    load_dataset,
    overrides_from,
    resolved_request,
    run_training,
    say_error,
    split_from,
)
from recsys.data.split import fold_splits
from recsys.errors import ArtifactError, ConfigError
from recsys.evaluation.evaluate import GROUP_COLUMNS, summarise_folds
from recsys.explain.recommend import for_user
from recsys.models import MODELS, model_class
from recsys.models.params import declared
from recsys.store.artifacts import FOLDER_PATTERN, ArtifactStore
from recsys.work.catalog import (
    DEFAULT_EVALUATION,
    preset,
)


def strategy_overrides(args) -> dict:
    """--strategy as a hyper-parameter override (the Keras models' `strategy`)."""
    return {} if args.strategy == "default" else {"strategy": args.strategy}


def cmd_train(args) -> int:
    dataset = load_dataset(args)
    overrides = {**overrides_from(args.set), **strategy_overrides(args)}
    if "strategy" in overrides and not model_class(preset(args.model).model).distributes:
        raise ConfigError(f"{args.model} does not train with tf.distribute; --strategy applies to "
                          f"{', '.join(name for name, cls in MODELS.items() if cls.distributes)}")
    chosen = resolved_request(dataset, args.model, split_from(args), overrides)
    started = time.perf_counter()
    result = run_training(dataset, chosen, ArtifactStore(), args.retrain)
    source = "loaded from cache" if result.loaded else f"trained in {result.fit_seconds:.1f}s"
    print(f"{chosen.label} on {dataset.name} ({split_from(args).label()}): {source}; artifact {result.path}")
    for name, value in result.metrics.items():
        if isinstance(value, float) and math.isnan(value):
            continue  # e.g. NDCG of new users on a split where no test user is new
        print(f"  {name:>16}: {value:.4f}" if isinstance(value, float) else f"  {name:>16}: {value:,}")
    if not result.metrics:
        print("  no test part (full split): nothing to score")
    print(f"  total {time.perf_counter() - started:.1f}s")
    return 0


def cmd_evaluate(args) -> int:
    dataset = load_dataset(args)
    labels = args.models.split(",") if args.models else list(DEFAULT_EVALUATION)
    overrides = {**overrides_from(args.set), **strategy_overrides(args)}  # applied where a model has the setting
    splits = fold_splits(dataset, args.folds, args.seed) if args.split == "folds" else [split_from(args)]
    if not splits[0].has_test:
        raise ConfigError("the full split has no test part to evaluate on; choose another --split")
    store, rows, started = ArtifactStore(), [], time.perf_counter()
    for label in labels:
        chosen = preset(label.strip())
        for split in splits:
            try:
                result = run_training(dataset, resolved_request(dataset, chosen.label, split, overrides, only_known=True),
                                      store, args.retrain, quiet=args.quiet)
            except ConfigError as error:
                say_error(f"  skipped {chosen.label}: {error}")
                break
            rows.append({"model": chosen.label, "split": split.label(), **result.metrics,
                         "fit_seconds": result.fit_seconds, "source": "cache" if result.loaded else "trained"})
    if not rows:
        raise ConfigError("no model could be evaluated")
    table = pd.DataFrame(rows)
    if len(splits) > 1:
        table = summarise_folds(table.drop(columns="source"))
    columns = [c for c in TABLE_COLUMNS if c in table] + [c for c in table if c.endswith("_std") and "seconds" not in c]
    print(f"\n{dataset.name}, {splits[0].label() if len(splits) == 1 else f'{len(splits)} folds'}, "
          f"top-{args.k} relevant = rating >= 4")
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))
    groups = ["model"] + [c for c in GROUP_COLUMNS if c in table]
    if len(groups) > 1:
        print("\nBy row group: warm = user and movie both in the model's training data; new_user = a user "
              "with no training rating; new_item = a known user's rating of a movie with none (n_ = rows, "
              "users_ = evaluated users)")
        print(table[groups].to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4f}"))
    print(f"\n{len(rows)} run(s) in {time.perf_counter() - started:.1f}s")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def cmd_recommend(args) -> int:
    dataset = load_dataset(args)
    user = dataset.user_index(args.user)
    split = split_from(args)
    chosen = resolved_request(dataset, args.model, split)
    result = run_training(dataset, chosen, ArtifactStore(), retrain=False)
    recs = for_user(result.model, dataset, user, k=args.k)
    print(f"top-{args.k} for user {args.user} by {chosen.label}, trained on {split.describe()} "
          f"({recs.score_label}); movies the user rated are left out:")
    if recs.note:
        print(f"  note: {recs.note}")
    for rank, row in enumerate(recs.table.itertuples(index=False), 1):
        print(f"  {rank:>2}. {row[1]:6.3f}  {row.title}  [{row.genres.replace(' | ', ', ')}]")
    return 0


def cmd_factors(args) -> int:
    """`factors export`: the model's movie (or user) vectors for the Embedding Projector."""
    from recsys.explain.projector import write_projector

    dataset = load_dataset(args)
    split = split_from(args)
    chosen = resolved_request(dataset, args.model, split)
    result = run_training(dataset, chosen, ArtifactStore(), retrain=False)
    written = write_projector(dataset, result.model, Path(args.out), users=args.users)
    what = "user" if args.users else "movie"
    rows = (dataset.n_users if args.users else dataset.n_items)
    print(f"wrote {rows:,} {what} vectors of {chosen.label} ({split.describe()}): " + ", ".join(map(str, written)))
    print("open https://projector.tensorflow.org, choose Load, and give it vectors.tsv then metadata.tsv")
    return 0


def cmd_params(args) -> int:
    """The hyper-parameters a model accepts: name, default, accepted values, what it does."""
    chosen = preset(args.model)
    config = model_class(chosen.model).config_type(**chosen.overrides)
    print(f"{chosen.label}: {model_class(chosen.model).description}")
    print("Set any of these with --set NAME=VALUE (lists as 64,32 or [64, 32]); * marks those a tuning run searches.")
    for name, param in declared(type(config)).items():
        value = getattr(config, name)
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
        mark = "*" if param.search is not None else " "
        print(f" {mark} {name} = {shown}  ({param.describe()}): {param.help or param.label}")
    return 0


def cmd_artifacts(args) -> int:
    store = ArtifactStore()
    if args.action == "list":
        table = store.entries()
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}") if len(table) else
              f"no artifacts in {store.root}")
        return 0
    match = FOLDER_PATTERN.match(args.name or "")
    if not match:
        raise ArtifactError(f"expected an artifact name like biased-mf-0123456789abcdef, got {args.name!r}")
    store.delete(match["model"], match["key"])
    print(f"deleted {args.name}")
    return 0


