"""Every number the project reports, by its column name: the name a reader understands, what it
means in a line, the range it cannot leave and which way is better. Pages, tables, the command
line's help and the interval code all read it, so a number is named the same everywhere."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A reported number: its readable name, its meaning in a line, its range and direction."""

    label: str
    meaning: str
    low: float = -math.inf
    high: float = math.inf
    lower_is_better: bool | None = None  # None: neither (a count, a time)


SHARE = {"low": 0.0, "high": 1.0}
ERROR = {"low": 0.0, "lower_is_better": True}

TERMS: dict[str, Term] = {
    "rmse": Term("RMSE", "root mean squared error of the predicted ratings", **ERROR),
    "mae": Term("MAE", "mean absolute error of the predicted ratings", **ERROR),
    "ndcg": Term("NDCG@10", "how high the movies a user rated 4+ later sit in their top-10 (1 = at the top)",
                 lower_is_better=False, **SHARE),
    "precision": Term("precision@10", "share of the top-10 the user rated 4+ in the test part",
                      lower_is_better=False, **SHARE),
    "recall": Term("recall@10", "share of the user's 4+ test ratings that made the top-10",
                   lower_is_better=False, **SHARE),
    "coverage": Term("catalogue coverage", "share of the catalogue recommended to anyone", **SHARE),
    "gini": Term("Gini of exposure", "how unevenly the list slots go to movies (0 even, 1 a few take all)", **SHARE),
    "arp": Term("average popularity (ARP)", "mean number of training ratings of the recommended movies", low=0.0),
    "aplt": Term("long-tail share (APLT)", "share of each list outside the movies that make 80% of ratings",
                 **SHARE),
    "novelty": Term("novelty (bits)", "mean -log2 of the share of users who rated a recommended movie", low=0.0),
    "diversity": Term("genre diversity", "1 - mean genre overlap (Jaccard) of two movies in a list", **SHARE),
    "factor_diversity": Term("vector diversity", "1 - mean cosine of two listed movies' vectors in the model",
                             low=0.0, high=2.0),
    "personalisation": Term("personalisation", "1 - mean overlap of two users' lists", **SHARE),
    "poprsp": Term("popularity parity (PopRSP)", "how unequally popular and long-tail movies are recommended per movie "
                   "(std/mean of the two rates; 0 equal); popular = the movies holding 80% of training ratings",
                   lower_is_better=True, **SHARE),
    "popreo": Term("popularity opportunity (PopREO)", "how unequally a liked (4+) test movie makes the list when "
                   "popular vs long-tail (std/mean of the two recall rates; 0 equal)", lower_is_better=True, **SHARE),
    "miscalibration": Term("genre miscalibration", "KL divergence of a user's top-10 genre mix from the mix they "
                           "watched (0.01 mixing; 0: the same mix), mean over users", low=0.0, lower_is_better=True),
    "n_warm": Term("warm rows", "test ratings whose user and movie both have training ratings", low=0.0),
    "rmse_warm": Term("RMSE, warm rows", "error on the warm rows", **ERROR),
    "n_new_user": Term("rows of new users", "test ratings of users with no training rating", low=0.0),
    "rmse_new_user": Term("RMSE, new users", "error on the rows of new users", **ERROR),
    "n_new_item": Term("rows of new movies", "test ratings of movies with no training rating", low=0.0),
    "rmse_new_item": Term("RMSE, new movies", "error on the rows of new movies", **ERROR),
    "users_warm": Term("warm users", "test users with training ratings (scored for top-10)", low=0.0),
    "ndcg_warm": Term("NDCG@10, warm users", "top-10 quality for users with training ratings",
                      lower_is_better=False, **SHARE),
    "users_new": Term("new users", "test users with no training rating", low=0.0),
    "ndcg_new_user": Term("NDCG@10, new users", "top-10 quality for users new to the model",
                          lower_is_better=False, **SHARE),
    "fit_seconds": Term("fit (s)", "seconds the model took to train", low=0.0),
    "val_rmse": Term("validation RMSE", "error on the validation part carved from the training data", **ERROR),
    "folds": Term("folds", "how many folds the mean is over", low=0.0),
}


def label(name: str) -> str:
    """The readable name of a column (the name itself when it is not a reported number)."""
    term = TERMS.get(name) or TERMS.get(name.removesuffix("_std"))
    if term is None:
        return name
    return term.label + (" (spread)" if name.endswith("_std") else "")


def meaning(name: str) -> str:
    term = TERMS.get(name)
    return "" if term is None else term.meaning


def clipped(name: str, low: float, high: float) -> tuple[float, float]:
    """An interval's bounds kept inside the number's range (a t-interval over a few folds can
    reach below 0 for a share near 0)."""
    term = TERMS.get(name)
    if term is None:
        return low, high
    return max(low, term.low), min(high, term.high)
