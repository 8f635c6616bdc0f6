"""Accuracy of recsys next to Surprise and implicit, on the same splits, in one process.

    python bench/accuracy.py                 # all protocols
    python bench/accuracy.py --protocols P2  # one protocol

Rating peers: Surprise's models and myFM with Rendle et al. (2019)'s timeSVD++ flipped features at 64,
128 and 512 Gibbs iterations. Published figures of that recipe to cite beside ours (not rerun here):
ml-100k u1 0.8889 (the GLocal-K paper's table), ml-10m 0.7485 (Rendle et al. 2019).

P1: ml-100k official folds u1-u5 (mean and std of RMSE and MAE).
P2: ml-latest-small random 80/20 (perm = default_rng(42).permutation(n), first 20% test).
P3: ml-100k, the same recipe over u.data in file order.
P4: ml-latest-small, per user the last 20% by time (at least one) is test; top-10 over every item
    not rated in train, relevant = test rating >= 4.
P5: ml-latest-small, train on the past: the earliest 80% of ratings by time train, the rest test
    (recsys Split("time", fraction=0.2)); RMSE overall and on warm rows, rows of new users and rows
    of new movies (new = no rating in the train part). Peers answer new users and movies their own
    way (Surprise: its baseline).
P6: the same on ml-100k.
Writes bench/results/accuracy.md and .csv and prints the table.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import ImplicitALS, MostPopular, PeerModel, myfm_peers, surprise_peers  # noqa: E402
from bench.publish import publish  # noqa: E402
from recsys.data import sources  # noqa: E402
from recsys.data.dataset import Dataset  # noqa: E402
from recsys.data.split import Split  # noqa: E402
from recsys.evaluation.evaluate import evaluate_top_k, mae, rmse  # noqa: E402
from recsys.work.catalog import DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL, preset  # noqa: E402
from recsys.work.training import train  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OUR_RATING = ("biases", "item-knn", "biased-mf", "recommender-net", "bayes-fm", DEFAULT_RATING_MODEL)
OUR_RANKING = (DEFAULT_RANKING_MODEL, "ials", "gmf-ranking", "neumf-ranking", "biased-mf")
PROTOCOLS = {
    "P1": ("ml-100k", [Split("official", name=f"u{i}") for i in range(1, 6)], "rating"),
    "P2": ("ml-latest-small", [Split("holdout", fraction=0.2, seed=42)], "rating"),
    "P3": ("ml-100k", [Split("holdout", fraction=0.2, seed=42)], "rating"),
    "P4": ("ml-latest-small", [Split("temporal", fraction=0.2)], "top-k"),
    "P5": ("ml-latest-small", [Split("time", fraction=0.2)], "rating"),
    "P6": ("ml-100k", [Split("time", fraction=0.2)], "rating"),
}
GROUPS = {"warm": "RMSE warm", "new_user": "RMSE new users", "new_item": "RMSE new movies"}
COLUMNS = ["dataset", "protocol", "model", "RMSE", "MAE", *GROUPS.values(), "P@10", "R@10", "NDCG@10", "HR@10", "coverage",
           "fit seconds", "predict seconds", "settings"]


def rating_peers() -> list[PeerModel]:
    """Surprise's models and the Bayesian FM recipe (myFM), fresh."""
    return [*surprise_peers(), *myfm_peers()]


def _ours(dataset: Dataset, label: str, split: Split, kind: str, retrain: bool) -> dict:
    chosen = preset(label)
    result = train(dataset, chosen.model, chosen.overrides, split=split, retrain=retrain)
    train_part, test_part = split.apply(dataset)
    return _score(result.model, train_part, test_part, kind) | {
        "fit seconds": result.fit_seconds, "settings": str(result.model.config.as_dict())}


def _peer(model: PeerModel, dataset: Dataset, split: Split, kind: str) -> dict:
    train_part, test_part = split.apply(dataset)
    history = model.fit(train_part)
    return _score(model, train_part, test_part, kind) | {"fit seconds": history.seconds, "settings": model.settings}


def _score(model, train_part, test_part, kind: str) -> dict:
    started = time.perf_counter()
    row = {}
    if kind == "rating":
        predicted = model.predict(test_part.users, test_part.items, test_part.timestamps)
        row.update(RMSE=rmse(predicted, test_part.values), MAE=mae(predicted, test_part.values))
        for group, mask in row_groups(train_part, test_part).items():
            if mask.any() and not mask.all():
                row[GROUPS[group]] = rmse(predicted[mask], test_part.values[mask])
    else:
        top = evaluate_top_k(model, train_part, test_part, k=10, threshold=4.0)
        row.update({"P@10": top.precision, "R@10": top.recall, "NDCG@10": top.ndcg, "HR@10": top.hit_rate,
                    "coverage": top.coverage})
    row["predict seconds"] = time.perf_counter() - started
    return row


