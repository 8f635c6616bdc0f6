"""Tuned against default, side by side with Surprise's search, on P3 (ml-100k, random 80/20) or
P1 (ml-100k's official folds u1-u5: a study per fold, the test RMSE averaged over the folds).

    python bench/tuning_bench.py --trials 20                    # P3, about 10 minutes on 2 cores
    python bench/tuning_bench.py --protocol P1 --trials 10      # P1, about 20 minutes
    python bench/tuning_bench.py --trials 20 --docs             # also writes the table into docs/benchmarks.md
    python bench/tuning_bench.py --protocol P1 --trials 10 --models recommender-net,item-knn --blend --docs
                                      # the blend's parts tuned per fold, then the blend with them (about 15 minutes)

For each of biased-mf, recommender-net and item-knn: a study of `--trials` trials on P3's training
part (`recsys.work.tuning`: each trial scored on a held-out 10% of it), then the default and the tuned
settings trained on the whole training part and scored once on the test part. Next to them,
Surprise's RandomizedSearchCV over SVD with as many candidates (3-fold CV on the same training
part, RMSE), refitted on the training part and scored on the same test part.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import publish  # noqa: E402
from recsys.data import sources  # noqa: E402
from recsys.data.split import Split  # noqa: E402
from recsys.evaluation.evaluate import rmse  # noqa: E402
from recsys.work.tuning import Tuner  # noqa: E402

MODELS = ("biased-mf", "recommender-net", "item-knn")
PROTOCOLS = {"P3": [Split("holdout", fraction=0.2, seed=42)],
             "P1": [Split("official", name=f"u{i}") for i in range(1, 6)]}


def _settings(best: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in best.items())


def ours(dataset, splits: list[Split], trials: int, folder: str, models=MODELS,
         bests: dict | None = None) -> list[dict]:
    """A row per model: default and tuned test RMSE over `splits`; each fold's best settings go
    into `bests[split label][model]` when given."""
    rows = []
    for label in models:
        default, tuned, search, complete, pruned, best = [], [], 0.0, 0, 0, ""
        for split in splits:
            started = time.perf_counter()
            tuner = Tuner(dataset, label, split, storage_url=str(Path(folder) / f"{label}-{split.label()}.log"))
            tuner.run(trials)
            search += time.perf_counter() - started
            tuner.save_best()
            scores = tuner.test_scores()
            default.append(scores[label])
            tuned.append(scores[f"{label}@tuned"])
            counts = tuner.counts()
            complete, pruned = complete + counts.get("complete", 0), pruned + counts.get("pruned", 0)
            best = _settings(tuner.best[0])
            if bests is not None:
                bests.setdefault(split.label(), {})[label] = tuner.best[0]
        rows.append({"model": label, "default": float(np.mean(default)), "tuned": float(np.mean(tuned)),
                     "trials": f"{complete} run, {pruned} pruned", "seconds": search,
                     "best": best + (" (last fold)" if len(splits) > 1 else "")})
    return rows


def blend_rows(dataset, splits: list[Split], bests: dict) -> list[dict]:
    """The default blend against the blend whose parts take each fold's tuned settings
    (`part_settings`), both fitted as the default trains (a 10% validation part) and scored once."""
    from recsys.data.split import validation_split
    from recsys.models import make_model

    scores: dict[str, list[float]] = {"default": [], "tuned": []}
    for split in splits:
        train, test = split.apply(dataset)
        fit, valid = validation_split(train, 0.1, seed=42)
        tuned = tuple(f"{part}.{name}={_typed(value)}" for part, best in bests.get(split.label(), {}).items()
                      if part in make_model("blend").config.components for name, value in best.items())
        for kind, settings in (("default", ()), ("tuned", tuned)):
            model = make_model("blend", part_settings=settings)
            model.fit(fit, valid)
            scores[kind].append(rmse(model.predict(test.users, test.items, test.timestamps), test.values))
    return [{"model": "blend, parts tuned above", "default": float(np.mean(scores["default"])),
             "tuned": float(np.mean(scores["tuned"])), "trials": "its parts' studies", "seconds": 0.0,
             "best": "the parts' best settings, per fold"}]


def _typed(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else repr(value) if isinstance(value, float) \
        else str(value)


def surprise_svd(dataset, splits: list[Split], trials: int) -> dict:
    runs = [_surprise_svd(dataset, split, trials) for split in splits]
    return {"model": "Surprise SVD (RandomizedSearchCV, 3-fold)", "default": float(np.mean([r[0] for r in runs])),
            "tuned": float(np.mean([r[1] for r in runs])), "trials": f"{trials} candidates x 3 folds" +
            (f", {len(splits)} times" if len(splits) > 1 else ""), "seconds": sum(r[2] for r in runs),
            "best": runs[-1][3] + (" (last fold)" if len(splits) > 1 else "")}


def _surprise_svd(dataset, split: Split, trials: int) -> tuple[float, float, float, str]:
    """RandomizedSearchCV over SVD with `trials` candidates, refitted, scored on the test part."""
    import pandas as pd
    from scipy.stats import loguniform, randint
    from surprise import SVD, Reader
    from surprise import Dataset as SurpriseDataset
    from surprise.model_selection import RandomizedSearchCV

    train, test = split.apply(dataset)
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.values})
    data = SurpriseDataset.load_from_df(frame, Reader(rating_scale=(dataset.scale.low, dataset.scale.high)))
    default = SVD(random_state=0)
    full = data.build_full_trainset()
    default.fit(full)
    started = time.perf_counter()
    search = RandomizedSearchCV(SVD, {"n_factors": randint(10, 200), "n_epochs": randint(10, 60),
                                      "lr_all": loguniform(1e-3, 2e-2), "reg_all": loguniform(1e-2, 2e-1)},
                                n_iter=trials, measures=["rmse"], cv=3, random_state=0, n_jobs=1)
    search.fit(data)
    seconds = time.perf_counter() - started
    tuned = search.best_estimator["rmse"]
    tuned.fit(full)

    def score(model) -> float:
        return rmse(np.array([model.predict(int(u), int(i)).est for u, i in zip(test.users, test.items)]), test.values)

    return score(default), score(tuned), seconds, _settings(search.best_params["rmse"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--protocol", choices=list(PROTOCOLS), default="P3")
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    parser.add_argument("--models", default=",".join(MODELS), help="the models to tune (comma-separated)")
    parser.add_argument("--blend", action="store_true",
                        help="then the blend with its tuned parts against the default blend (no Surprise row)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dataset = sources.load("ml-100k")
    with tempfile.TemporaryDirectory() as folder:
        splits, bests = PROTOCOLS[args.protocol], {}
        rows = ours(dataset, splits, args.trials, folder, tuple(args.models.split(",")), bests)
        rows += blend_rows(dataset, splits, bests) if args.blend else [surprise_svd(dataset, splits, args.trials)]
    lines = ["| model | test RMSE default | test RMSE tuned | trials | search seconds | best settings |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['default']:.4f} | {r['tuned']:.4f} | {r['trials']} | {r['seconds']:.0f} | "
              f"{r['best']} |" for r in rows]
    where = "P3: ml-100k, random 80/20 (seed 42)" if args.protocol == "P3" else \
        "P1: ml-100k's official folds u1-u5, a study per fold, test RMSE averaged over the folds"
    peer = ("The blend: as the default trains (a 10% validation part), once with its parts' defaults and once "
            "with each fold's tuned settings (`part_settings`), scored once on the test part.") if args.blend else \
        ("Surprise: as many RandomizedSearchCV candidates, 3-fold CV on the training part. Both then train on the "
         "whole training part and are scored once on the test part.")
    body = "\n".join(lines) + (f"\n\n{where}. Ours: {args.trials} Optuna trials (TPE, "
                               "median pruning) per model, each scored on a held-out 10% of the training part, "
                               "then trained on the whole training part and scored once on the test part. " + peer)
    print(body)
    if args.docs:
        name, command = f"tuning-{args.protocol}", f"python bench/tuning_bench.py --protocol {args.protocol} " \
            f"--trials {args.trials}" + (f" --models {args.models} --blend" if args.blend else "") + " --docs"
        title = f"Tuning: default against tuned on {args.protocol}"
        if args.blend:
            name, title = f"{name}-blend", f"{title}, and the blend with its tuned parts"
        publish(name, title, command, body, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
