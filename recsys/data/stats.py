"""Descriptive tables of a dataset, shared by the CLI and the dashboard (pure functions)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError


def percent(share: float) -> str:
    """A share as a percentage with three significant digits: 1.70%, 98.3%, 0.0264%."""
    return f"{share * 100:#.3g}".rstrip(".") + "%" if share < 1 else "100%"


def summary(dataset: Dataset) -> dict[str, str]:
    """Counts, density and scale as display strings."""
    r = dataset.ratings
    return {"dataset": dataset.name + (" (synthetic)" if dataset.synthetic else ""),
            "ratings": f"{dataset.n_ratings:,}", "users": f"{dataset.n_users:,}",
            "movies": f"{dataset.n_items:,}", "density": percent(dataset.density),
            "sparsity": percent(1 - dataset.density), "scale": dataset.scale.describe(),
            "mean rating": f"{r.values.mean():.3f}"}


def rating_histogram(dataset: Dataset) -> pd.DataFrame:
    """Count of each rating level (every level of the scale, zeros included)."""
    levels = dataset.scale.levels
    values = np.round(dataset.ratings.values.astype(np.float64), 6)
    counts = pd.Series(values).value_counts().reindex(levels, fill_value=0)
    return pd.DataFrame({"rating": levels, "count": counts.to_numpy(np.int64)})


def counts_per(dataset: Dataset, axis: str) -> pd.Series:
    """Ratings per user (axis='user') or per item (axis='item'), sorted descending."""
    if axis not in ("user", "item"):
        raise ConfigError("axis must be 'user' or 'item'")
    index = dataset.ratings.users if axis == "user" else dataset.ratings.items
    size = dataset.n_users if axis == "user" else dataset.n_items
    return pd.Series(np.bincount(index, minlength=size)).sort_values(ascending=False, ignore_index=True)


def item_table(dataset: Dataset) -> pd.DataFrame:
    """Items with their rating count and mean."""
    r = dataset.ratings
    count = np.bincount(r.items, minlength=dataset.n_items)
    total = np.bincount(r.items, weights=r.values, minlength=dataset.n_items)
    table = dataset.items.copy()
    table["count"] = count
    table["mean_rating"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return table


def genre_table(dataset: Dataset) -> pd.DataFrame:
    """Per genre: number of movies, number of ratings and mean rating."""
    items = item_table(dataset).explode("genres").dropna(subset=["genres"])
    items = items[items["genres"] != ""]
    if items.empty:
        return pd.DataFrame(columns=["genre", "movies", "ratings", "mean_rating"])
    items["weighted"] = items["mean_rating"] * items["count"]
    grouped = items.groupby("genres").agg(movies=("item_id", "size"), ratings=("count", "sum"),
                                          weighted=("weighted", "sum"))
    grouped["mean_rating"] = grouped["weighted"] / grouped["ratings"].clip(lower=1)
    return grouped.drop(columns="weighted").sort_values("ratings", ascending=False) \
        .rename_axis("genre").reset_index()


def ratings_over_time(dataset: Dataset, freq: str = "M") -> pd.DataFrame:
    """Number of ratings and mean rating per period (empty when there are no timestamps)."""
    r = dataset.ratings
    if not r.timestamps.any():
        return pd.DataFrame(columns=["period", "ratings", "mean_rating"])
    when = pd.to_datetime(r.timestamps, unit="s").to_period("M" if freq == "M" else "Y").to_timestamp()
    frame = pd.DataFrame({"period": when, "rating": r.values})
    return frame.groupby("period").agg(ratings=("rating", "size"), mean_rating=("rating", "mean")).reset_index()


def top_movies(dataset: Dataset, by: str = "count", min_count: int = 50, n: int = 10) -> pd.DataFrame:
    """Most-rated (by='count') or best-rated (by='mean_rating', with at least min_count ratings)."""
    table = item_table(dataset)
    if by == "mean_rating":
        table = table[table["count"] >= min_count]
    elif by != "count":
        raise ConfigError("by must be 'count' or 'mean_rating'")
    table = table.sort_values([by, "count"], ascending=False).head(n)
    return table.assign(genres=table["genres"].map(" | ".join))[["title", "count", "mean_rating", "year", "genres"]]


def activity_order(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Users and items ordered from most to least active."""
    r = dataset.ratings
    users = np.argsort(-np.bincount(r.users, minlength=dataset.n_users), kind="stable")
    items = np.argsort(-np.bincount(r.items, minlength=dataset.n_items), kind="stable")
    return users, items


def binned_matrix(dataset: Dataset, rows: int = 100, cols: int = 200) -> np.ndarray:
    """The user x item matrix ordered by activity and binned to (rows, cols): the share of each
    bin's cells that hold a rating."""
    r = dataset.ratings
    users, items = activity_order(dataset)
    user_rank = np.empty(dataset.n_users, np.int64)
    user_rank[users] = np.arange(dataset.n_users)
    item_rank = np.empty(dataset.n_items, np.int64)
    item_rank[items] = np.arange(dataset.n_items)
    rows, cols = min(rows, dataset.n_users), min(cols, dataset.n_items)
    row_bin = user_rank[r.users] * rows // dataset.n_users
    col_bin = item_rank[r.items] * cols // dataset.n_items
    filled = np.zeros((rows, cols))
    np.add.at(filled, (row_bin, col_bin), 1)
    row_sizes = np.bincount(np.arange(dataset.n_users) * rows // dataset.n_users, minlength=rows)
    col_sizes = np.bincount(np.arange(dataset.n_items) * cols // dataset.n_items, minlength=cols)
    return filled / np.outer(row_sizes, col_sizes)


def matrix_window(dataset: Dataset, users: np.ndarray, items: np.ndarray) -> pd.DataFrame:
    """The actual cells for the given user and item indices: a pivot with NaN where unrated."""
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    grid = np.full((users.size, items.size), np.nan)
    column = np.full(dataset.n_items, -1)
    column[items] = np.arange(items.size)
    for row, user in enumerate(users):  # each user's own ratings (an index built once), not a scan of all
        rated, values = dataset.user_ratings(int(user))
        shown = column[rated] >= 0
        grid[row, column[rated[shown]]] = values[shown]
    return pd.DataFrame(grid, index=pd.Index(dataset.user_ids[users], name="user"),
                        columns=pd.Index(dataset.titles(items), name="movie"))


def favourite_threshold(dataset: Dataset) -> float:
    """The rating from which a movie counts as a favourite: one star below the top (4 of 5)."""
    return float(dataset.scale.high - 1)


def user_favourites(dataset: Dataset, user: int, n: int = 10) -> pd.DataFrame:
    """A user's highest ratings at or above `favourite_threshold` (latest first among ties), with
    titles and genres; empty when they rated nothing that high."""
    r = dataset.ratings
    rows = np.flatnonzero((r.users == user) & (r.values >= favourite_threshold(dataset)))
    order = rows[np.lexsort((-r.timestamps[rows], -r.values[rows]))][:n]
    items = r.items[order]
    return pd.DataFrame({"item": items, "title": dataset.titles(items), "rating": r.values[order],
                         "genres": [" | ".join(dataset.items.at[int(i), "genres"]) for i in items]})
