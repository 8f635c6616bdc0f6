"""Export learned vectors in the TensorFlow Embedding Projector's format: `vectors.tsv` (one row
per movie or user, tab-separated floats, no header) and `metadata.tsv` (a header row, then one
row per vector in the same order). Load both at projector.tensorflow.org ("Load")."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.stats import item_table
from recsys.errors import ConfigError
from recsys.models import Recommender

MOVIE_COLUMNS = ("title", "genres", "year", "count", "mean_rating")
USER_COLUMNS = ("user", "count", "mean_rating")


def _clean(value: object) -> str:
    """A metadata cell: no tabs or line breaks (they would split the row)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)
    return " ".join(text.replace("\t", " ").splitlines())


def projector_tables(dataset: Dataset, model: Recommender, users: bool = False) -> tuple[np.ndarray, pd.DataFrame]:
    """(vectors, metadata) of the movies, or of the users, in index order."""
    factors = model.factors()
    if factors is None:
        raise ConfigError(f"{model.name} has no latent factors to export; models with factors: the Keras "
                          "models, ials and nmf")
    r = dataset.ratings
    if users:
        count = np.bincount(r.users, minlength=dataset.n_users)
        mean = np.bincount(r.users, weights=r.values, minlength=dataset.n_users) / np.maximum(count, 1)
        meta = pd.DataFrame({"user": dataset.user_ids, "count": count, "mean_rating": np.round(mean, 3)})
        return np.asarray(factors.users, dtype=np.float32), meta
    table = item_table(dataset)
    meta = pd.DataFrame({"title": table["title"], "genres": table["genres"].map("|".join),
                         "year": table["year"], "count": table["count"],
                         "mean_rating": table["mean_rating"].round(3)})
    return np.asarray(factors.items, dtype=np.float32), meta


def vectors_tsv(vectors: np.ndarray) -> str:
    """Tab-separated floats, one row per vector; 9 significant digits read back as the same float32."""
    return "".join("\t".join(format(float(v), ".9g") for v in row) + "\n" for row in np.asarray(vectors))


def metadata_tsv(meta: pd.DataFrame) -> str:
    """A header row, then one row per vector (single-column metadata would have no header in the
    projector's format; these tables always have several columns)."""
    lines = ["\t".join(meta.columns)]
    lines += ["\t".join(_clean(v) for v in row) for row in meta.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_projector(dataset: Dataset, model: Recommender, folder: Path, users: bool = False) -> list[Path]:
    """Write vectors.tsv and metadata.tsv into `folder` (each file atomically); returns their paths."""
    vectors, meta = projector_tables(dataset, model, users)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("vectors.tsv", vectors_tsv(vectors)), ("metadata.tsv", metadata_tsv(meta))):
        handle, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, folder / name)
        finally:
            Path(tmp).unlink(missing_ok=True)
        written.append(folder / name)
    return written
