"""Synthetic ratings with MovieLens-25M's shape, for speed and scale benchmarks only.

Users and movies get long-tailed activity and popularity (power laws), ratings come from a
latent-factor model plus noise, rounded to half stars. Every dataset made here is marked
`synthetic=True` and named `synthetic-...`, so no page or table can pass it off as MovieLens."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, build_dataset
from recsys.data.readers import HALF_STARS
from recsys.errors import ConfigError

ML25M_USERS = 162_541
ML25M_ITEMS = 59_047
RECIPE = 1  # bump when the generator changes, so fast local copies of synthetic sets are rebuilt
GENRES = ("Drama", "Comedy", "Thriller", "Romance", "Action", "Horror", "Documentary", "Crime",
          "Adventure", "Sci-Fi", "Children", "Animation", "Mystery", "Fantasy", "War", "Western",
          "Musical", "Film-Noir", "IMAX")


def _long_tail(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    rng.shuffle(weights)
    return weights / weights.sum()


def synthetic_dataset(n_ratings: int, n_users: int = ML25M_USERS, n_items: int = ML25M_ITEMS,
                      factors: int = 8, noise: float = 0.8, seed: int = 0, name: str = "") -> Dataset:
    """About `n_ratings` distinct (user, item) ratings (duplicates drawn are dropped), with
    synthetic titles ("Synthetic movie 17 (1994)") and genres drawn from MovieLens's list."""
    if n_ratings < 10 or n_users < 2 or n_items < 2:
        raise ConfigError("a synthetic dataset needs at least 10 ratings, 2 users and 2 items")
    if n_ratings > 0.5 * n_users * n_items:
        raise ConfigError("too many ratings for the matrix: keep it below half full")
    rng = np.random.default_rng(seed)
    user_p, item_p = _long_tail(n_users, 0.9, rng), _long_tail(n_items, 1.1, rng)
    keys, draw_ratio = np.zeros(0, dtype=np.int64), 1.2
    for _ in range(50):  # popular pairs collide: draw again, sized by the last round's yield
        missing = n_ratings - keys.size
        if missing <= 0:
            break
        draw = int(missing * draw_ratio) + 1000
        users = rng.choice(n_users, size=draw, p=user_p).astype(np.int64)
        items = rng.choice(n_items, size=draw, p=item_p).astype(np.int64)
        before = keys.size
        keys = np.unique(np.concatenate([keys, users * n_items + items]))
        draw_ratio = min(20.0, 1.1 * draw / max(keys.size - before, 1))
    keys = rng.permutation(keys)[:n_ratings]
    users, items = keys // n_items, keys % n_items
    p = rng.normal(0, 0.45, (n_users, factors)).astype(np.float32)
    q = rng.normal(0, 0.45, (n_items, factors)).astype(np.float32)
    b_user = rng.normal(0, 0.4, n_users).astype(np.float32)
    b_item = rng.normal(0, 0.5, n_items).astype(np.float32)
    raw = 3.5 + b_user[users] + b_item[items] + np.einsum("nk,nk->n", p[users], q[items]) + \
        rng.normal(0, noise, users.size).astype(np.float32)
    ratings = np.clip(np.round(raw * 2) / 2, HALF_STARS.low, HALF_STARS.high).astype(np.float32)
    frame = pd.DataFrame({"user": users + 1, "item": items + 1, "rating": ratings,
                          "timestamp": rng.integers(789_652_009, 1_574_327_703, users.size)})
    return build_dataset(name or f"synthetic-{n_ratings}", frame, _movies(n_items, rng), HALF_STARS,
                         notes=["synthetic ratings (not MovieLens), for benchmarks"], synthetic=True)


def _movies(n_items: int, rng: np.random.Generator) -> pd.DataFrame:
    years = rng.integers(1920, 2020, n_items)
    first = rng.choice(len(GENRES), n_items, p=_long_tail(len(GENRES), 1.0, rng))
    second = rng.integers(0, len(GENRES), n_items)
    genres = [[GENRES[a]] if a == b or rng_flag else [GENRES[a], GENRES[b]]
              for a, b, rng_flag in zip(first, second, rng.random(n_items) < 0.5)]
    return pd.DataFrame({"item": np.arange(1, n_items + 1),
                         "title": [f"Synthetic movie {i} ({y})" for i, y in zip(range(1, n_items + 1), years)],
                         "genres": genres})


def write_movielens_folder(dataset: Dataset, folder: Path) -> Path:
    """Write a dataset in MovieLens-25M's layout (ratings.csv, movies.csv), to test and bench the
    readers at size. The caller labels the folder as synthetic."""
    folder.mkdir(parents=True, exist_ok=True)
    ratings = dataset.ratings
    frame = pd.DataFrame({"userId": dataset.user_ids[ratings.users], "movieId": dataset.item_ids[ratings.items],
                          "rating": ratings.values, "timestamp": ratings.timestamps})
    frame.to_csv(folder / "ratings.csv", index=False, float_format="%g", chunksize=1_000_000)
    movies = pd.DataFrame({"movieId": dataset.item_ids, "title": dataset.items["title"],
                           "genres": ["|".join(g) or "(no genres listed)" for g in dataset.items["genres"]]})
    movies.to_csv(folder / "movies.csv", index=False)
    return folder
