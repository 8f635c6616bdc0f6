"""What a trained model learned: 2-D maps of latent vectors, nearest neighbours, the reason
behind a recommendation, genre profiles and top-k for a new user (pure functions)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.stats import item_table
from recsys.errors import ConfigError
from recsys.models import Recommender, top_k_indices

PROJECTIONS = ("pca", "tsne", "raw")
TSNE_MAX_POINTS = 5_000  # t-SNE on more takes minutes: the most-rated movies are drawn
USER_MAP_MAX_POINTS = 20_000  # the most active users are drawn


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0, dims: int = 2) -> np.ndarray:
    """Vectors reduced to `dims` (2 or 3) columns: PCA, t-SNE, or the raw first factors (zero
    columns pad vectors with fewer factors)."""
    if method not in PROJECTIONS:
        raise ConfigError(f"projection must be one of {', '.join(PROJECTIONS)}, got {method!r}")
    if dims not in (2, 3):
        raise ConfigError(f"a map has 2 or 3 dimensions, not {dims}")
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] < 3:
        raise ConfigError("need at least three vectors to draw a map")
    if method == "raw" or vectors.shape[1] <= dims:
        return np.pad(vectors[:, :dims], ((0, 0), (0, max(0, dims - vectors.shape[1]))))
    if method == "pca":
        return pca_basis(vectors, dims)[1](vectors)
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (vectors.shape[0] - 1) // 3)))
    return TSNE(n_components=dims, perplexity=perplexity, init="pca", random_state=seed).fit_transform(vectors)


def pca_basis(vectors: np.ndarray, dims: int = 2):
    """(components, transform) of a PCA of `vectors`: the `dims` x factors directions, and the
    function that maps vectors onto them (centred), so a user's vector can be drawn on a movie map."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=dims, random_state=0).fit(np.asarray(vectors, dtype=np.float64))
    return pca.components_, pca.transform


