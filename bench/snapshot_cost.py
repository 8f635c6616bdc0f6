"""What keeping the epoch-by-epoch snapshots costs: recommender-net on ml-latest-small (random
80/20) trained with and without them, alternately, in one process; medians and their ratio.

    python bench/snapshot_cost.py --repeats 3 [--docs]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import publish  # noqa: E402
from recsys.data import sources  # noqa: E402
from recsys.data.split import Split, validation_split  # noqa: E402
from recsys.models import make_model, snapshots  # noqa: E402
from recsys.models.keras_base import KerasRecommender  # noqa: E402
from recsys.models.sizing import LARGE_EPOCHS  # noqa: E402

LABEL = "recommender-net"


def fit_seconds(train, keep: bool) -> tuple[float, int]:
    KerasRecommender.keeps_snapshots = keep
    model = make_model(LABEL)
    started = time.perf_counter()
    model.fit(*validation_split(train, 0.1, seed=42))
    return time.perf_counter() - started, sum(s.nbytes for s in model.snapshots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train, _ = Split("holdout", fraction=0.2, seed=42).apply(sources.load("ml-latest-small"))
    fit_seconds(train, True)  # warm-up: TensorFlow's first graphs
    runs: dict[bool, list[float]] = {True: [], False: []}
    held = 0
    for _ in range(args.repeats):
        for keep in (False, True):
            seconds, size = fit_seconds(train, keep)
            runs[keep].append(seconds)
            held = max(held, size)
    with_, without = statistics.median(runs[True]), statistics.median(runs[False])
    factors = make_model(LABEL).config.factors
    per_epoch_25m = (snapshots.SNAPSHOT_ITEMS + snapshots.SNAPSHOT_USERS) * factors * 2
    body = "\n".join([
        "| run | median fit seconds | runs |", "|---|---|---|",
        f"| without snapshots | {without:.1f} | {', '.join(f'{s:.1f}' for s in runs[False])} |",
        f"| with snapshots | {with_:.1f} | {', '.join(f'{s:.1f}' for s in runs[True])} |",
        "", f"Ratio with / without: **{with_ / without:.3f}**. Snapshots held by one ml-latest-small run: "
        f"{held / 2**20:.1f} MiB. At MovieLens-25M's size the per-size settings cap a run at {LARGE_EPOCHS} + "
        f"{LARGE_EPOCHS} epochs of the same 2,000 movies and 1,000 users: "
        f"{2 * LARGE_EPOCHS * per_epoch_25m / 2**20:.1f} MiB ({per_epoch_25m / 2**10:.0f} KiB per epoch at "
        f"{factors} factors; computed from the sample's size, not measured)."])
    print(body)
    if args.docs:
        publish("snapshot-cost", "Watching a model learn: what the snapshots cost",
                f"python bench/snapshot_cost.py --repeats {args.repeats} --docs", body, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
