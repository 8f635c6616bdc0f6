"""The worked example of comparing a model trained elsewhere: for P2 (random 80/20) and P4 (each
user's last 20% by time) on ml-latest-small, export the split with the command line, train
Surprise's SVD outside the project on the exported train.csv (`bench/outside_surprise.py`), and
bring its predictions back with `recsys compare --external` next to our default. Every step is a
separate process, as it would be for an analyst.

    python bench/external_example.py [--docs]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from subprocess import run

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.publish import publish  # noqa: E402

PROTOCOLS = {"P2": ["--split", "holdout"], "P4": ["--split", "temporal"]}
OURS = "blend"
THEIRS = "surprise-svd"


def _cli(*args: str) -> str:
    done = run([sys.executable, "-m", "recsys", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    began, rows, verdicts = time.perf_counter(), [], []
    with tempfile.TemporaryDirectory() as scratch:
        for protocol, split in PROTOCOLS.items():
            folder, out = Path(scratch) / protocol, Path(scratch) / f"{protocol}-compare"
            _cli("split", "export", "--dataset", "ml-latest-small", *split, "--out", str(folder))
            predictions = folder / "predictions.csv"
            run([sys.executable, str(ROOT / "bench" / "outside_surprise.py"), str(folder), str(predictions)],
                check=True, capture_output=True)
            printed = _cli("compare", "--dataset", "ml-latest-small", *split, "--models", OURS,
                           "--external", f"{THEIRS}={predictions}", "--out", str(out))
            table = pd.read_csv(out / "models.csv").set_index("model")
            for model in (OURS, THEIRS):
                r = table.loc[model]
                rows.append(f"| {protocol} | {model} | {r['rmse']:.4f} ({r['rmse_low']:.4f} to {r['rmse_high']:.4f}) "
                            f"| {r['mae']:.4f} ({r['mae_low']:.4f} to {r['mae_high']:.4f}) |")
            verdicts += [f"- {protocol}: {line[2:]}" for line in printed.splitlines() if line.startswith("- ")]
    body = "\n".join([
        "Our default against Surprise's SVD (100 factors) trained outside the project on the exported "
        "train.csv of each split, its predictions brought back with `--external` (ml-latest-small; 95% "
        "intervals by bootstrap over test users).", "",
        "| protocol | model | RMSE (95% interval) | MAE (95% interval) |", "|---|---|---|---|", *rows, "",
        "The paired tests, as `recsys compare` prints them:", "", *verdicts, "",
        "The steps, each its own process: `python -m recsys split export --dataset ml-latest-small --split "
        "holdout --out p2/`; `python bench/outside_surprise.py p2/ p2/predictions.csv` (imports nothing from "
        "recsys); `python -m recsys compare --dataset ml-latest-small --split holdout --models blend "
        "--external surprise-svd=p2/predictions.csv`."])
    print(body)
    if args.docs:
        publish("external-example", "A model trained elsewhere, compared on our splits",
                "python bench/external_example.py --docs", body, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
