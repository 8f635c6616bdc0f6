"""The features of the Bayesian factorisation machine ("timeSVD++ flipped", Rendle et al. 2019),
built from training ratings only, and one Gibbs sample taken apart into per-user, per-movie and
per-day arrays so that scoring is plain numpy.

A rating (u, i, d) is described by three sparse rows, each a `myfm.RelationBlock` so that the
implicit parts cost O(ratings) memory however many rows repeat them:
- the user side: the user's one-hot, and (user_implicit) every movie the user rated, each 1/sqrt(n_u);
- the movie side: the movie's one-hot, (movie_implicit) every user who rated it, each 1/sqrt(n_i),
  and the movie's content where the data has it: (genres) its genres, each 1/sqrt(count), and
  (year) the one-hot of its release year in 5-year bins;
- the day side (date): the one-hot of the rating's day bin.

For one sample (w0, w, V) the FM's prediction splits exactly along those sides:
    w0 + lin_u + lin_i + lin_d + self_u + self_i + v_u . v_i + v_u . v_d + v_i . v_d
where for a side with sparse row x, lin = x . w, v = x V and self = (|v|^2 - x^2 . |V|^2) / 2 is the
side's own pairwise term. So each sample is (n_users + n_items + n_days) vectors and biases.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recsys.data.dataset import ItemContent, Ratings

SECONDS_PER_DAY = 86_400
#: release years in bins of this many years, from FIRST_YEAR (earlier years share the first bin)
YEAR_WIDTH, FIRST_YEAR, LAST_YEAR = 5, 1915, 2030


@dataclass(frozen=True)
class DayBins:
    """The days that hold training ratings, `width` days to a bin, in order. A day without training
    ratings reads as the latest bin at or before it (the first bin for days before any)."""

    starts: np.ndarray  # the first day of each bin that holds training ratings, ascending
    width: int

    @classmethod
    def of(cls, timestamps: np.ndarray, width: int) -> "DayBins":
        days = np.asarray(timestamps, dtype=np.int64) // SECONDS_PER_DAY // width
        return cls(np.unique(days) if days.size else np.zeros(1, dtype=np.int64), width)

    def __len__(self) -> int:
        return int(self.starts.size)

    def index(self, timestamps: np.ndarray) -> np.ndarray:
        """The bin of each timestamp (seconds)."""
        days = np.asarray(timestamps, dtype=np.int64) // SECONDS_PER_DAY // self.width
        return np.clip(np.searchsorted(self.starts, days, side="right") - 1, 0, len(self) - 1).astype(np.int64)


@dataclass(frozen=True)
class Sides:
    """The sparse rows of each side (users, movies, days), in myFM's feature order, and the group
    of each feature (for the sampler's per-group priors)."""

    users: sparse.csr_matrix  # n_users x (n_users [+ n_items])
    items: sparse.csr_matrix  # n_items x (n_items [+ n_users])
    days: sparse.csr_matrix  # n_days x n_days (n_days is 0 without the date)
    grouping: list[int]
    #: each side's rows squared elementwise (the FM's own-pair correction reads them every sample)
    squares: tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix] = ()  # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "squares", tuple(m.multiply(m).tocsr() for m in (self.users, self.items, self.days)))

    @property
    def widths(self) -> tuple[int, int, int]:
        return self.users.shape[1], self.items.shape[1], self.days.shape[1]


def implicit_rows(owners: np.ndarray, members: np.ndarray, n_owners: int, n_members: int) -> sparse.csr_matrix:
    """One row per owner with 1/sqrt(n) at each of its n members (an owner without any: an empty row)."""
    counts = np.bincount(owners, minlength=n_owners)
    weights = 1.0 / np.sqrt(np.maximum(counts[owners], 1))
    rows = sparse.csr_matrix((weights, (owners, members)), shape=(n_owners, n_members))
    rows.sum_duplicates()
    return rows


def genre_rows(content: ItemContent) -> sparse.csr_matrix:
    """One row per movie: 1/sqrt(count) at each of its genres (an empty row without any)."""
    matrix = sparse.csr_matrix(content.genres.astype(np.float64))
    counts = np.asarray(matrix.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.sqrt(np.maximum(counts, 1))) @ matrix


