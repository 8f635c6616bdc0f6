"""How long the Compare page's statistics take: 1,000-resample bootstrap intervals and paired
permutation tests (with Holm) for five models.

    python bench/compare_speed.py           # ml-latest-small (trains or loads 5 models) and 160k synthetic users
    python bench/compare_speed.py --docs    # also writes the table into docs/benchmarks.md

ml-latest-small: the five models' test results are reduced to per-user sums once (`score`,
timed apart), then the statistics are timed. The large case has no models: per-user sums shaped
like MovieLens-25M's test part (162,541 users, 5,000,095 test ratings of 25M; per-user errors
drawn at random, labelled synthetic), timed in a fresh process whose peak memory is reported.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import publish  # noqa: E402
from recsys.data import sources
from recsys.data.split import Split  # noqa: E402
from recsys.evaluation import confidence  # noqa: E402
from recsys.evaluation.compare import INTERVAL_METRICS, PAIR_METRICS, score  # noqa: E402
from recsys.work.training import train  # noqa: E402

MODELS = ("biases", "biased-mf", "recommender-net", "blend", "ials")
LARGE_USERS, LARGE_TEST_RATINGS = 162_541, 5_000_095


def statistics(sums: list[confidence.UserSums]) -> float:
    """Seconds for every interval and every pair's interval and test (with Holm)."""
    started = time.perf_counter()
    reps = confidence.replicates(sums, INTERVAL_METRICS)
    confidence.intervals(sums, INTERVAL_METRICS, reps=reps)
    confidence.pairs(sums, PAIR_METRICS, reps=reps)
    return time.perf_counter() - started


def small(repeats: int) -> dict:
    dataset = sources.load("ml-latest-small")
    split = Split("holdout", fraction=0.2, seed=42)
    train_part, test_part = split.apply(dataset)
    models = {label: train(dataset, label, split=split).model for label in MODELS}
    started = time.perf_counter()
    sums = [score(label, model, train_part, test_part).sums for label, model in models.items()]
    scoring = time.perf_counter() - started
    times = [statistics(sums) for _ in range(repeats)]
    return {"users": int(sums[0].rating_users.size), "scoring": scoring, "median": float(np.median(times)),
            "times": times}


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def large_child() -> dict:
    """In a fresh process: synthetic per-user sums for 5 models, the statistics timed, peak RSS."""
    before = peak_mib()
    rng = np.random.default_rng(7)
    n = rng.lognormal(2.5, 1.1, LARGE_USERS)
    n = np.maximum(1, np.round(n * LARGE_TEST_RATINGS / n.sum()))
    base = rng.gamma(2.0, 0.4, LARGE_USERS)
    sums = []
    for m, label in enumerate(MODELS):
        mse = base * (1.0 - 0.02 * m) + rng.normal(0, 0.02, LARGE_USERS) ** 2
        ndcg = np.clip(rng.beta(1.2, 8, LARGE_USERS) + 0.01 * m, 0, 1)
        sums.append(confidence.UserSums(label, np.arange(LARGE_USERS), n, mse * n, np.sqrt(mse) * n,
                                        np.arange(LARGE_USERS), {"ndcg": ndcg, "precision": ndcg / 2,
                                                                 "recall": ndcg / 3}))
    seconds = statistics(sums)
    return {"seconds": seconds, "peak_mib": peak_mib(), "baseline_mib": before}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    parser.add_argument("--large-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.large_child:
        print(json.dumps(large_child()))
        return 0
    started = time.perf_counter()
    measured = small(args.repeats)
    child = subprocess.run([sys.executable, __file__, "--large-child"], capture_output=True, text=True, check=True)
    large = json.loads(child.stdout.strip().splitlines()[-1])
    lines = ["| case | users | models | statistics (s) | peak memory |", "|---|---|---|---|---|",
             f"| ml-latest-small, holdout 80/20 | {measured['users']:,} | {len(MODELS)} | "
             f"{measured['median']:.2f} (median of {args.repeats}; scoring the models first: "
             f"{measured['scoring']:.1f}) | – |",
             f"| synthetic sums shaped like MovieLens-25M's test part (not MovieLens) | {LARGE_USERS:,} | "
             f"{len(MODELS)} | {large['seconds']:.1f} | {large['peak_mib']:,.0f} MiB "
             f"({large['peak_mib'] - large['baseline_mib']:,.0f} MiB above the interpreter with recsys loaded) |"]
    body = "\n".join(lines) + ("\n\nStatistics: 1,000-resample bootstrap intervals of RMSE, MAE, NDCG@10, "
                               "precision@10 and recall@10 per model, and for every pair the paired interval and a "
                               "1,000-swap permutation test on RMSE and NDCG@10, with Holm's correction.")
    print(body)
    if args.docs:
        publish("compare-speed", "Compare: intervals and paired tests", "python bench/compare_speed.py --docs", body,
                time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
