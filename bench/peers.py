"""Peer libraries behind the recsys model interface, so one evaluation code path scores all.

Surprise models and myFM predict ratings (and rank by predicted rating); implicit's ALS and the
most-popular baseline only rank. Indices are recsys's contiguous user/item indices."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.data.dataset import Ratings
from recsys.models.base import Recommender
from recsys.models.loop import History


class PeerModel(Recommender):
    """A recsys Recommender wrapping a peer library's model."""

    name = "peer"
    settings = ""

    def __init__(self, label: str, settings: str) -> None:
        super().__init__()
        self.label, self.settings = label, settings

    # A peer answers for every index itself, with its own handling of users and movies it did
    # not see in training (Surprise: its baseline; implicit: whatever its factors say).
    def known_users(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        return (users >= 0) & (users < self.n_users)

    def _remember_training_data(self, known: Ratings) -> None:
        super()._remember_training_data(known)
        self._item_known = np.ones(known.n_items, dtype=bool)


class SurprisePeer(PeerModel):
    """A Surprise algorithm trained on the same train part."""

    def __init__(self, label: str, factory, settings: str) -> None:
        super().__init__(label, settings)
        self.factory = factory

    def _fit(self, train: Ratings, valid, callbacks, stop) -> History:
        from surprise import Dataset as SurpriseDataset
        from surprise import Reader

        frame = pd.DataFrame({"user": train.users, "item": train.items, "rating": train.values})
        reader = Reader(rating_scale=(train.scale.low, train.scale.high))
        trainset = SurpriseDataset.load_from_df(frame, reader).build_full_trainset()
        self.algo = self.factory()
        self.algo.fit(trainset)
        return History()

    def _predict_known(self, users, items):
        return np.array([self.algo.predict(int(u), int(i), clip=False).est for u, i in zip(users, items)])


class MyFMPeer(PeerModel):
    """myFM's Gibbs regressor with Rendle et al. (2019)'s "timeSVD++ flipped" features (user, movie,
    the rating's day, the movies the user rated, the users who rated the movie; implicit parts
    1/sqrt(count), from the train part only), rank 10, per-group priors, every sample after the
    first 5 kept and averaged by myFM's own predictor: the recipe as its authors run it."""

    def __init__(self, iterations: int, rank: int = 10) -> None:
        super().__init__(f"myFM timeSVD++ flipped (Rendle 2019), {iterations} iterations",
                         f"rank={rank}, n_iter={iterations}, n_kept_samples={iterations - 5}, grouping by feature kind, "
                         "day bins of one day")
        self.iterations, self.rank = iterations, rank

    def _fit(self, train: Ratings, valid, callbacks, stop) -> History:
        import os

        os.environ.setdefault("TQDM_DISABLE", "1")  # myFM draws a progress bar otherwise
        import myfm

        from recsys.gibbs.features import DayBins, build_sides

        self.bins = DayBins.of(train.timestamps, 1)
        self.sides = build_sides(train, self.bins, user_implicit=True, movie_implicit=True)
        self.algo = myfm.MyFMRegressor(rank=self.rank, random_seed=42)
        self.algo.fit(None, train.values.astype(np.float64), X_rel=self._blocks(train.users, train.items, train.timestamps),
                      n_iter=self.iterations, n_kept_samples=self.iterations - 5, grouping=self.sides.grouping)
        return History()

    def _blocks(self, users, items, when) -> list:
        from myfm import RelationBlock

        return [RelationBlock(np.asarray(users, dtype=np.int64), self.sides.users),
                RelationBlock(np.asarray(items, dtype=np.int64), self.sides.items),
                RelationBlock(self.bins.index(when), self.sides.days)]

    def _predict_known(self, users, items):
        return self._predict_known_at(users, items, None)

    def _predict_known_at(self, users, items, when):
        if when is None:  # the latest training day (the bench always gives the test ratings' times)
            from recsys.gibbs.features import SECONDS_PER_DAY

            when = np.full(len(users), int(self.bins.starts[-1]) * SECONDS_PER_DAY)
        return self.algo.predict(None, self._blocks(users, items, when))


def myfm_peers() -> list[MyFMPeer]:
    """The Bayesian FM recipe at the iteration counts the benchmarks report."""
    return [MyFMPeer(64), MyFMPeer(128), MyFMPeer(512)]


class ImplicitALS(PeerModel):
    """implicit's AlternatingLeastSquares on the binary train interactions (ranking only)."""

    @property
    def predicts_ratings(self) -> bool:
        return False

    def __init__(self, factors: int = 64, regularization: float = 0.05, iterations: int = 15) -> None:
        super().__init__("implicit ALS", f"factors={factors}, regularization={regularization}, "
                         f"iterations={iterations}")
        self.params = dict(factors=factors, regularization=regularization, iterations=iterations)

    def _fit(self, train, valid, callbacks, stop) -> History:
        from implicit.cpu.als import AlternatingLeastSquares

        matrix = sparse.csr_matrix((np.ones(len(train), dtype=np.float32), (train.users, train.items)),
                                   shape=(train.n_users, train.n_items))
        self.algo = AlternatingLeastSquares(random_state=0, **self.params)
        self.algo.fit(matrix, show_progress=False)
        return History()

    def _predict_known(self, users, items):
        return np.einsum("nk,nk->n", self.algo.user_factors[users], self.algo.item_factors[items])

    def _score_known(self, users):
        return np.asarray(self.algo.user_factors)[np.asarray(users)] @ np.asarray(self.algo.item_factors).T


class MostPopular(PeerModel):
    """Ranks items by their number of train ratings."""

    @property
    def predicts_ratings(self) -> bool:
        return False

    def __init__(self) -> None:
        super().__init__("most popular", "rank by train rating count")

    def _fit(self, train, valid, callbacks, stop) -> History:
        self.counts = np.bincount(train.items, minlength=train.n_items).astype(np.float64)
        return History()

    def _predict_known(self, users, items):
        return self.counts[items]

    def _score_known(self, users):
        return np.broadcast_to(self.counts, (len(users), self.n_items)).copy()


def surprise_peers() -> list[SurprisePeer]:
    """The Surprise models the README compares against, with their settings."""
    from surprise import SVD, BaselineOnly, KNNBaseline, SVDpp

    return [
        SurprisePeer("Surprise BaselineOnly", BaselineOnly, "defaults (ALS)"),
        SurprisePeer("Surprise SVD", lambda: SVD(random_state=0), "defaults"),
        SurprisePeer("Surprise SVD f200", lambda: SVD(n_factors=200, n_epochs=60, lr_all=0.005, reg_all=0.1,
                                                       random_state=0),
                     "n_factors=200, n_epochs=60, lr_all=0.005, reg_all=0.1"),
        SurprisePeer("Surprise SVD++", lambda: SVDpp(cache_ratings=True, random_state=0), "cache_ratings=True"),
        SurprisePeer("Surprise KNNBaseline", lambda: KNNBaseline(sim_options={"name": "pearson_baseline",
                                                                              "user_based": False}, verbose=False),
                     "item-based, pearson_baseline"),
    ]
