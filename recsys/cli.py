"""`python -m recsys`: data, train, evaluate, recommend and artifacts from the command line."""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from recsys.work import request

from recsys.data import sources
from recsys.store.artifacts import ArtifactStore, FOLDER_PATTERN
from recsys.evaluation.beyond_accuracy import BEYOND_COLUMNS
from recsys.evaluation.compare import MODEL_COLUMNS, comparison
from recsys.evaluation.confidence import verdict
from recsys.work.catalog import (DEFAULT_EVALUATION, DEFAULT_FACTOR_MODEL, DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL, Preset,
                            all_labels, preset)
from recsys.data.dataset import Dataset
from recsys.distribute import STRATEGIES, strategy_for
from recsys.errors import ArtifactError, ConfigError, RecsysError
from recsys.evaluation.evaluate import GROUP_COLUMNS, summarise_folds
from recsys.work.jobs import FAILED, JobRunner
from recsys.models import MODELS, model_class
from recsys.models.params import declared
from recsys.explain.recommend import for_user
from recsys.data.split import KINDS, Split, fold_splits
from recsys.data.stats import rating_histogram, summary
from recsys.work.training import ProgressPrinter, TrainResult
from recsys.data.upload import SCALES, read_ratings_file

TABLE_COLUMNS = ["model", "rmse", "mae", "precision", "recall", "ndcg", "hit_rate", "map", *BEYOND_COLUMNS,
                 "fit_seconds", "source"]


def _parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _overrides(pairs: Sequence[str]) -> dict:
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        values[name.strip()] = _parse_value(value.strip())
    return values


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _download_progress(done: int, total: int) -> None:
    if total:
        _err(f"\r  downloading {done / 1e6:.1f} / {total / 1e6:.1f} MB ({100 * done / total:.0f}%)")


def _load(args) -> Dataset:
    if getattr(args, "file", None):
        dataset = read_ratings_file(args.file, name=f"file:{Path(args.file).name}", scale=SCALES[args.scale],
                                    items_source=getattr(args, "items", None))
        for note in dataset.notes:
            _err(f"  note: {note}")
        return dataset
    return sources.load(args.dataset, path=getattr(args, "path", None), progress=_download_progress)


def _split(args) -> Split:
    if args.before and args.split != "time":
        raise ConfigError("--before needs --split time")
    if args.split == "official":
        return Split("official", name=args.fold_name)
    if args.split == "kfold":
        return Split("kfold", seed=args.seed, folds=args.folds, fold=0)
    if args.split == "full":
        return Split("full", seed=args.seed)
    if args.split == "time":
        return Split("time", fraction=args.fraction, before=args.before or "")
    return Split(args.split, fraction=args.fraction, seed=args.seed)


def cmd_data(args) -> int:
    if args.action == "list":
        for spec in sources.REGISTRY.values():
            print(f"{spec.name:16} {spec.description}")
        return 0
    if args.action == "check":
        if not args.file:
            raise ConfigError("`data check` needs --file PATH (a ratings CSV, or a zip holding one)")
        dataset = _load(args)
        titled = sum(not title.startswith("movie ") for title in dataset.titles(range(dataset.n_items)))
        print(f"{args.file} is valid: {dataset.n_ratings:,} ratings, {dataset.n_users:,} users, "
              f"{dataset.n_items:,} items ({titled:,} with titles)")
        for note in dataset.notes:
            print(f"note: {note}")
        return 0
    if not args.name:
        raise ConfigError(f"`data {args.action}` needs a dataset name")
    if args.action == "fetch":
        folder = sources.locate(args.name, progress=_download_progress)
        print(f"{args.name} is available at {folder}")
        return 0
    dataset = sources.load(args.name, progress=_download_progress)
    for key, value in summary(dataset).items():
        print(f"{key:>18}: {value}")
    histogram = rating_histogram(dataset)
    width = 50 / max(histogram["count"].max(), 1)
    print("  rating histogram:")
    for row in histogram.itertuples():
        print(f"    {row.rating:>4g} {'#' * int(round(row.count * width)):<50} {row.count:,}")
    return 0


class Interrupted(RecsysError):
    """Ctrl-C during a training job: the job was stopped and nothing was saved."""


