"""The Lessons page's numbers: matrix factorisation taught one idea at a time (pure functions).

Every lesson works from an `als` model (explicit ALS with biases, `recsys.models.als`), whose
half steps, biases and vectors are the textbook's own objects:

1. you in the matrix: movies worth rating, and where a new person's folded-in vector lands;
2. two steps, then alternate: the error after each half step (people solved, movies solved);
3. what a direction means: the main directions of the movie vectors, named by their ends;
4. biases first: the mean, then movie biases, then user biases, then factors;
5. regularisation: the same model with and without its penalty (curves, maps);
6. dot product or cosine: nearest neighbours both ways, and vector length against popularity;
7. cold start: a person's error after 1, 3 and 10 ratings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, Ratings
from recsys.data.readers import MINI_MATRIX, mini_dataset
from recsys.errors import ConfigError
from recsys.explain.explore import pca_basis
from recsys.models import top_k_indices
from recsys.models.als import ALS
from recsys.models.registry import make_model

#: the damping of the biases lesson's means (a movie with few ratings is pulled towards the mean)
ITEM_DAMPING, USER_DAMPING = 10.0, 15.0
COLD_SIZES = (1, 3, 10)


def _counts(ratings: Ratings, side: str = "items") -> np.ndarray:
    keys, n = (ratings.items, ratings.n_items) if side == "items" else (ratings.users, ratings.n_users)
    return np.bincount(keys, minlength=n)


def _among_rated(dataset: Dataset, scores: np.ndarray, min_count: int) -> np.ndarray:
    """`scores` with the movies rated fewer than `min_count` times left out (-inf)."""
    return np.where(_counts(dataset.ratings) >= min_count, scores, -np.inf)


def _check_map_model(model) -> None:
    if not isinstance(model, ALS) or not model.is_fitted:
        raise ConfigError("the lessons need a fitted als model")


# 1. You in the matrix ---------------------------------------------------------------------------

def movies_to_rate(dataset: Dataset, model: ALS, n: int = 10, pool: int = 150) -> np.ndarray:
    """`n` movies that spread over the movie map: among the `pool` most-rated, the most-rated
    first, then each next one the farthest (on the map of the two main directions) from those
    already picked, with divisive movies (a wide spread of ratings) counting as farther."""
    _check_map_model(model)
    r = dataset.ratings
    counts = _counts(r)
    candidates = np.argsort(-counts, kind="stable")[:max(pool, n)]
    candidates = candidates[counts[candidates] > 0]
    if candidates.size < n:
        raise ConfigError(f"{dataset.name} has only {candidates.size} rated movies; the lesson needs {n}")
    mean = np.bincount(r.items, weights=r.values, minlength=r.n_items) / np.maximum(counts, 1)
    square = np.bincount(r.items, weights=r.values ** 2, minlength=r.n_items) / np.maximum(counts, 1)
    spread = np.sqrt(np.maximum(square - mean ** 2, 0))[candidates]
    xy = pca_basis(model.factors().items[candidates])[1](model.factors().items[candidates])
    xy = xy / (xy.std(axis=0) + 1e-12)
    weight = 1.0 + (spread - spread.min()) / (np.ptp(spread) + 1e-12)  # 1 to 2: the most divisive count double
    picked = [0]
    distance = np.linalg.norm(xy - xy[0], axis=1)
    while len(picked) < n:
        score = distance * weight
        score[picked] = -1
        best = int(np.argmax(score))
        picked.append(best)
        distance = np.minimum(distance, np.linalg.norm(xy - xy[best], axis=1))
    return candidates[picked]


@dataclass(frozen=True)
class YouInMatrix:
    """Everyone's place on the people map, a new person's place, and their folded-in top-10."""

    people: pd.DataFrame   # user, x, y, count
    you: tuple[float, float]
    top: pd.DataFrame      # title, predicted, genres
    bias: float


def place_you(dataset: Dataset, model: ALS, items: np.ndarray, ratings: np.ndarray, k: int = 10,
              min_count: int = 10) -> YouInMatrix:
    """Fold a new person's ratings into the model (one half step for one row: no retraining) and
    draw them on the map of everyone's vectors (their two main directions); their top-k among the
    movies with at least `min_count` ratings."""
    _check_map_model(model)
    items, ratings = np.asarray(items, dtype=np.int64), np.asarray(ratings, dtype=np.float64)
    if items.size == 0:
        raise ConfigError("rate at least one movie to land on the map")
    vector, bias = model.user_vector(items, ratings)
    users = model.factors().users
    transform = pca_basis(users)[1]
    xy, you = transform(users), transform(vector[None, :])[0]
    people = pd.DataFrame({"user": dataset.user_ids, "x": xy[:, 0], "y": xy[:, 1],
                           "count": _counts(dataset.ratings, "users")})
    scores = _among_rated(dataset, model.fold_in(items, ratings), min_count)
    scores[items] = -np.inf
    best = top_k_indices(scores, k)
    top = pd.DataFrame({"title": dataset.titles(best), "predicted": np.round(scores[best], 2),
                        "genres": [" | ".join(dataset.items.at[int(i), "genres"]) for i in best]})
    return YouInMatrix(people, (float(you[0]), float(you[1])), top, bias)


# 2. Two steps, then alternate -------------------------------------------------------------------

def alternation_table(half_steps: np.ndarray) -> pd.DataFrame:
    """One row per half step of an ALS fit: which side was just solved, the error after it on the
    training part and, where there is one, the validation part, and the root of the penalised
    loss per training rating (what every half step lowers; NaN where not recorded)."""
    steps = np.asarray(half_steps, dtype=np.float64)
    if steps.ndim != 2 or steps.shape[1] not in (2, 3) or len(steps) < 1:
        raise ConfigError("half steps must be rows of (training RMSE, validation RMSE[, root penalised loss])")
    solved = ["random start"] + ["people solved" if s % 2 else "movies solved" for s in range(1, len(steps))]
    objective = steps[:, 2] if steps.shape[1] == 3 else np.full(len(steps), np.nan)
    return pd.DataFrame({"half_step": np.arange(len(steps)), "iteration": np.arange(len(steps)) / 2,
                         "solved": solved, "train_rmse": steps[:, 0], "valid_rmse": steps[:, 1],
                         "objective": objective})


def mini_alternation(grid: np.ndarray | None = None, iterations: int = 6, reg: float = 0.02,
                     factors: int = 2) -> pd.DataFrame:
    """The same half steps on the 4 x 5 romance/sci-fi example (its known cells are all the data)."""
    model = make_model("als", factors=factors, reg=reg, prior=0.0, iterations=iterations, seed=7)
    model.fit(mini_dataset(MINI_MATRIX if grid is None else grid).ratings)
    return alternation_table(model.half_steps)


# 3. What a direction means ----------------------------------------------------------------------

@dataclass(frozen=True)
class Directions:
    """The movie map along the main directions of the vectors (PCA), well-rated movies only."""

    points: pd.DataFrame     # item, title, count, d1, d2, d3 ...
    explained: np.ndarray    # share of the vectors' variance along each direction


def directions(dataset: Dataset, model: ALS, n: int = 3, min_count: int = 20) -> Directions:
    """The movies with at least `min_count` ratings placed along the `n` main directions of their
    vectors; each column is one direction, its sign fixed so the most-rated movie lies on the +
    side (a PCA direction's sign is arbitrary)."""
    from sklearn.decomposition import PCA

    _check_map_model(model)
    counts = _counts(dataset.ratings)
    items = np.flatnonzero(counts >= min_count)
    if items.size <= n:
        raise ConfigError(f"fewer than {n + 1} movies have {min_count} ratings; lower the minimum")
    vectors = model.factors().items[items]
    n = min(n, vectors.shape[1])
    pca = PCA(n_components=n, random_state=0).fit(vectors)
    coords = pca.transform(vectors)
    top = int(np.argmax(counts[items]))
    coords *= np.where(coords[top] < 0, -1.0, 1.0)
    points = pd.DataFrame({"item": items, "title": dataset.titles(items), "count": counts[items]})
    for d in range(n):
        points[f"d{d + 1}"] = coords[:, d]
    return Directions(points, pca.explained_variance_ratio_)


def direction_ends(found: Directions, direction: int, k: int = 5) -> pd.DataFrame:
    """The `k` movies at each end of one direction (1-based), the − end first."""
    column = f"d{direction}"
    if column not in found.points:
        raise ConfigError(f"there is no direction {direction}")
    ordered = found.points.sort_values(column, kind="stable")
    low, high = ordered.head(k), ordered.tail(k).iloc[::-1]
    return pd.DataFrame({"rank": np.arange(1, len(low) + 1), "− end": low["title"].to_numpy(),
                         "+ end": high["title"].to_numpy()})


def walk(found: Directions, direction: int, position: float, k: int = 5) -> pd.DataFrame:
    """The `k` movies nearest (over all the directions found) to the point at `position` on one
    direction and 0 on the others: what a point passes as it slides along that direction."""
    columns = [c for c in found.points.columns if c.startswith("d") and c[1:].isdigit()]
    if f"d{direction}" not in columns:
        raise ConfigError(f"there is no direction {direction}")
    point = np.array([position if c == f"d{direction}" else 0.0 for c in columns])
    distance = np.linalg.norm(found.points[columns].to_numpy() - point, axis=1)
    nearest = np.argsort(distance, kind="stable")[:k]
    out = found.points.iloc[nearest][["title", f"d{direction}"]].rename(columns={f"d{direction}": "position"})
    return out.assign(distance=distance[nearest]).reset_index(drop=True)


# 4. Biases first --------------------------------------------------------------------------------

def damped_biases(train: Ratings) -> tuple[float, np.ndarray, np.ndarray]:
    """The global mean, movie biases (damped means of r - mu), then user biases given those."""
    mean = float(train.values.mean())
    movie = np.bincount(train.items, weights=train.values - mean, minlength=train.n_items) \
        / (_counts(train) + ITEM_DAMPING)
    rest = train.values - mean - movie[train.items]
    user = np.bincount(train.users, weights=rest, minlength=train.n_users) / (_counts(train, "users") + USER_DAMPING)
    return mean, movie, user


def bias_ladder(train: Ratings, test: Ratings, model: ALS) -> pd.DataFrame:
    """Test RMSE as each part of r = mu + b_i + b_u + p.q is added: the mean, movie biases, user
    biases (damped means), then the factors (the trained als model)."""
    if len(test) == 0:
        raise ConfigError("the split has no test ratings")
    mean, movie, user = damped_biases(train)
    low, high = test.scale.low, test.scale.high

    def error(predicted: np.ndarray) -> float:
        return float(np.sqrt(np.mean((np.clip(predicted, low, high) - test.values) ** 2)))

    steps = [("global mean", error(np.full(len(test), mean))),
             ("+ movie biases", error(mean + movie[test.items])),
             ("+ user biases", error(mean + movie[test.items] + user[test.users])),
             ("+ factors (als)", error(model.predict(test.users, test.items)))]
    return pd.DataFrame(steps, columns=["model", "rmse"])


def bias_extremes(dataset: Dataset, train: Ratings, min_count: int = 50, k: int = 8) -> pd.DataFrame:
    """The movies (with at least `min_count` training ratings) rated most above and most below the
    mean once every rating is compared with the mean: the largest and smallest movie biases."""
    _, movie, _ = damped_biases(train)
    counts = _counts(train)
    items = np.flatnonzero(counts >= min_count)
    if items.size == 0:
        raise ConfigError(f"no movie has {min_count} ratings; lower the minimum")
    order = items[np.argsort(-movie[items], kind="stable")]
    rows = [("above", i) for i in order[:k]] + [("below", i) for i in order[::-1][:k]]
    return pd.DataFrame({"side": [s for s, _ in rows], "title": dataset.titles([i for _, i in rows]),
                         "bias": [round(float(movie[i]), 3) for _, i in rows],
                         "ratings": [int(counts[i]) for _, i in rows]})


# 5. Regularisation ------------------------------------------------------------------------------

def curves(models: dict[str, ALS]) -> pd.DataFrame:
    """Each model's training and validation error after every iteration (long form)."""
    frames = []
    for label, model in models.items():
        table = alternation_table(model.half_steps)
        table = table[table["half_step"] % 2 == 0]
        for part, column in (("training", "train_rmse"), ("validation", "valid_rmse")):
            frames.append(pd.DataFrame({"model": label, "part": part, "iteration": table["iteration"],
                                        "rmse": table[column]}))
    return pd.concat(frames, ignore_index=True)


# 6. Dot product or cosine -----------------------------------------------------------------------

def neighbours_both_ways(dataset: Dataset, model: ALS, item: int, k: int = 10, min_count: int = 10) -> pd.DataFrame:
    """A movie's `k` nearest movies (with at least `min_count` ratings) by dot product and by
    cosine similarity, side by side: the dot product favours long vectors, that is popular movies."""
    _check_map_model(model)
    vectors = model.factors().items
    if not 0 <= item < len(vectors):
        raise ConfigError(f"movie index {item} is outside 0-{len(vectors) - 1}")
    counts = _counts(dataset.ratings)
    among = np.flatnonzero((counts >= min_count) & (np.arange(len(vectors)) != item))
    dot = vectors[among] @ vectors[item]
    lengths = np.linalg.norm(vectors, axis=1) + 1e-12
    cosine = dot / (lengths[among] * lengths[item])
    by_dot, by_cosine = among[top_k_indices(dot, k)], among[top_k_indices(cosine, k)]
    return pd.DataFrame({"rank": np.arange(1, len(by_dot) + 1),
                         "by dot product": dataset.titles(by_dot), "its ratings (dot)": counts[by_dot],
                         "by cosine": dataset.titles(by_cosine), "its ratings (cosine)": counts[by_cosine]})


def length_and_popularity(dataset: Dataset, model: ALS) -> tuple[pd.DataFrame, float]:
    """Each rated movie's vector length and number of ratings, and their Spearman correlation."""
    _check_map_model(model)
    counts = _counts(dataset.ratings)
    items = np.flatnonzero(counts > 0)
    lengths = np.linalg.norm(model.factors().items[items], axis=1)
    frame = pd.DataFrame({"title": dataset.titles(items), "ratings": counts[items], "length": lengths})
    return frame, float(frame["ratings"].rank().corr(frame["length"].rank()))


# 7. Cold start ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColdStart:
    errors: pd.DataFrame     # ratings known, rmse, users, test ratings
    example: pd.DataFrame    # one person's top-10 after each size: ratings known, rank, title


def cold_start(dataset: Dataset, train: Ratings, test: Ratings, model: ALS, sizes: tuple[int, ...] = COLD_SIZES,
               users: int = 100, seed: int = 0) -> ColdStart:
    """People treated as new: for up to `users` people with more training ratings than the largest
    size and some test ratings, their vector is rebuilt from only their first n training ratings
    (by time) and their test ratings predicted; 0 is the movie biases alone (the model's fallback),
    "all" their vector as trained. The movie vectors were learned with these people in, so this
    isolates what a person's own ratings add."""
    _check_map_model(model)
    if not sizes or min(sizes) < 1:
        raise ConfigError("cold-start sizes must be whole numbers of at least 1")
    train_counts, test_counts = _counts(train, "users"), _counts(test, "users")
    eligible = np.flatnonzero((train_counts > max(sizes)) & (test_counts > 0))
    if eligible.size == 0:
        raise ConfigError(f"no user has more than {max(sizes)} training ratings and a test rating")
    chosen = np.sort(np.random.default_rng(seed).permutation(eligible)[:users])
    order = np.lexsort((train.timestamps, train.users))
    starts = np.searchsorted(train.users[order], chosen)
    in_test = np.isin(test.users, chosen)
    t_users, t_items, t_values = test.users[in_test], test.items[in_test], test.values[in_test]
    mean, _, movie_bias = model.biases()
    rows = [(0, mean + movie_bias[t_items])]
    example_user = chosen[0]
    example = []
    for size in sizes:
        predicted = np.empty(len(t_values))
        for user, start in zip(chosen, starts):
            first = order[start:start + size]
            at = t_users == user
            predicted[at] = model.fold_in_predict(train.items[first], train.values[first], t_items[at])
            if user == example_user:
                scores = _among_rated(dataset, model.fold_in(train.items[first], train.values[first]), 10)
                scores[train.items[first]] = -np.inf
                best = top_k_indices(scores, 10)
                example += [(size, rank + 1, title) for rank, title in enumerate(dataset.titles(best))]
        rows.append((size, predicted))
    rows.append(("all", model.predict(t_users, t_items)))
    low, high = test.scale.low, test.scale.high
    errors = pd.DataFrame({"ratings known": [str(size) for size, _ in rows],
                           "rmse": [float(np.sqrt(np.mean((np.clip(p, low, high) - t_values) ** 2))) for _, p in rows],
                           "users": chosen.size, "test ratings": int(in_test.sum())})
    return ColdStart(errors, pd.DataFrame(example, columns=["ratings known", "rank", "title"]))
