"""The command line's arguments: one sub-command per task, each with its own help."""
from __future__ import annotations

import argparse
from typing import Sequence

from recsys.cli.common import (
    SET_HELP,
    Interrupted,
    say_error,
)
from recsys.cli.compare_command import cmd_compare
from recsys.cli.data_command import cmd_data, cmd_split
from recsys.cli.model_commands import cmd_artifacts, cmd_evaluate, cmd_factors, cmd_params, cmd_recommend, cmd_train
from recsys.cli.tune_command import cmd_tune
from recsys.data import sources
from recsys.data.split import KINDS
from recsys.data.upload import SCALES
from recsys.distribute import STRATEGIES, strategy_for
from recsys.errors import RecsysError
from recsys.work.catalog import (
    DEFAULT_EVALUATION,
    DEFAULT_FACTOR_MODEL,
    DEFAULT_RANKING_MODEL,
    DEFAULT_RATING_MODEL,
    all_labels,
)


def _columns_epilog() -> str:
    """What every number of `compare`'s tables means (each with _low/_high: its 95% interval)."""
    from recsys.evaluation import glossary
    from recsys.evaluation.compare import MODEL_COLUMNS

    names = [c for c in MODEL_COLUMNS if c != "model" and not c.endswith(("_low", "_high"))]
    lines = [f"  {name:<16} {glossary.label(name)}: {glossary.meaning(name)}" for name in names]
    return ("columns of the model table (models.csv); NAME_low and NAME_high bound its 95% interval:\n"
            + "\n".join(lines) + "\nsegments.csv adds age, gender and occupation where the dataset has them (ml-100k).")


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

    spl = sub.add_parser("split", help="export a split (train.csv, test.csv, manifest.json) to train a model elsewhere")
    spl.add_argument("action", choices=["export"])
    dataset_args(spl)
    spl.add_argument("--out", required=True, help="folder for train.csv, test.csv and manifest.json")
    spl.set_defaults(run=cmd_split)

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

    cmp = sub.add_parser("compare", help="models on one split: intervals, paired tests, segments, beyond accuracy",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_columns_epilog())
    dataset_args(cmp)
    cmp.add_argument("--models", default="biases,biased-mf,recommender-net,blend",
                     help="comma-separated model labels (may be empty with --external)")
    cmp.add_argument("--external", action="append", default=[], metavar="NAME=FILE",
                     help="a model trained elsewhere on this split (see `split export`): a CSV of user, item, "
                          "prediction (rating metrics) or user, item, rank|score (top-k metrics) with the "
                          "dataset's ids; checked against the split (every test row or evaluated user covered, no "
                          "unknown ids, duplicates or training rows); repeatable")
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
        say_error(f"interrupted: {error}")
        return 130
    except RecsysError as error:
        say_error(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        say_error("interrupted; nothing partial was saved")
        return 130
