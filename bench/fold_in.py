"""New users folded in without retraining, against the fallback and against retraining with them.

    python bench/fold_in.py                      # ml-latest-small, 100 newcomers
    python bench/fold_in.py --dataset ml-100k --docs

Protocol: 100 users with at least 30 ratings (seed 42) are newcomers: none of their ratings is in
the training data. Each gives their first 1, 3 or 10 ratings (by time), which every model folds in
(`fold_in_predict`; a newcomer whose given movies are all unknown to the model gets the
fallback); the RMSE is on their ratings after the tenth, the same rows for every column.
"fallback" is what a model answers a user it has never seen (the bias fallback, 0 ratings);
"retrained" is the same model trained again with the newcomers' first 10 ratings in, the bar that
fold-in tries to reach without a retrain. Every model fits as `train()` fits it (a 10% validation
part carved from the training data, seed 42). Writes the table and, with `--docs`, its section of
docs/benchmarks.md."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import publish  # noqa: E402
from recsys.data import sources  # noqa: E402
from recsys.data.dataset import Ratings  # noqa: E402
from recsys.data.split import validation_split  # noqa: E402
from recsys.evaluation.evaluate import rmse  # noqa: E402
from recsys.models import make_model  # noqa: E402
from recsys.models.base import Recommender  # noqa: E402
from recsys.work.catalog import DEFAULT_RATING_MODEL  # noqa: E402
from recsys.work.training import VALIDATION_FRACTION  # noqa: E402

SIZES = (1, 3, 10)
MIN_RATINGS = 30
#: (label, model, settings): the default, its heart with either fold-in, and the classic fold-in models
MODELS = (
    (f"{DEFAULT_RATING_MODEL} (default)", DEFAULT_RATING_MODEL, {}),
    ("bayes-fm, fold-in by regression", "bayes-fm", {"fold_in": "regression"}),
    ("bayes-fm, implicit features only", "bayes-fm", {"fold_in": "implicit"}),
    ("item-knn", "item-knn", {}),
    ("als", "als", {}),
    ("biased-mf", "biased-mf", {}),
)


def newcomers(ratings: Ratings, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The newcomers (users with at least `MIN_RATINGS` ratings, `count` of them at random) and
    every rating's position in its user's ratings by time (0 = first)."""
    counts = np.bincount(ratings.users, minlength=ratings.n_users)
    chosen = np.sort(np.random.default_rng(seed).permutation(np.flatnonzero(counts >= MIN_RATINGS))[:count])
    order = np.lexsort((ratings.timestamps, ratings.users))
    position = np.empty(len(ratings), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position[order] = np.arange(len(ratings)) - starts[ratings.users[order]]
    return chosen, position


def fitted(name: str, settings: dict, train: Ratings) -> Recommender:
    """A model fitted as `train()` fits one (validation part carved from `train`)."""
    model = make_model(name, seed=42, **settings)
    fit_part, valid_part = validation_split(train, VALIDATION_FRACTION, seed=42)
    model.fit(fit_part, valid_part)
    return model


def measure(dataset_name: str, users: int, log, models: tuple = MODELS) -> pd.DataFrame:
    ratings = sources.load(dataset_name).ratings
    chosen, position = newcomers(ratings, users, seed=42)
    is_new = np.isin(ratings.users, chosen)
    train, given_all = ratings.take(~is_new), ratings.take(is_new & (position < max(SIZES)))
    test = ratings.take(is_new & (position >= max(SIZES)))
    with_given = ratings.take(~is_new | (position < max(SIZES)))
    given_position = position[is_new & (position < max(SIZES))]
    log(f"{dataset_name}: {chosen.size} newcomers, {len(test):,} test ratings, {len(train):,} training ratings")
    rows = []
    for label, name, settings in models:
        started = time.perf_counter()
        model = fitted(name, settings, train)
        row = {"model": label, "fallback (0 ratings)": rmse(model.predict(test.users, test.items), test.values)}
        seconds = []
        for size in SIZES:
            predicted = np.empty(len(test))
            for user in chosen:
                mine, theirs = given_all.users == user, test.users == user
                mine &= given_position < size
                if not model.known_items(given_all.items[mine]).any():  # nothing it knows: the fallback
                    predicted[theirs] = model.predict(test.users[theirs], test.items[theirs])
                    continue
                tick = time.perf_counter()
                predicted[theirs] = model.fold_in_predict(given_all.items[mine], given_all.values[mine],
                                                          test.items[theirs])
                seconds.append(time.perf_counter() - tick)
            row[f"{size} rating{'s' if size > 1 else ''}"] = rmse(predicted, test.values)
        retrained = fitted(name, settings, with_given)
        row[f"retrained with {max(SIZES)}"] = rmse(retrained.predict(test.users, test.items), test.values)
        row["fold-in ms per user (median)"] = 1000 * float(np.median(seconds))
        log(f"  {label}: {row} ({time.perf_counter() - started:.0f} s)")
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as markdown: RMSEs to four decimals, milliseconds to one."""
    def cell(column: str, value: object) -> str:
        return f"{value:.1f}" if "ms" in column else (f"{value:.4f}" if isinstance(value, float) else str(value))
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(c, row[c]) for c in table.columns) + " |" for _, row in table.iterrows()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    args = parser.parse_args()
    started = time.perf_counter()
    table = measure(args.dataset, args.users, lambda line: print(line, flush=True))
    body = (f"{args.users} newcomers of {args.dataset} (at least {MIN_RATINGS} ratings each, none in training), "
            f"test RMSE on their ratings after the {max(SIZES)}th:\n\n"
            + markdown(table))
    print(body)
    if args.docs:
        publish(f"fold-in-{args.dataset}", f"Fold-in: new users on {args.dataset}",
                f"python bench/fold_in.py --dataset {args.dataset} --docs", body, time.perf_counter() - started)


if __name__ == "__main__":
    main()
