"""The one path for "recommend for a user", used by the CLI and every page: the top-k among the
movies the user has not rated anywhere in the dataset, from the model where it knows the user,
from a fold-in of the user's ratings where the model can do that, and otherwise from the bias
fallback, always saying which of the three it was."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.explain.explore import liked_items, reasons
from recsys.models import Recommender
from recsys.models.outputs import Recommendations, check_k

#: how a list was made
FROM_MODEL, FROM_FOLD_IN, FROM_FALLBACK = "model", "fold-in", "fallback"


#: the column of the score a list is ranked by, where a prediction is clipped to the scale for display
RANKS_BY = "ranked by"


@dataclass(frozen=True)
class UserRecommendations:
    """A top-k table (title, score, genres, reason, item) and how it was made."""

    table: pd.DataFrame
    source: str
    note: str
    score_label: str


def for_user(model: Recommender, dataset: Dataset, user: int, k: int = 10) -> UserRecommendations:
    """Top-k movies for a dataset user index, excluding every movie they rated in the dataset
    (also those the model did not see, e.g. in a test part)."""
    check_k(k)
    rated, values = dataset.user_ratings(user)
    liked = liked_items(rated, values)
    if model.knows_user(user):
        recs = model.recommend(user, k=k, exclude=rated)
        note = "" if rated.size == len(model.seen_items(user)) else \
            (f"{rated.size - len(model.seen_items(user))} of this user's {rated.size} ratings were not in the "
             "model's training data (they are in its test part); they are left out of the list too.")
        return _result(model, dataset, recs, liked, FROM_MODEL, note)
    if model.can_fold_in and rated.size:
        scores = model.fold_in(rated, values)
        recs = model.top_k(scores, k, exclude=rated)
        note = (f"This user has no ratings in the model's training data (they are new to it); their "
                f"{rated.size} rating(s) in the dataset were folded into the trained movie factors.")
        return _result(model, dataset, recs, liked, FROM_FOLD_IN, note)
    recs = model.recommend(user, k=k, exclude=rated)
    why = "it cannot fold a new user in" if not model.can_fold_in else "the user has no ratings"
    note = (f"This user has no ratings in the model's training data and {why}: the list ranks movies by "
            "the mean rating plus each movie's regularised bias (and how newcomers tend to rate), the same "
            "for every new user.")
    return _result(model, dataset, recs, liked, FROM_FALLBACK, note)


def for_new_user(model: Recommender, dataset: Dataset, items: list[int] | np.ndarray,
                 ratings: list[float] | np.ndarray, k: int = 10) -> UserRecommendations:
    """Top-k for a person who just rated `items` (not in the dataset), folded into the model."""
    check_k(k)
    items = np.asarray(items, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    if items.size == 0:
        raise ConfigError("rate at least one movie first")
    if not model.can_fold_in:
        raise ConfigError(f"{model.name} cannot fold in a new user; choose a factor or neighbourhood model")
    recs = model.top_k(model.fold_in(items, ratings), k, exclude=items)
    return _result(model, dataset, recs, liked_items(items, ratings), FROM_FOLD_IN,
                   f"Your {items.size} rating(s) were folded into the trained model: no retraining.")


def _result(model: Recommender, dataset: Dataset, recs: Recommendations, liked: np.ndarray, source: str,
            note: str) -> UserRecommendations:
    table = pd.DataFrame({
        "title": dataset.titles(recs.items), recs.score_label: np.round(recs.scores, 3),
        **({RANKS_BY: np.round(recs.ranked_by, 3)} if recs.ranked_by is not None else {}),
        "genres": [" | ".join(dataset.items.at[int(i), "genres"]) for i in recs.items],
        "reason": reasons(model, dataset, liked, recs.items) if source != FROM_FALLBACK else [""] * len(recs.items),
        "item": recs.items})
    return UserRecommendations(table, source, note, recs.score_label)


@dataclass(frozen=True)
class FutureCheck:
    """A top-k made from the training part only, checked against the user's test part."""

    table: pd.DataFrame  # title, score, genres, "rated later", "their rating", item
    hits: int
    ndcg: float  # NaN when the user rated nothing >= the relevance threshold later
    later: int  # how many of the user's ratings are in the test part
    relevant: int
    note: str


def against_the_future(model: Recommender, dataset: Dataset, split: Split, user: int, k: int = 10,
                       threshold: float = 4.0) -> FutureCheck | None:
    """For a model trained on `split`, its top-k for `user` among the movies they had not rated in
    training, marked with which of them they rated in the test part (later, for the time and
    temporal splits) and how; hits and NDCG@k as the evaluation computes them (relevant: a test
    rating >= `threshold`). None when the split has no test part (`full`)."""
    from recsys.evaluation.evaluate import ranking_metrics

    check_k(k)
    if not split.has_test:
        return None
    train, test = split.apply(dataset)
    mine = test.users == user
    later_items, later_values = test.items[mine], test.values[mine]
    trained_on = train.items[train.users == user]
    recs = model.recommend(user, k=k, exclude=trained_on) if model.knows_user(user) else \
        model.top_k(model.fallback_scores(), k, exclude=trained_on, fallback=True)
    rating_of = dict(zip(later_items.tolist(), later_values.tolist()))
    rated = np.array([int(i) in rating_of for i in recs.items], dtype=bool)
    relevant = later_items[later_values >= threshold]
    top = np.full((1, k), -1, dtype=np.int64)
    top[0, :recs.items.size] = recs.items
    ndcg = ranking_metrics(top, [relevant], dataset.n_items, k).ndcg if relevant.size else float("nan")
    table = pd.DataFrame({"title": dataset.titles(recs.items), recs.score_label: np.round(recs.scores, 3),
                          "rated later": rated,
                          "their rating": [rating_of.get(int(i), np.nan) for i in recs.items], "item": recs.items})
    when = "later" if split.kind in ("time", "temporal") else "in the held-out part"
    note = (f"{int(rated.sum())} of these {recs.items.size} were rated by this user {when} "
            f"({later_items.size} test ratings, {relevant.size} of them >= {threshold:g}).")
    return FutureCheck(table, int(rated.sum()), float(ndcg), int(later_items.size), int(relevant.size), note)


def users_who_rated_later(dataset: Dataset, split: Split, n: int = 5) -> list:
    """The ids of the `n` users with the most ratings in the split's test part (most first): people
    whose top-10 can be checked against what they went on to rate."""
    _, test = split.apply(dataset)
    counts = np.bincount(test.users, minlength=dataset.n_users)
    best = np.argsort(-counts, kind="stable")[:n]
    return [dataset.user_ids[u] for u in best if counts[u] > 0]
