"""A split exactly as the models here see it, for training anywhere else: `train.csv` and
`test.csv` (user, item, rating, timestamp, with the dataset's own ids) and `manifest.json` (the
dataset and its content checksum, the split's recipe and seed, the row counts and each file's
SHA-256), so predictions made outside come back for exactly these test rows
(`recsys.evaluation.external`)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, Ratings
from recsys.data.split import Split
from recsys.errors import ConfigError

COLUMNS = ("user", "item", "rating", "timestamp")
FILES = ("train.csv", "test.csv", "manifest.json")


def part_frame(dataset: Dataset, part: Ratings) -> pd.DataFrame:
    """A part's rows with the dataset's own user and movie ids, in the dataset's order."""
    return pd.DataFrame({"user": dataset.user_ids[part.users], "item": dataset.item_ids[part.items],
                         "rating": part.values.astype(np.float64), "timestamp": part.timestamps.astype(np.int64)})


def split_files(dataset: Dataset, split: Split) -> dict[str, bytes]:
    """The three files' contents: train.csv, test.csv and manifest.json."""
    if not split.has_test:
        raise ConfigError("the full split has no test part to export: choose holdout, temporal, time, kfold or official")
    train, test = split.apply(dataset)
    files = {name: part_frame(dataset, part).to_csv(index=False, float_format="%g").encode()
             for name, part in (("train.csv", train), ("test.csv", test))}
    manifest = {"dataset": dataset.name, "dataset_checksum": dataset.fingerprint, "split": split.as_dict(),
                "split_label": split.label(), "split_described": split.describe(),
                "rows": {"train": len(train), "test": len(test)}, "columns": list(COLUMNS),
                "rating_scale": {"low": train.scale.low, "high": train.scale.high, "step": train.scale.step},
                "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}}
    files["manifest.json"] = (json.dumps(manifest, indent=2, default=str) + "\n").encode()
    return files


def export_split(dataset: Dataset, split: Split, folder: Path) -> dict:
    """Write the three files into `folder` (each atomically: a reader never sees half a file);
    returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = split_files(dataset, split)
    for name, data in files.items():
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, folder / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return json.loads(files["manifest.json"])


def split_zip(dataset: Dataset, split: Split) -> bytes:
    """The three files in one zip (the Compare page's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in split_files(dataset, split).items():
            archive.writestr(name, data)
    return buffer.getvalue()
