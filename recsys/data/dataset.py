"""The one immutable in-memory `Dataset` and the `Ratings` arrays that splits and models use."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from recsys.errors import DataError, UnknownIdError


@dataclass(frozen=True)
class RatingScale:
    """The range and step of a dataset's ratings (e.g. 0.5-5 in halves)."""

    low: float
    high: float
    step: float

    def __post_init__(self) -> None:
        if not (self.high > self.low and self.step > 0):
            raise DataError(f"invalid rating scale {self.low}-{self.high} step {self.step}")

    def clip(self, values: np.ndarray) -> np.ndarray:
        """Clip predictions into [low, high]."""
        return np.clip(values, self.low, self.high)

    @property
    def levels(self) -> np.ndarray:
        """Every allowed rating value, lowest first."""
        return np.round(np.arange(self.low, self.high + self.step / 2, self.step), 6)

    def describe(self) -> str:
        return f"{self.low:g}-{self.high:g} in steps of {self.step:g}"


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class ItemContent:
    """What the data says of each movie besides its ratings, by item index: its genres (a 0/1
    matrix over `genre_names`) and its release year (0 where unknown). Models that read content
    (`Recommender.uses_content`) find it on the `Ratings` they are fitted on."""

    genre_names: tuple[str, ...]
    genres: np.ndarray  # (n_items, n_genres) bool
    years: np.ndarray  # (n_items,) int, 0 = unknown

    @classmethod
    def of(cls, items: pd.DataFrame) -> "ItemContent":
        """From an items table (columns genres: tuples of names, year: nullable years)."""
        names = tuple(sorted({g for genres in items["genres"] for g in genres if g and g != "(no genres listed)"}))
        column = {name: k for k, name in enumerate(names)}
        matrix = np.zeros((len(items), len(names)), dtype=bool)
        for row, genres in enumerate(items["genres"]):
            for genre in genres:
                if genre in column:
                    matrix[row, column[genre]] = True
        years = pd.to_numeric(items["year"], errors="coerce").fillna(0).to_numpy(np.int64) \
            if "year" in items else np.zeros(len(items), dtype=np.int64)
        return cls(names, _readonly(matrix), _readonly(years))

    @property
    def has_genres(self) -> bool:
        return bool(self.genres.any())

    @property
    def has_years(self) -> bool:
        return bool((self.years > 0).any())


@dataclass(frozen=True)
class Ratings:
    """Rating triples in index space (contiguous user and item indices), with the matrix shape
    and, where the data has it, the movies' content (carried along by every part of a split)."""

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray
    n_users: int
    n_items: int
    scale: RatingScale
    content: ItemContent | None = None

    def __post_init__(self) -> None:
        for name in ("users", "items", "values", "timestamps"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))
        if self.content is not None and self.content.genres.shape[0] != self.n_items:
            raise DataError(f"item content describes {self.content.genres.shape[0]} movies, not {self.n_items}")

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def take(self, rows: np.ndarray) -> "Ratings":
        """The ratings at the given row positions (or boolean mask), same shape."""
        return Ratings(self.users[rows], self.items[rows], self.values[rows], self.timestamps[rows],
                       self.n_users, self.n_items, self.scale, self.content)

    def concat(self, other: "Ratings") -> "Ratings":
        """These ratings followed by `other`'s (same matrix shape)."""
        return Ratings(np.concatenate([self.users, other.users]), np.concatenate([self.items, other.items]),
                       np.concatenate([self.values, other.values]),
                       np.concatenate([self.timestamps, other.timestamps]), self.n_users, self.n_items, self.scale,
                       self.content if self.content is not None else other.content)

    @property
    def has_timestamps(self) -> bool:
        """False when the ratings carry no time (no column, or all equal)."""
        stamps = self.timestamps
        return bool(stamps.size) and bool(stamps.min() != stamps.max())

    @property
    def global_mean(self) -> float:
        return float(self.values.mean()) if len(self) else float((self.scale.low + self.scale.high) / 2)

    def frame(self) -> pd.DataFrame:
        """The ratings as a tidy frame with columns user, item, rating, timestamp."""
        return pd.DataFrame({"user": self.users, "item": self.items, "rating": self.values,
                             "timestamp": self.timestamps})


