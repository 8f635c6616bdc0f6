"""A model trained outside this project, as an analyst would: Surprise's SVD fitted on an exported
train.csv alone, predicting every row of test.csv. It imports nothing from `recsys`.

    python bench/outside_surprise.py EXPORT_FOLDER OUT.csv [--factors 100]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from surprise import SVD, Dataset, Reader


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--factors", type=int, default=100)
    args = parser.parse_args()
    manifest = json.loads((args.folder / "manifest.json").read_text())
    scale = manifest["rating_scale"]
    train, test = pd.read_csv(args.folder / "train.csv"), pd.read_csv(args.folder / "test.csv")
    data = Dataset.load_from_df(train[["user", "item", "rating"]], Reader(rating_scale=(scale["low"], scale["high"])))
    model = SVD(n_factors=args.factors, random_state=0)
    model.fit(data.build_full_trainset())
    test["prediction"] = [model.predict(u, i).est for u, i in zip(test["user"], test["item"])]
    test[["user", "item", "prediction"]].to_csv(args.out, index=False)
    print(f"{len(test):,} predictions written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