def row_groups(train_part, test_part) -> dict[str, np.ndarray]:
    """Test rows by what the train part holds: warm, new user, new movie of a known user (the same
    rows for every model, ours and the peers)."""
    known_user = np.isin(test_part.users, train_part.users)
    known_item = np.isin(test_part.items, train_part.items)
    return {"warm": known_user & known_item, "new_user": ~known_user, "new_item": known_user & ~known_item}


def group_counts(name: str) -> str:
    """One line: how many test rows of a protocol are warm, of new users and of new movies."""
    dataset_name, splits, _ = PROTOCOLS[name]
    train_part, test_part = splits[0].apply(sources.load(dataset_name))
    counts = {group: int(mask.sum()) for group, mask in row_groups(train_part, test_part).items()}
    return (f"- {name} ({dataset_name}, {splits[0].label()}): {len(test_part):,} test rows: {counts['warm']:,} warm, "
            f"{counts['new_user']:,} of new users, {counts['new_item']:,} of new movies (known users)")


def run_protocol(name: str, retrain: bool, peers: bool, log) -> pd.DataFrame:
    dataset_name, splits, kind = PROTOCOLS[name]
    dataset = sources.load(dataset_name)
    entries: list[tuple[str, object]] = []
    ours = OUR_RATING if kind == "rating" else OUR_RANKING
    for label in dict.fromkeys(ours):
        entries.append((f"recsys {label}", label))
    if peers:
        if kind == "rating":
            entries += [(p.label, p) for p in rating_peers()]
        else:
            entries += [("implicit ALS", ImplicitALS()), ("most popular", MostPopular())]
    rows = []
    for model_name, what in entries:
        for split in splits:
            log(f"{name} {dataset_name} {split.label()}: {model_name}")
            if isinstance(what, str):
                row = _ours(dataset, what, split, kind, retrain)
            else:
                fresh = next(p for p in (rating_peers() if kind == "rating" else [ImplicitALS(), MostPopular()])
                             if p.label == model_name)
                row = _peer(fresh, dataset, split, kind)
            rows.append({"dataset": dataset_name, "protocol": name, "model": model_name, **row})
    frame = pd.DataFrame(rows)
    if len(splits) > 1:
        numeric = [c for c in COLUMNS if c in frame and pd.api.types.is_numeric_dtype(frame[c])]
        grouped = frame.groupby(["dataset", "protocol", "model", "settings"], sort=False)[numeric]
        mean, std = grouped.mean().reset_index(), grouped.std(ddof=1).reset_index()
        for metric in ("RMSE", "MAE"):
            if metric in mean:
                mean[f"{metric} std"] = std[metric]
        frame = mean
    return frame


def to_markdown(table: pd.DataFrame) -> str:
    shown = table.copy()
    for metric in ("RMSE", "MAE"):
        if f"{metric} std" in shown:
            shown[metric] = [f"{m:.4f} ± {s:.4f}" if pd.notna(s) else (f"{m:.4f}" if pd.notna(m) else "")
                             for m, s in zip(shown[metric], shown[f"{metric} std"])]
    columns = [c for c in COLUMNS if c in shown and c != "settings"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in shown.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, float):
                cells.append("" if np.isnan(value) else (f"{value:.1f}" if "seconds" in column else f"{value:.4f}"))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocols", default="P1,P2,P3,P4,P5,P6")
    parser.add_argument("--retrain", action="store_true", help="ignore cached recsys artifacts")
    parser.add_argument("--no-peers", action="store_true", help="only the recsys models")
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f}s] {message}", file=sys.stderr, flush=True)
    tables = [run_protocol(p.strip(), args.retrain, not args.no_peers, log) for p in args.protocols.split(",")]
    table = pd.concat(tables, ignore_index=True)
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "accuracy.csv", index=False)
    markdown = to_markdown(table)
    settings = "\n".join(f"- {m}: {s}" for m, s in table.drop_duplicates("model")[["model", "settings"]].values)
    counts = "\n".join(group_counts(p.strip()) for p in args.protocols.split(",")
                       if PROTOCOLS[p.strip()][2] == "rating")
    stamp = time.strftime("%Y-%m-%d")
    (RESULTS / "accuracy.md").write_text(f"# Accuracy ({stamp})\n\n{markdown}\n\nRow groups:\n{counts}\n\n"
                                         f"Settings:\n{settings}\n")
    if args.docs:
        protocols = ",".join(p.strip() for p in args.protocols.split(","))
        command = "python bench/accuracy.py --protocols " + protocols + (" --retrain" if args.retrain else "") + \
            (" --no-peers" if args.no_peers else "") + " --docs"
        publish(f"accuracy-{protocols}", f"Accuracy: {protocols}", command,
                f"{markdown}\n\nRow groups:\n{counts}\n\nSettings:\n{settings}\n", time.perf_counter() - started)
    print(markdown)
    print("\nRow groups:\n" + counts)
    print("\nSettings:\n" + settings)
    print(f"\n{time.perf_counter() - started:.0f}s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