@dataclass(frozen=True)
class Dataset:
    """A ratings dataset: ratings in file order with contiguous user/item indices, id maps,
    an items table (title, year, genres), an optional users table, the rating scale and a
    content fingerprint. Treat every array and frame as read-only."""

    name: str
    ratings: Ratings
    user_ids: np.ndarray
    item_ids: np.ndarray
    items: pd.DataFrame
    users: pd.DataFrame | None
    fingerprint: str
    folds: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()
    synthetic: bool = False

    @property
    def scale(self) -> RatingScale:
        return self.ratings.scale

    @property
    def n_users(self) -> int:
        return self.ratings.n_users

    @property
    def n_items(self) -> int:
        return self.ratings.n_items

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    @property
    def density(self) -> float:
        """Share of the user x item matrix that holds a rating."""
        return self.n_ratings / float(self.n_users * self.n_items)

    def user_index(self, raw_id: object) -> int:
        """The contiguous index of a raw user id; `UnknownIdError` if it is not in the data."""
        return _lookup(self.user_ids, raw_id, "user", self.name)

    def item_index(self, raw_id: object) -> int:
        """The contiguous index of a raw item id; `UnknownIdError` if it is not in the data."""
        return _lookup(self.item_ids, raw_id, "item", self.name)

    @cached_property
    def _title_array(self) -> np.ndarray:
        return np.array([str(t) for t in self.items["title"]], dtype=object)

    @cached_property
    def _by_user(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.ratings.users, kind="stable")
        bounds = np.searchsorted(self.ratings.users[order], np.arange(self.n_users + 1))
        return order, bounds

    def user_ratings(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """(items, ratings) of everything a user index rated in the dataset, in file order."""
        if not 0 <= user < self.n_users:
            raise UnknownIdError(f"user index {user} is outside 0-{self.n_users - 1} in dataset {self.name!r}")
        order, bounds = self._by_user
        rows = order[bounds[user]: bounds[user + 1]]
        return self.ratings.items[rows], self.ratings.values[rows]

    @property
    def has_timestamps(self) -> bool:
        """False when the ratings carry no time (no column, or all equal)."""
        return self.ratings.has_timestamps

    def titles(self, items: Sequence[int] | np.ndarray) -> list[str]:
        """Titles of item indices (a lookup into an array built once)."""
        return self._title_array[np.asarray(items, dtype=np.int64)].tolist()


def _lookup(ids: np.ndarray, raw_id: object, kind: str, dataset: str) -> int:
    key = _coerce_id(raw_id, ids)
    position = -1
    if key is not None and ids.dtype == object:
        matches = np.flatnonzero(ids == key)
        position = int(matches[0]) if matches.size else -1
    elif key is not None:
        position = int(np.searchsorted(ids, key))
    if 0 <= position < ids.size and ids[position] == key:
        return position
    raise UnknownIdError(f"unknown {kind} id {raw_id!r} in dataset {dataset!r} "
                         f"({ids.size} {kind}s; ids run from {ids[0]!r} to {ids[-1]!r})")


def _coerce_id(raw_id: object, ids: np.ndarray) -> object:
    if ids.dtype.kind in "iu":
        try:
            as_float = float(str(raw_id).strip())
        except ValueError:
            return None
        return int(as_float) if as_float.is_integer() else None
    return str(raw_id)


def fingerprint_of(*arrays: np.ndarray, extra: str = "") -> str:
    """A stable short hash of array contents (and an extra string)."""
    digest = hashlib.sha256(extra.encode())
    for array in arrays:
        if array.dtype == object:
            digest.update("\x1f".join(map(str, array)).encode())
        else:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def build_dataset(name: str, raw: pd.DataFrame, items: pd.DataFrame | None, scale: RatingScale,
                  users: pd.DataFrame | None = None, folds: Mapping[str, np.ndarray] | None = None,
                  notes: Sequence[str] = (), synthetic: bool = False) -> Dataset:
    """Index raw ratings (columns user, item, rating, optional timestamp; raw ids) into a Dataset.

    `items` has columns item (raw id), title, genres (list of str) and optionally year; items
    without metadata get their id as title. Only items that have ratings are kept. Row order is
    kept as given (file order), which the seeded splits rely on.
    """
    if raw.empty:
        raise DataError(f"dataset {name!r} has no ratings")
    user_codes, user_ids = pd.factorize(raw["user"], sort=True)
    item_codes, item_ids = pd.factorize(raw["item"], sort=True)
    user_ids = np.asarray(user_ids)
    item_ids = np.asarray(item_ids)
    timestamps = (raw["timestamp"].to_numpy(np.int64) if "timestamp" in raw
                  else np.zeros(len(raw), dtype=np.int64))
    table = _items_table(item_ids, items)
    ratings = Ratings(user_codes.astype(np.int32), item_codes.astype(np.int32),
                      raw["rating"].to_numpy(np.float32), timestamps,
                      int(user_ids.size), int(item_ids.size), scale, ItemContent.of(table))
    fingerprint = fingerprint_of(ratings.users, ratings.items, ratings.values, ratings.timestamps,
                                 user_ids, item_ids, extra=f"{scale}")
    if users is not None:
        users = users.set_index("user").reindex(user_ids).reset_index()
    return Dataset(name, ratings, _readonly(user_ids), _readonly(item_ids), table, users,
                   fingerprint, MappingProxyType(dict(folds or {})), tuple(notes), synthetic)


def _items_table(item_ids: np.ndarray, items: pd.DataFrame | None) -> pd.DataFrame:
    table = pd.DataFrame({"item_id": item_ids})
    if items is None or items.empty:
        table["title"] = [f"movie {i}" for i in item_ids]  # a bare id reads like a count
        table["year"] = pd.array([pd.NA] * len(item_ids), dtype="Int64")
        table["genres"] = [() for _ in item_ids]
        return table
    meta = items.drop_duplicates("item", keep="last").set_index("item")
    meta = meta.reindex(pd.Index(item_ids, dtype=meta.index.dtype if item_ids.dtype != object else object))
    titles = meta["title"].astype(object).to_numpy()
    table["title"] = [str(t) if isinstance(t, str) else f"movie {i}" for t, i in zip(titles, item_ids)]
    years = meta["year"] if "year" in meta else table["title"].str.extract(r"\((\d{4})\)\s*$")[0].to_numpy()
    table["year"] = pd.to_numeric(pd.Series(np.asarray(years)), errors="coerce").astype("Int64")
    genres = meta["genres"].to_numpy() if "genres" in meta else [()] * len(item_ids)
    table["genres"] = [tuple(g) if isinstance(g, (list, tuple)) else () for g in genres]
    return table
