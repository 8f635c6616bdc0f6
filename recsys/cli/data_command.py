"""`recsys data`: list, fetch, describe or check datasets and files."""
from __future__ import annotations

from pathlib import Path

from recsys.cli.common import (
    download_progress,
    load_dataset,
    split_from,
)
from recsys.data import sources
from recsys.data.split_export import FILES, export_split
from recsys.data.stats import rating_histogram, summary
from recsys.errors import ConfigError


def cmd_data(args) -> int:
    if args.action == "list":
        for spec in sources.REGISTRY.values():
            print(f"{spec.name:16} {spec.description}")
        return 0
    if args.action == "check":
        if not args.file:
            raise ConfigError("`data check` needs --file PATH (a ratings CSV, or a zip holding one)")
        dataset = load_dataset(args)
        titled = sum(not title.startswith("movie ") for title in dataset.titles(range(dataset.n_items)))
        print(f"{args.file} is valid: {dataset.n_ratings:,} ratings, {dataset.n_users:,} users, "
              f"{dataset.n_items:,} items ({titled:,} with titles)")
        for note in dataset.notes:
            print(f"note: {note}")
        return 0
    if not args.name:
        raise ConfigError(f"`data {args.action}` needs a dataset name")
    if args.action == "fetch":
        folder = sources.locate(args.name, progress=download_progress)
        print(f"{args.name} is available at {folder}")
        return 0
    dataset = sources.load(args.name, progress=download_progress)
    for key, value in summary(dataset).items():
        print(f"{key:>18}: {value}")
    histogram = rating_histogram(dataset)
    width = 50 / max(histogram["count"].max(), 1)
    print("  rating histogram:")
    for row in histogram.itertuples():
        print(f"    {row.rating:>4g} {'#' * int(round(row.count * width)):<50} {row.count:,}")
    return 0


def cmd_split(args) -> int:
    """`recsys split export`: the split's train.csv, test.csv and manifest.json, for training elsewhere."""
    dataset, split = load_dataset(args), split_from(args)
    manifest = export_split(dataset, split, Path(args.out))
    rows = manifest["rows"]
    print(f"{dataset.name}, split {manifest['split_label']}: {rows['train']:,} training and {rows['test']:,} test "
          f"ratings written to {args.out}/ ({', '.join(FILES)}); ids are the dataset's own")
    print(f"bring predictions back with: python -m recsys compare --dataset {dataset.name} --split {args.split} "
          f"--external NAME=FILE")
    return 0