def _run(dataset: Dataset, chosen: Preset, split: Split, store: ArtifactStore, retrain: bool,
         quiet: bool = False) -> TrainResult:
    """Train (or load) through the job runner, in the foreground, printing its epochs as they come;
    Ctrl-C stops the job after its current batch."""
    printer = ProgressPrinter(chosen.label, write=_err) if not quiet else None
    runner = JobRunner(workers=1, store=store)
    try:
        view = runner.submit(dataset, chosen.model, chosen.overrides, split, retrain=retrain, label=chosen.label)
        shown = 0
        try:
            while view.active:
                view = runner.wait(view.key, timeout=0.25)
                for log in view.logs[shown:]:
                    if printer:
                        printer(log)
                shown = len(view.logs)
        except KeyboardInterrupt:
            runner.stop(view.key)
            runner.wait(view.key, timeout=60)
            raise Interrupted(f"{chosen.label}: stopped; nothing was saved") from None
    finally:
        runner.shutdown()
    if view.state == FAILED:
        raise view.failure if isinstance(view.failure, RecsysError) else RecsysError(view.error)
    result = view.result
    for note in result.notes:
        _err(f"  note: {note}")
    return result


def _strategy_overrides(args) -> dict:
    """--strategy as a hyper-parameter override (the Keras models' `strategy`)."""
    return {} if args.strategy == "default" else {"strategy": args.strategy}


def cmd_train(args) -> int:
    dataset = _load(args)
    overrides = {**_overrides(args.set), **_strategy_overrides(args)}
    if "strategy" in overrides and not model_class(preset(args.model).model).distributes:
        raise ConfigError(f"{args.model} does not train with tf.distribute; --strategy applies to "
                          f"{', '.join(name for name, cls in MODELS.items() if cls.distributes)}")
    chosen = _resolved(dataset, args.model, _split(args), overrides)
    started = time.perf_counter()
    result = _run(dataset, chosen, _split(args), ArtifactStore(), args.retrain)
    source = "loaded from cache" if result.loaded else f"trained in {result.fit_seconds:.1f}s"
    print(f"{chosen.label} on {dataset.name} ({_split(args).label()}): {source}; artifact {result.path}")
    for name, value in result.metrics.items():
        if isinstance(value, float) and math.isnan(value):
            continue  # e.g. NDCG of new users on a split where no test user is new
        print(f"  {name:>16}: {value:.4f}" if isinstance(value, float) else f"  {name:>16}: {value:,}")
    if not result.metrics:
        print("  no test part (full split): nothing to score")
    print(f"  total {time.perf_counter() - started:.1f}s")
    return 0


def cmd_evaluate(args) -> int:
    dataset = _load(args)
    labels = args.models.split(",") if args.models else list(DEFAULT_EVALUATION)
    overrides = {**_overrides(args.set), **_strategy_overrides(args)}  # applied where a model has the setting
    splits = fold_splits(dataset, args.folds, args.seed) if args.split == "folds" else [_split(args)]
    if not splits[0].has_test:
        raise ConfigError("the full split has no test part to evaluate on; choose another --split")
    store, rows, started = ArtifactStore(), [], time.perf_counter()
    for label in labels:
        chosen = preset(label.strip())
        for split in splits:
            try:
                result = _run(dataset, _resolved(dataset, chosen.label, split, overrides, only_known=True),
                              split, store, args.retrain, quiet=args.quiet)
            except ConfigError as error:
                _err(f"  skipped {chosen.label}: {error}")
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