def year_rows(content: ItemContent) -> sparse.csr_matrix:
    """One row per movie: the one-hot of its release year's bin (a last bin of its own for an unknown year)."""
    n_bins = (LAST_YEAR - FIRST_YEAR) // YEAR_WIDTH + 1
    years = np.asarray(content.years, dtype=np.int64)
    bins = np.where(years > 0, np.clip((years - FIRST_YEAR) // YEAR_WIDTH, 0, n_bins - 1), n_bins)
    return sparse.csr_matrix((np.ones(years.size), (np.arange(years.size), bins)), shape=(years.size, n_bins + 1))


def content_rows(content: ItemContent | None, genres: bool, year: bool) -> list[sparse.csr_matrix]:
    """The movie side's content features that were asked for and that the data has."""
    if content is None:
        return []
    return ([genre_rows(content)] if genres and content.has_genres else []) + \
        ([year_rows(content)] if year and content.has_years else [])


def build_sides(known: Ratings, bins: DayBins | None, user_implicit: bool, movie_implicit: bool,
                content: list[sparse.csr_matrix] = ()) -> Sides:  # type: ignore[assignment]
    """The three sides' rows from the ratings the model is fitted on (`known`), with the movie
    side's `content` features (see `content_rows`)."""
    n_users, n_items = known.n_users, known.n_items
    users = [sparse.identity(n_users, format="csr")]
    items = [sparse.identity(n_items, format="csr")]
    sizes = [n_users]  # one prior group per kind of feature, in feature order
    if user_implicit:
        users.append(implicit_rows(known.users, known.items, n_users, n_items))
        sizes.append(n_items)
    sizes.append(n_items)
    if movie_implicit:
        items.append(implicit_rows(known.items, known.users, n_items, n_users))
        sizes.append(n_users)
    for rows in content:
        items.append(rows)
        sizes.append(rows.shape[1])
    n_days = len(bins) if bins is not None else 0
    sizes.append(n_days)
    grouping = [group for group, size in enumerate(sizes) for _ in range(size)]
    return Sides(sparse.hstack(users, format="csr"), sparse.hstack(items, format="csr"),
                 sparse.identity(n_days, format="csr"), grouping)


@dataclass(frozen=True)
class SideTerms:
    """One sample's terms of one side: a bias (lin + self) and a vector per row."""

    bias: np.ndarray  # (rows,)
    vectors: np.ndarray  # (rows, rank)


def side_terms(rows: sparse.csr_matrix, w: np.ndarray, v: np.ndarray,
               squared: sparse.csr_matrix | None = None) -> SideTerms:
    """lin + self and x V for each row of one side, given that side's slice of w and V
    (`squared`: the rows squared elementwise, when the caller keeps them)."""
    if rows.shape[1] == 0:
        return SideTerms(np.zeros(rows.shape[0]), np.zeros((rows.shape[0], v.shape[1])))
    vectors = np.asarray(rows @ v)
    squared = rows.multiply(rows) if squared is None else squared
    squares = np.asarray(squared @ np.sum(v * v, axis=1)).ravel()
    own = 0.5 * (np.sum(vectors * vectors, axis=1) - squares)
    return SideTerms(np.asarray(rows @ w).ravel() + own, vectors)


def split_sample(sides: Sides, w: np.ndarray, v: np.ndarray) -> tuple[SideTerms, SideTerms, SideTerms]:
    """A sample's (w, V) as the terms of the user, movie and day sides."""
    a, b, _ = sides.widths
    squares = sides.squares
    return (side_terms(sides.users, w[:a], v[:a], squares[0]),
            side_terms(sides.items, w[a:a + b], v[a:a + b], squares[1]),
            side_terms(sides.days, w[a + b:], v[a + b:], squares[2]))


def predict_sample(w0: float, terms: tuple[SideTerms, SideTerms, SideTerms], users: np.ndarray, items: np.ndarray,
                   days: np.ndarray) -> np.ndarray:
    """One sample's predictions for (user, movie, day bin) rows."""
    user, item, day = terms
    vu, vi = user.vectors[users], item.vectors[items]
    out = w0 + user.bias[users] + item.bias[items] + np.einsum("nk,nk->n", vu, vi)
    if day.vectors.shape[0]:
        vd = day.vectors[days]
        out += day.bias[days] + np.einsum("nk,nk->n", vu + vi, vd)
    return out
