"""Readers for the MovieLens folder layouts and the embedded mini example."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, RatingScale, build_dataset
from recsys.errors import DataError

HALF_STARS = RatingScale(0.5, 5.0, 0.5)
WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)

MINI_USERS = ("Alice", "Bob", "Carol", "Dave")
MINI_MOVIES = ("Beauty Inside", "La La Land", "Love Story", "Matrix", "Star Wars")
MINI_GENRES = ("Romance", "Romance", "Romance", "Sci-Fi", "Sci-Fi")
#: The tutorial's matrix, users x movies; NaN marks the two blanks the models fill in.
MINI_MATRIX = np.array([
    [5, 5, 5, 1, 1],
    [np.nan, 4, 5, 1, 1],
    [1, 1, np.nan, 5, 5],
    [1, 1, 1, 5, 4],
], dtype=float)


def mini_dataset(matrix: np.ndarray | None = None) -> Dataset:
    """The 4 x 5 romance/sci-fi example (or an edited copy of its grid; NaN = no rating)."""
    grid = MINI_MATRIX if matrix is None else np.asarray(matrix, dtype=float)
    if grid.shape != MINI_MATRIX.shape:
        raise DataError(f"the mini matrix must be {MINI_MATRIX.shape}, got {grid.shape}")
    known = ~np.isnan(grid)
    if ((grid[known] < 1) | (grid[known] > 5)).any():
        raise DataError("mini ratings must lie between 1 and 5")
    users, movies = np.nonzero(known)
    raw = pd.DataFrame({"user": np.array(MINI_USERS, dtype=object)[users],
                        "item": np.array(MINI_MOVIES, dtype=object)[movies],
                        "rating": grid[known], "timestamp": np.arange(users.size)})
    items = pd.DataFrame({"item": list(MINI_MOVIES), "title": list(MINI_MOVIES),
                          "genres": [[g] for g in MINI_GENRES], "year": [pd.NA] * 5})
    return build_dataset("mini", raw, items, WHOLE_STARS)


def _require(folder: Path, *names: str) -> None:
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(f"{folder} is missing {', '.join(missing)}")


def read_movielens_csv(folder: Path, name: str) -> Dataset:
    """ml-latest-small / ml-latest / ml-25m / ml-32m: ratings.csv and movies.csv."""
    _require(folder, "ratings.csv", "movies.csv")
    raw = pd.read_csv(folder / "ratings.csv", dtype={"userId": np.int64, "movieId": np.int64,
                                                     "rating": np.float32, "timestamp": np.int64})
    raw = raw.rename(columns={"userId": "user", "movieId": "item"})
    movies = pd.read_csv(folder / "movies.csv", dtype={"movieId": np.int64}, keep_default_na=False)
    items = pd.DataFrame({"item": movies["movieId"], "title": movies["title"].str.strip(),
                          "genres": [[] if g == "(no genres listed)" else g.split("|")
                                     for g in movies["genres"]]})
    return build_dataset(name, raw, items, HALF_STARS)


ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western")
ML100K_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


def read_ml100k(folder: Path, name: str = "ml-100k") -> Dataset:
    """ml-100k: u.data (tab-separated), u.item (latin-1, 19 genre flags), u.user, official folds."""
    _require(folder, "u.data", "u.item")
    columns = ["user", "item", "rating", "timestamp"]
    raw = pd.read_csv(folder / "u.data", sep="\t", names=columns, dtype=np.int64)
    raw["rating"] = raw["rating"].astype(np.float32)
    item_cols = ["item", "title", "release", "video", "url", *ML100K_GENRES]
    meta = pd.read_csv(folder / "u.item", sep="|", names=item_cols, encoding="latin-1",
                       keep_default_na=False)
    flags = meta[list(ML100K_GENRES)].to_numpy(bool)
    items = pd.DataFrame({
        "item": meta["item"].astype(np.int64), "title": meta["title"],
        "year": pd.to_datetime(meta["release"], format="%d-%b-%Y", errors="coerce").dt.year,
        "genres": [[g for g, on in zip(ML100K_GENRES, row) if on and g != "unknown"] for row in flags]})
    users = None
    if (folder / "u.user").is_file():
        users = pd.read_csv(folder / "u.user", sep="|", names=["user", "age", "gender", "occupation", "zip"],
                            encoding="latin-1", dtype={"zip": str})
    dataset = build_dataset(name, raw, items, WHOLE_STARS, users=users)
    folds = _official_folds(folder, dataset)
    return build_dataset(name, raw, items, WHOLE_STARS, users=users, folds=folds)


def _official_folds(folder: Path, dataset: Dataset) -> dict[str, np.ndarray]:
    """Row positions (into the ratings in u.data order) of each official fold's test file."""
    key = dataset.user_ids[dataset.ratings.users].astype(np.int64) * 100_000 + \
        dataset.item_ids[dataset.ratings.items].astype(np.int64)
    order = np.argsort(key)
    folds = {}
    for fold in ML100K_FOLDS:
        path = folder / f"{fold}.test"
        if not path.is_file():
            continue
        test = pd.read_csv(path, sep="\t", names=["user", "item", "rating", "timestamp"], dtype=np.int64)
        wanted = test["user"].to_numpy() * 100_000 + test["item"].to_numpy()
        pos = np.searchsorted(key, wanted, sorter=order)
        rows = order[np.clip(pos, 0, key.size - 1)]
        if not np.array_equal(key[rows], wanted):
            raise DataError(f"{path} holds ratings that are not in u.data")
        rows.setflags(write=False)
        folds[fold] = np.sort(rows)
    return folds


DAT_SCALES = {"ml-10m": HALF_STARS}  # ml-1m has whole stars


def read_movielens_dat(folder: Path, name: str) -> Dataset:
    """ml-1m / ml-10m: '::'-separated ratings.dat and movies.dat (latin-1 or UTF-8).

    The ratings are read by pandas' C parser with ':' as the separator (every other field is
    then empty), not by its Python engine, which takes minutes and gigabytes at 10M lines; the
    small movie and user files are split line by line, since titles may hold ':'."""
    _require(folder, "ratings.dat", "movies.dat")
    raw = pd.read_csv(folder / "ratings.dat", sep=":", header=None, engine="c",
                      names=["user", "_1", "item", "_2", "rating", "_3", "timestamp"],
                      usecols=["user", "item", "rating", "timestamp"],
                      dtype={"user": np.int64, "item": np.int64, "rating": np.float32, "timestamp": np.int64})
    movies = _split_dat(folder / "movies.dat", ["item", "title", "genres"])
    items = pd.DataFrame({"item": movies["item"].astype(np.int64), "title": movies["title"],
                          "genres": [[] if g in ("", "(no genres listed)") else g.split("|")
                                     for g in movies["genres"]]})
    users = None
    if (folder / "users.dat").is_file():
        users = _split_dat(folder / "users.dat", ["user", "gender", "age", "occupation", "zip"])
        users = users.astype({"user": np.int64, "age": np.int64, "occupation": np.int64})
    return build_dataset(name, raw, items, DAT_SCALES.get(name, WHOLE_STARS), users=users)


def _split_dat(path: Path, names: list[str]) -> pd.DataFrame:
    """A small '::'-separated file, each line split into exactly `names` fields."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    rows = [line.split("::", len(names) - 1) for line in text.splitlines() if line.strip()]
    bad = next((n for n, row in enumerate(rows, 1) if len(row) != len(names)), None)
    if bad is not None:
        raise DataError(f"{path.name} line {bad} does not have {len(names)} '::'-separated fields")
    return pd.DataFrame(rows, columns=names)