def cmd_compare(args) -> int:
    """Models on one split with intervals, paired tests, segments and beyond-accuracy measures."""
    dataset = _load(args)
    split = _split(args)
    labels = [label.strip() for label in args.models.split(",") if label.strip()]
    if len(labels) < 1:
        raise ConfigError("--models needs at least one model")
    store, started = ArtifactStore(), time.perf_counter()
    models = {label: _run(dataset, _resolved(dataset, label, split), split, store, args.retrain, quiet=True).model
              for label in labels}
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
    print(f"\n{len(labels)} model(s) compared in {time.perf_counter() - started:.1f}s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "models.csv", index=False)
        result.pairs.to_csv(out / "pairs.csv", index=False)
        result.segments.to_csv(out / "segments.csv", index=False)
        print(f"wrote {out / 'models.csv'}, {out / 'pairs.csv'} and {out / 'segments.csv'}")
    return 0


def cmd_tune(args) -> int:
    """Search a model's declared ranges with Optuna; a line per trial, then the best settings."""
    from recsys.work import tuning

    if args.list:
        rows = tuning.list_studies(args.storage)
        if not rows:
            print("no studies yet")
        for row in rows:
            best = "-" if row["best"] is None else f"{row['best']:.4f}"
            print(f"{row['study']}: {row['trials']} trials, best {best}")
        return 0
    if not args.model:
        raise ConfigError("tune needs --model (or --list)")
    dataset = _load(args)
    tuner = tuning.Tuner(dataset, args.model, _split(args), args.metric, args.storage, args.study, args.seed)
    print(f"study {tuner.study.study_name}: {args.model} on {dataset.name} ({_split(args).label()}), "
          f"{tuner.metric} on a held-out 10% of the training part; searching {', '.join(tuner.params)}")

    def line(report) -> None:
        value = "-" if report.value is None else f"{report.value:.4f}"
        settings = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in report.params.items())
        print(f"trial {report.number:3d} {report.state:8s} {tuner.metric} {value}  {settings}  ({report.seconds:.1f}s)",
              flush=True)

    started = time.perf_counter()
    try:
        tuner.run(args.trials, args.timeout, on_trial=line)
    except KeyboardInterrupt:
        tuner.stop.set()
        _err("interrupted: the study keeps its finished trials; run the same command to resume")
        return 130
    best = tuner.best
    counts = ", ".join(f"{n} {state}" for state, n in sorted(tuner.counts().items()))
    print(f"\n{counts} in this study; this run took {time.perf_counter() - started:.1f}s")
    if best is None:
        print("no trial finished yet")
        return 1
    settings, value = best
    print(f"best {tuner.metric} {value:.4f} (tuning validation): " +
          " ".join(f"--set {k}={v:.6g}" if isinstance(v, float) else f"--set {k}={v}" for k, v in settings.items()))
    record = tuner.save_best()
    print(f"saved as {record.label}: every page and command accepts it as a model name")
    scores = {} if args.no_test else tuner.test_scores()
    if scores:
        print(f"test {tuner.metric}: " + ", ".join(f"{label} {score:.4f}" for label, score in scores.items()))
    print(tuning.outcome(record, scores).sentence)
    return 0


def _resolved(dataset: Dataset, label: str, split: Split, overrides: dict | None = None,
              only_known: bool = False) -> Preset:
    """The request through the one request layer (per-size settings included, as on the pages),
    as the preset `_run` trains; the per-size sentence goes to stderr."""
    resolved = request.resolve(dataset, label, split, overrides, only_known=only_known)
    if resolved.size_note:
        _err(f"at this size: {resolved.size_note}")
    return resolved.preset


def cmd_recommend(args) -> int:
    dataset = _load(args)
    user = dataset.user_index(args.user)
    split = _split(args)
    chosen = _resolved(dataset, args.model, split)
    result = _run(dataset, chosen, split, ArtifactStore(), retrain=False)
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

    dataset = _load(args)
    split = _split(args)
    chosen = _resolved(dataset, args.model, split)
    result = _run(dataset, chosen, split, ArtifactStore(), retrain=False)
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