def cosine_neighbours(vectors: np.ndarray, index: int, k: int = 10,
                      among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows to row `index` by cosine similarity (optionally among a subset)."""
    if not 0 <= index < len(vectors):
        raise ConfigError(f"index {index} is outside 0-{len(vectors) - 1}")
    norms = np.linalg.norm(vectors, axis=1) + 1e-12
    similarity = (vectors @ vectors[index]) / (norms * norms[index])
    candidates = np.arange(len(vectors)) if among is None else np.asarray(among, dtype=np.int64)
    candidates = candidates[candidates != index]
    if candidates.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    best = candidates[top_k_indices(similarity[candidates], k)]
    return best, similarity[best]


def item_map(dataset: Dataset, model: Recommender, method: str = "pca", min_count: int = 1,
             genres: list[str] | None = None, dims: int = 2, include: tuple[int, ...] = ()) -> pd.DataFrame:
    """Item vectors as a 2-D (or 3-D: column z) map with title, year, genre, mean rating and count
    per point. Items in `include` (e.g. a user's favourites and top-10) are drawn whatever the
    filters. `attrs["note"]` says when t-SNE ran on a sample; `attrs["components"]` holds the
    PCA directions (dims x factors) for drawing a user's direction. A model that knows how sure it
    is of each vector (bayes-fm's posterior) adds its spread (column spread)."""
    factors = model.factors()
    if factors is None:
        raise ConfigError(f"{model.name} has no latent factors to draw")
    table = item_table(dataset)
    keep = table["count"].to_numpy() >= min_count
    if genres:
        keep &= table["genres"].map(lambda g: bool(set(g) & set(genres))).to_numpy()
    included = np.zeros_like(keep)
    included[np.asarray([i for i in include if 0 <= i < keep.size], dtype=np.int64)] = True
    rows = np.flatnonzero(keep)
    if rows.size < 3:
        raise ConfigError("fewer than three movies pass the filters; lower the minimum count")
    note = ""
    if method == "tsne" and rows.size > TSNE_MAX_POINTS:
        note = (f"t-SNE runs on the {TSNE_MAX_POINTS:,} most-rated of the {rows.size:,} movies that pass the "
                "filters (PCA draws them all)")
        rows = most_counted(rows, table["count"].to_numpy(), TSNE_MAX_POINTS)
    rows = np.union1d(rows, np.flatnonzero(included))
    vectors = factors.items[rows]
    xy = project(vectors, method, dims=dims)
    out = table.iloc[rows].reset_index(drop=True)
    out = out.assign(item=rows, x=xy[:, 0], y=xy[:, 1],
                     genre=out["genres"].map(lambda g: g[0] if g else "(none)"),
                     genres=out["genres"].map(" | ".join))
    if dims == 3:
        out["z"] = xy[:, 2]
    if factors.item_spread is not None:  # a Bayesian model: how unsure it is of each movie's place
        out["spread"] = np.asarray(factors.item_spread)[rows]
    out.attrs["note"] = note
    out.attrs["method"] = method
    if method == "pca" and vectors.shape[1] > dims:
        out.attrs["components"] = pca_basis(vectors, dims)[0].tolist()
    return out


def adapted_min_count(dataset: Dataset, wanted: int, at_least: int = 100) -> int:
    """`wanted`, or less on a small dataset: the largest minimum number of ratings that still
    leaves `at_least` movies on the map (every movie when there are fewer)."""
    counts = np.sort(np.bincount(dataset.ratings.items, minlength=dataset.n_items))[::-1]
    if counts.size == 0:
        return 1
    return int(max(1, min(wanted, counts[min(at_least, counts.size) - 1])))


def search_titles(points: pd.DataFrame, query: str, limit: int = 20) -> pd.DataFrame:
    """The map's movies whose title holds `query` (case-insensitive), most rated first."""
    query = query.strip()
    if not query:
        return points.iloc[0:0]
    found = points[points["title"].str.contains(query, case=False, regex=False)]
    return found.sort_values("count", ascending=False).head(limit)


def selection_summary(points: pd.DataFrame, items: list[int] | np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a box or lasso selection holds: its movies (title, year, ratings, mean rating; most
    rated first) and its genre mix (share of the selected movies with each genre)."""
    chosen = points[points["item"].isin(np.asarray(items, dtype=np.int64))]
    table = chosen[["title", "year", "count", "mean_rating", "item"]].sort_values("count", ascending=False)
    genres = [g for text in chosen["genres"] for g in text.split(" | ") if g]
    mix = pd.Series(genres, dtype=object).value_counts()
    share = pd.DataFrame({"genre": mix.index.astype(str), "movies": mix.to_numpy(),
                          "share": mix.to_numpy() / max(len(chosen), 1)})
    return table.reset_index(drop=True), share


def movie_card(dataset: Dataset, item: int, top: int = 10) -> dict:
    """A movie's ratings: count, mean, histogram over the scale, and the users who rated it highest."""
    r = dataset.ratings
    mine = r.items == item
    values, users = r.values[mine], r.users[mine]
    levels = dataset.scale.levels
    histogram = pd.DataFrame({"rating": levels,
                              "count": [(np.abs(values - level) < 1e-6).sum() for level in levels]})
    order = np.lexsort((-np.bincount(r.users, minlength=dataset.n_users)[users], -values))[:top]
    raters = pd.DataFrame({"user": dataset.user_ids[users[order]], "rating": values[order]})
    return {"title": dataset.titles([item])[0], "count": int(values.size),
            "mean": float(values.mean()) if values.size else float("nan"), "histogram": histogram,
            "top_raters": raters}


def user_overlay(points: pd.DataFrame, favourites: np.ndarray, recommended: np.ndarray) -> pd.DataFrame:
    """The map points of a user's favourites and top-k, labelled by role (movies not on the map,
    e.g. filtered out, are left out)."""
    parts = []
    for role, items in (("favourite", favourites), ("recommended", recommended)):
        part = points[points["item"].isin(np.asarray(items, dtype=np.int64))].assign(role=role)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def user_direction(points: pd.DataFrame, vector: np.ndarray) -> np.ndarray | None:
    """Where a dot-product model's user vector points on a PCA or raw-factor movie map (2 or 3
    coordinates, scaled to the map's spread); None on a t-SNE map, which has no directions."""
    method = points.attrs.get("method")
    dims = 3 if "z" in points else 2
    vector = np.asarray(vector, dtype=np.float64)
    if method == "raw":
        direction = np.pad(vector[:dims], (0, max(0, dims - vector.size)))
    elif method == "pca" and "components" in points.attrs:
        direction = np.asarray(points.attrs["components"]) @ vector
    else:
        return None
    norm = np.linalg.norm(direction)
    if norm == 0:
        return None
    spread = float(np.abs(points[["x", "y"] + (["z"] if dims == 3 else [])].to_numpy()).max())
    return direction / norm * spread * 0.8


def most_counted(rows: np.ndarray, counts: np.ndarray, most: int) -> np.ndarray:
    """The `most` rows with the highest counts, in their original order."""
    return np.sort(rows[np.argsort(-counts[rows], kind="stable")[:most]])


def user_map(dataset: Dataset, model: Recommender, method: str = "pca") -> pd.DataFrame:
    """User vectors as a 2-D map with each user's rating count and mean rating."""
    factors = model.factors()
    if factors is None:
        raise ConfigError(f"{model.name} has no latent factors to draw")
    r = dataset.ratings
    count = np.bincount(r.users, minlength=dataset.n_users)
    mean = np.bincount(r.users, weights=r.values, minlength=dataset.n_users) / np.maximum(count, 1)
    rows, note = np.arange(dataset.n_users), ""
    if rows.size > USER_MAP_MAX_POINTS:
        rows = most_counted(rows, count, USER_MAP_MAX_POINTS)
        note = f"the {USER_MAP_MAX_POINTS:,} most active of {dataset.n_users:,} users are drawn"
    xy = project(factors.users[rows], method)
    out = pd.DataFrame({"user": dataset.user_ids[rows], "x": xy[:, 0], "y": xy[:, 1], "count": count[rows],
                        "mean_rating": mean[rows]})
    out.attrs["note"] = note
    return out


def liked_items(items: np.ndarray, ratings: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """The movies among `items` rated at or above `threshold` (default: the mean of `ratings`)."""
    items, ratings = np.asarray(items, dtype=np.int64), np.asarray(ratings, dtype=np.float64)
    if items.size == 0:
        return items
    cut = ratings.mean() if threshold is None else threshold
    return items[ratings >= cut]


def reasons(model: Recommender, dataset: Dataset, liked: np.ndarray, items: np.ndarray, n: int = 2) -> list[str]:
    """'because you liked X, Y': the liked movies that explain each recommended item: the
    nearest in the model's item latent space, or for an item-item model (EASE) the ones with the
    largest weights (empty strings when the model has neither)."""
    factors = model.factors()
    explains = model.explains  # item-item models say which liked items weigh most
    if (factors is None and not explains) or liked.size == 0:
        return [""] * len(items)
    out = []
    for item in items:
        nearest = model.because(int(item), liked, n) if explains else \
            cosine_neighbours(factors.items, int(item), n, among=liked)[0]
        out.append("because you liked " + ", ".join(dataset.titles(nearest)) if nearest.size else "")
    return out


def genre_profile(dataset: Dataset, groups: dict[str, np.ndarray]) -> pd.DataFrame:
    """Share of each genre among the items of each named group (long format)."""
    rows = []
    for group, items in groups.items():
        genres = [g for i in np.asarray(items, dtype=np.int64) for g in dataset.items.at[int(i), "genres"]]
        counts = pd.Series(genres, dtype=object).value_counts()
        total = max(len(items), 1)
        rows += [{"group": group, "genre": genre, "share": count / total} for genre, count in counts.items()]
    return pd.DataFrame(rows, columns=["group", "genre", "share"])


def selection_items(selection: dict | None) -> tuple[list[int], bool]:
    """The item indices of a chart selection event ({"points": [...], "box": [...], "lasso": [...]},
    each point carrying its item as customdata), and whether it was an area (box or lasso) rather
    than a click."""
    if not selection:
        return [], False
    items = []
    for point in selection.get("points", []):
        data = point.get("customdata")
        if isinstance(data, dict):  # the browser sends a point's customdata row as {"0": id, "1": ...}
            data = data.get("0", data.get(0))
        if isinstance(data, (list, tuple)) and data:
            data = data[0]
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            items.append(int(data))
    area = bool(selection.get("box") or selection.get("lasso"))
    return list(dict.fromkeys(items)), area
