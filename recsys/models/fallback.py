"""What a model says where it learned nothing: regularised biases around the mean and the offset
of a newcomer's first ratings."""
from __future__ import annotations

import numpy as np

from recsys.data.dataset import Ratings


def fit_biases(train: Ratings, reg_user: float = 5.0, reg_item: float = 5.0,
               iterations: int = 10) -> tuple[float, np.ndarray, np.ndarray]:
    """Regularised user and item biases around the global mean, by alternating least squares."""
    mu = train.global_mean
    residual = train.values.astype(np.float64) - mu
    b_user = np.zeros(train.n_users)
    b_item = np.zeros(train.n_items)
    n_user = np.bincount(train.users, minlength=train.n_users)
    n_item = np.bincount(train.items, minlength=train.n_items)
    for _ in range(iterations):
        b_item = np.bincount(train.items, residual - b_user[train.users], train.n_items) / (n_item + reg_item)
        b_user = np.bincount(train.users, residual - b_item[train.items], train.n_users) / (n_user + reg_user)
    return mu, b_user, b_item


NEWCOMER_RATINGS = 15  # a user's first ratings, by time, that measure how newcomers rate


def newcomer_offset(ratings: Ratings, mu: float, b_item: np.ndarray, first: int = NEWCOMER_RATINGS,
                    reg: float = 10.0) -> float:
    """How far a user's first `first` ratings (by time) sit from mean + movie bias, on average
    (regularised towards 0): what a user with no history yet is expected to add. People rate
    differently early on, and every new user is early in their history. 0 without timestamps.
    Chosen on the latest 10% (by time) of P5's and P6's training parts: their new users' RMSE went
    from 1.0387 to 1.0189 (ml-latest-small) and from 1.0664 to 1.0588 (ml-100k); 10 and 20 first
    ratings did about as well, 30 and more less well, and a per-movie newcomer bias added nothing."""
    if len(ratings) == 0 or ratings.timestamps.min() == ratings.timestamps.max():
        return 0.0
    order = np.lexsort((np.arange(len(ratings)), ratings.timestamps, ratings.users))
    users = ratings.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    rank = np.arange(users.size) - np.repeat(starts, np.diff(np.r_[starts, users.size]))
    early = order[rank < first]
    residual = ratings.values[early].astype(np.float64) - mu - b_item[ratings.items[early]]
    return float(residual.sum() / (residual.size + reg))