SET_HELP = "a hyper-parameter, repeatable; `recsys params MODEL` lists each model's with their ranges"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys", description="Latent-factor recommenders on MovieLens.")
    sub = parser.add_subparsers(dest="command", required=True)

    def strategy_arg(p):
        p.add_argument("--strategy", default="default", choices=list(STRATEGIES),
                       help="tf.distribute for the Keras models: one device (default), every local GPU or logical "
                            "CPU (mirrored), or the workers TF_CONFIG names (multi-worker: run the same command on "
                            "each worker)")

    def scale_arg(p):
        p.add_argument("--scale", default="auto", choices=list(SCALES),
                       help="rating scale of --file: auto (default: whole stars 1-5 when every rating is a whole "
                            "number from 1 to 5, else 0.5-5 in halves), half-stars or whole-stars")
        p.add_argument("--items", help="the movies file of --file (movies.csv, movies.dat or u.item) for titles "
                       "and genres; MovieLens' own is found beside --file without it")

    data = sub.add_parser("data", help="list, fetch or describe datasets")
    data.add_argument("action", choices=["list", "fetch", "info", "check"])
    data.add_argument("name", nargs="?", choices=list(sources.REGISTRY))
    data.add_argument("--file", help="a ratings file to validate (check)")
    scale_arg(data)
    data.set_defaults(run=cmd_data)

    def dataset_args(p, default_split="holdout"):
        evaluating = p.prog.endswith("evaluate")
        kinds = [k for k in KINDS if not (evaluating and k == "full")] + (["folds"] if evaluating else [])
        p.add_argument("--dataset", default="ml-latest-small", choices=list(sources.REGISTRY))
        p.add_argument("--path", help="folder holding the dataset's files (overrides the search)")
        p.add_argument("--file", help="your own ratings file (CSV or zip; columns user, item, rating"
                       "[, timestamp]) instead of --dataset")
        scale_arg(p)
        p.add_argument("--split", default=default_split, choices=kinds,
                       help="holdout: random; temporal: each user's last ratings; time: train on the past, "
                            "test on the future; full: every rating trains (no test part)")
        p.add_argument("--fraction", type=float, default=0.2, help="test fraction (holdout, temporal, time)")
        p.add_argument("--before", help="time split: the cut date (YYYY-MM-DD, UTC); later ratings are test")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--folds", type=int, default=5)
        p.add_argument("--fold-name", default="u1", help="official ml-100k fold (u1-u5, ua, ub)")

    tr = sub.add_parser("train", help="train one model (or load it from the cache)")
    dataset_args(tr)
    tr.add_argument("--model", default=DEFAULT_RATING_MODEL, choices=all_labels())
    tr.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    strategy_arg(tr)
    tr.add_argument("--retrain", action="store_true")
    tr.set_defaults(run=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate models over a split or folds")
    dataset_args(ev)
    ev.add_argument("--models", help=f"comma-separated; default: {','.join(DEFAULT_EVALUATION)}")
    ev.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help=SET_HELP + "; applied to each model that has the setting")
    strategy_arg(ev)
    ev.add_argument("--retrain", action="store_true")
    ev.add_argument("--k", type=int, default=10, choices=[10])
    ev.add_argument("--csv", help="also write the table as CSV")
    ev.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    ev.set_defaults(run=cmd_evaluate)

    rec = sub.add_parser("recommend", help="top-k movies for one user")
    dataset_args(rec, default_split="full")
    rec.add_argument("--model", default=DEFAULT_RANKING_MODEL, choices=all_labels())
    rec.add_argument("--user", required=True, help="raw user id as in the dataset")
    rec.add_argument("-k", type=int, default=10)
    rec.set_defaults(run=cmd_recommend)

    fac = sub.add_parser("factors", help="export a model's latent vectors (Embedding Projector format)")
    fac.add_argument("action", choices=["export"])
    dataset_args(fac, default_split="full")
    fac.add_argument("--model", default=DEFAULT_FACTOR_MODEL, choices=all_labels())
    fac.add_argument("--out", required=True, help="folder for vectors.tsv and metadata.tsv")
    fac.add_argument("--users", action="store_true", help="user vectors instead of movie vectors")
    fac.set_defaults(run=cmd_factors)

    cmp = sub.add_parser("compare", help="models on one split: intervals, paired tests, segments, beyond accuracy")
    dataset_args(cmp)
    cmp.add_argument("--models", default="biases,biased-mf,recommender-net,blend",
                     help="comma-separated model labels")
    cmp.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples over test users")
    cmp.add_argument("--out", help="folder for models.csv, pairs.csv and segments.csv")
    cmp.add_argument("--retrain", action="store_true")
    cmp.set_defaults(run=cmd_compare)

    tun = sub.add_parser("tune", help="search a model's declared ranges with Optuna (resumable)")
    dataset_args(tun)
    tun.add_argument("--model", choices=all_labels())
    tun.add_argument("--metric", choices=["rmse", "ndcg"], help="default: rmse for rating models, ndcg for ranking")
    tun.add_argument("--trials", type=int, default=20, help="trials to run now (a resumed study adds them)")
    tun.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    tun.add_argument("--storage", help="Optuna storage URL, or a journal file (*.log) several processes share; "
                     "default: artifacts/studies/studies.db")
    tun.add_argument("--study", help="study name (default: dataset, split, model and metric)")
    tun.add_argument("--list", action="store_true", help="list the studies in the storage")
    tun.add_argument("--no-test", action="store_true", help="skip training default and tuned on the whole training "
                     "part to report their test scores")
    tun.set_defaults(run=cmd_tune)

    par = sub.add_parser("params", help="a model's hyper-parameters: defaults, accepted values, meaning")
    par.add_argument("model", choices=all_labels())
    par.set_defaults(run=cmd_params)

    art = sub.add_parser("artifacts", help="list or remove cached models")
    art.add_argument("action", choices=["list", "rm"])
    art.add_argument("name", nargs="?", help="artifact folder name (for rm)")
    art.set_defaults(run=cmd_artifacts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "strategy", "default") == "multi-worker":
            strategy_for("multi-worker")  # TensorFlow wants it before any other operation
        return args.run(args)
    except Interrupted as error:
        _err(f"interrupted: {error}")
        return 130
    except RecsysError as error:
        _err(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        _err("interrupted; nothing partial was saved")
        return 130
