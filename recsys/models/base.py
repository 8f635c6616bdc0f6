"""The one interface every model implements, and what all models share: the seen-items matrix,
what the model knows (the users and movies it was fitted on), the bias fallback for everything
else, fold-in of a new user, top-k and persistence of arrays."""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable, ClassVar, Sequence

import numpy as np

from recsys.budget import Cost, Shape, rows_cost
from recsys.data.dataset import Ratings, RatingScale
from recsys.errors import ArtifactError, ConfigError, UnknownIdError
from recsys.models import snapshots
from recsys.models.config import ModelConfig
from recsys.models.fallback import fit_biases, newcomer_offset
from recsys.models.loop import EpochCallback, History, Stage
from recsys.models.memory import held_bytes
from recsys.models.outputs import FALLBACK_LABEL, Factors, Recommendations, check_k, top_k_indices


class Recommender(ABC):
    """One interface for every model: fit, predict, recommend, fold in, factors, save/load.

    Indices are the dataset's contiguous user/item indices. A model *knows* a user or a movie
    when it has at least one rating in the data the model was fitted on (training plus
    validation part), whatever its index; everything else is *unknown*, and this base class
    alone decides what the model says about it, for every model:
    - predict: the regularised biases fitted on the same data: mean + movie bias for a new
      user, mean + user bias for a new movie, the mean when both are new; a new user's rows
      also get the newcomer offset (see `newcomer_offset`);
    - score_all / recommend: a new user's row is the fallback ranking (mean + movie bias); a new
      movie is never ranked (its score is -inf), since nothing was learned about it;
    - fold_in: a new user with a few ratings gets a personal score row without retraining, for
      the models that can solve a user against their trained movie side.
    Subclasses only ever see known pairs (`_predict_known`, `_score_known`); predictions are clipped to the scale."""

    name: ClassVar[str]
    config_type: ClassVar[type[ModelConfig]] = ModelConfig
    description: ClassVar[str] = ""
    #: True when fit(train, valid) predicts `valid` out of sample (validation_predictions) and
    #: then learns from it too (early stopping and refit, or reading it at the end)
    learns_from_validation: ClassVar[bool] = False
    # ----- what the model can do, declared here so that nothing outside the registry decides by name -----
    #: True when a score is the plain dot product of the user's and the movie's factors, so a user's
    #: vector is a direction on a linear map of the movie factors (False for GMF's weighted product)
    scores_by_dot_product: ClassVar[bool] = True
    #: its movie factors place movies in one space that the latent map can draw
    draws_on_a_map: ClassVar[bool] = False
    #: it says which liked movies weigh most in a recommendation (`because`)
    explains: ClassVar[bool] = False
    #: it can be trained for top-k lists instead of ratings (the `objective` setting)
    trains_for_ranking: ClassVar[bool] = False
    #: it predicts ratings a blend can weigh (ranking-only models and the blend itself cannot)
    blendable: ClassVar[bool] = True
    #: it trains under a tf.distribute strategy (the `strategy` setting)
    distributes: ClassVar[bool] = False
    #: seconds `train()` took end to end per 100,000 ratings, measured on ml-latest-small (random
    #: 80/20, 2 cores; a blend cold); only for "about how long" on the pages
    seconds_per_100k: ClassVar[float] = 10.0
    #: what its training curves show when they are not the whole run (a blend: its Keras part's)
    curve_note: ClassVar[str] = ""
    #: it records its factors after each epoch (recsys.models.snapshots), so faces can replay training
    keeps_snapshots: ClassVar[bool] = False
    #: what one step of its training curve is ("epoch"; a Gibbs sampler's "Gibbs iteration")
    step_name: ClassVar[str] = "epoch"
    #: its predictions depend on when a rating is made (`predict(..., when=timestamps)`)
    uses_time: ClassVar[bool] = False

    @classmethod
    def curve_step(cls, config: ModelConfig) -> str:
        """What one step of its training curve is under `config` (a blend: its curve part's)."""
        return cls.step_name

    @property
    def fits_in_threads(self) -> bool:
        """Its fit may run beside other fits in threads of one process: its loops release the GIL
        and draw from random streams of its own (not so for Keras' `fit`, which seeds the process)."""
        return True

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """Overrides under which the model trains on data of this size on one machine, and the
        sentences a face shows about them (none where the defaults already scale)."""
        return {}, []

    def __init__(self, config: ModelConfig | None = None) -> None:
        config = config if config is not None else self.config_type()
        if not isinstance(config, self.config_type):
            raise ConfigError(f"{self.name} needs a {self.config_type.__name__}, got {type(config).__name__}")
        self.config = config
        self.n_users = 0
        self.n_items = 0
        self.scale = RatingScale(1, 5, 1)
        self._fallback: tuple[float, np.ndarray, np.ndarray] | None = None
        self._seen_indptr = np.zeros(1, dtype=np.int64)
        self._seen_indices = np.zeros(0, dtype=np.int32)
        self._item_known = np.zeros(0, dtype=bool)
        self._newcomer = 0.0
        #: predictions of the validation ratings made before they were trained on (set by models
        #: with early stopping and refit; blends learn their weights from them)
        self.validation_predictions: np.ndarray | None = None
        #: what fitting had to say (e.g. a blend part left out), shown with the result
        self.notes: list[str] = []
        #: set by `recsys.work.training.train`: the cached model already trained with exactly these
        #: data and settings, or None; models made of parts (the blend) reuse it instead of training
        self.cached_part: Callable[[str, ModelConfig], "Recommender | None"] | None = None
        #: set by `recsys.work.training.train`: hears the name of each of `stages()` as it begins
        self.on_stage: Callable[[str], None] | None = None
        #: the factors after each epoch, for the sampled movies and users (models that keep snapshots)
        self.snapshots: list[snapshots.Snapshot] = []
        self.snapshot_items = np.zeros(0, dtype=np.int64)
        self.snapshot_users = np.zeros(0, dtype=np.int64)

    def stages(self) -> tuple[Stage, ...]:
        """The steps `fit` goes through, in order (a blend: one per part, then its weights)."""
        return (Stage("fitting", refits=bool(getattr(self.config, "refit", False))),)

    def _announce(self, stage: str) -> None:
        if self.on_stage is not None:
            self.on_stage(stage)

    # ----- properties every caller may ask -----
    @property
    def ranks(self) -> bool:
        """Whether it ranks movies for top-k lists (an outside model's predictions file does not)."""
        return True

    @property
    def predicts_ratings(self) -> bool:
        """False for ranking-trained models, whose RMSE is not meaningful."""
        return getattr(self.config, "objective", "rating") == "rating"

    @property
    def is_fitted(self) -> bool:
        return self._fallback is not None

    @property
    def can_fold_in(self) -> bool:
        """Whether `fold_in` gives a new user personal scores (else they get the fallback)."""
        return type(self)._fold_in is not Recommender._fold_in

    # ----- what the model knows -----
    def known_users(self, users: np.ndarray) -> np.ndarray:
        """True for each user index with at least one rating in the data the model was fitted on."""
        users = np.asarray(users, dtype=np.int64)
        inside = (users >= 0) & (users < self.n_users)
        known = np.zeros(users.shape, dtype=bool)
        safe = users[inside]
        known[inside] = self._seen_indptr[safe + 1] > self._seen_indptr[safe]
        return known

    def known_items(self, items: np.ndarray) -> np.ndarray:
        """True for each item index with at least one rating in the data the model was fitted on."""
        items = np.asarray(items, dtype=np.int64)
        inside = (items >= 0) & (items < self.n_items)
        known = np.zeros(items.shape, dtype=bool)
        known[inside] = self._item_known[items[inside]]
        return known

    def knows_user(self, user: int) -> bool:
        return bool(self.known_users(np.array([user]))[0])

    # ----- fit -----
    def memory_bytes(self) -> int:
        """Roughly what it holds in memory: arrays, sparse matrices, Keras weights, parts (the model cache's budget)."""
        return held_bytes(vars(self), set())

    @classmethod
    def estimate(cls, config: ModelConfig, shape: Shape) -> Cost:
        """What fitting on data of this shape will cost (parameters, peak memory), before any
        work: the default is one bias per user and movie plus the training rows."""
        return Cost(shape.n_users + shape.n_items, rows_cost(shape) + (shape.n_users + shape.n_items) * 16,
                    "one bias per user and movie")

    @classmethod
    def refuses(cls, config: ModelConfig, shape: Shape) -> str:
        """Why this model cannot train on data of this shape ("" when it can): the one gate that
        the cost estimate, the pages' offers, the job runner and `fit` all ask."""
        return ""

    def fit(self, train: Ratings, valid: Ratings | None = None,
            callbacks: Sequence[EpochCallback] = (), stop: threading.Event | None = None) -> History:
        """Train on `train`; report each epoch to `callbacks`; end early when `stop` is set."""
        if len(train) == 0:
            raise ConfigError("cannot fit on an empty training set")
        started = time.perf_counter()
        self.n_users, self.n_items, self.scale = train.n_users, train.n_items, train.scale
        known = train.concat(valid) if valid is not None else train  # all the training data
        self._remember_training_data(known)
        history = self._fit(train, valid, list(callbacks), stop)
        history.seconds = time.perf_counter() - started
        return history

    def _remember_training_data(self, known: Ratings) -> None:
        """The fallback biases, the seen-items matrix and the known movies of the fitted data."""
        self._fallback = fit_biases(known)
        order = np.lexsort((known.items, known.users))
        self._seen_indptr = np.r_[0, np.cumsum(np.bincount(known.users, minlength=known.n_users))].astype(np.int64)
        self._seen_indices = known.items[order].astype(np.int32)
        self._item_known = np.bincount(known.items, minlength=known.n_items) > 0
        self._newcomer = newcomer_offset(known, self._fallback[0], self._fallback[2])

    def share_training_data(self, other: "Recommender") -> None:
        """Adopt another fitted model's view of the training data (for the parts of a blend)."""
        self.n_users, self.n_items, self.scale = other.n_users, other.n_items, other.scale
        self._fallback, self._seen_indptr = other._fallback, other._seen_indptr
        self._seen_indices, self._item_known = other._seen_indices, other._item_known
        self._newcomer = other._newcomer

    @abstractmethod
    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        """Model-specific training."""

    # ----- predict -----
    def predict(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None = None) -> np.ndarray:
        """Predicted ratings for (user, item) index pairs, clipped to the scale. `when`: each
        rating's time (Unix seconds), read by the models that use time (`uses_time`; without it
        they take the user's latest time in their training data) and ignored by the others."""
        self._require_fitted()
        users = np.asarray(users, dtype=np.int64).ravel()
        items = np.asarray(items, dtype=np.int64).ravel()
        if users.shape != items.shape:
            raise ConfigError(f"users and items must have the same length ({users.size} != {items.size})")
        if when is not None:
            when = np.asarray(when, dtype=np.int64).ravel()
            if when.shape != users.shape:
                raise ConfigError(f"when must give one time per rating ({when.size} != {users.size})")
        known_u, known_i = self.known_users(users), self.known_items(items)
        out = self.fallback_prediction(users, items)
        both = known_u & known_i
        if both.any():
            out[both] = self._predict_known_at(users[both], items[both], None if when is None else when[both])
        return self.scale.clip(out).astype(np.float32)

    def _predict_known_at(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None) -> np.ndarray:
        """Ratings for known pairs at the given times; only the models that use time look at `when`."""
        return self._predict_known(users, items)

    def fallback_prediction(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Mean + whichever of the user and movie biases the model knows, + the newcomer offset
        for a new user (before clipping)."""
        self._require_fitted()
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        mu, b_user, b_item = self._fallback  # type: ignore[misc]
        known_u, known_i = self.known_users(users), self.known_items(items)
        out = np.full(users.shape, mu, dtype=np.float64)
        out[known_u] += b_user[users[known_u]]
        out[~known_u] += self._newcomer
        out[known_i] += b_item[items[known_i]]
        return out

    def fallback_scores(self) -> np.ndarray:
        """A new user's fallback scores of every item: mean + newcomer offset + movie bias (-inf
        for unknown movies); ranked, it is the fallback top-k."""
        mu, _, b_item = self._fallback  # type: ignore[misc]
        return np.where(self._item_known, mu + self._newcomer + b_item, -np.inf)

    @abstractmethod
    def _predict_known(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Ratings for known pairs (before clipping)."""

    def prepare_scoring(self) -> None:
        """Build now what scoring would build on first use (item-knn's lists), so that work is done
        where it is cheapest to wait for it (in a blend, beside the Keras part)."""

    def score_all(self, users: np.ndarray) -> np.ndarray:
        """Ranking scores of every item for each user, shape (len(users), n_items), higher is
        better: the model's own scores for known users, the fallback ranking for unknown ones,
        -inf for unknown movies. Rows are comparable within themselves only."""
        self._require_fitted()
        users = np.asarray(users, dtype=np.int64)
        out = np.empty((users.size, self.n_items), dtype=np.float64)
        known = self.known_users(users)
        if known.any():
            out[known] = self._score_known(users[known])
        if not known.all():
            out[~known] = self.fallback_scores()
        out[:, ~self._item_known] = -np.inf
        return out

    def _score_known(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for known users; the default ranks by predicted rating."""
        users = np.asarray(users, dtype=np.int64)
        grid_u = np.repeat(users, self.n_items)
        grid_i = np.tile(np.arange(self.n_items), users.size)
        return self._predict_known(grid_u, grid_i).reshape(users.size, self.n_items)

    def scores_to_output(self, scores: np.ndarray) -> np.ndarray:
        """Turn `score_all` values into what `recommend` reports (a rating, by default)."""
        return self.scale.clip(scores)

    @property
    def score_label(self) -> str:
        return "predicted rating" if self.predicts_ratings else "relevance (0-1)"

    # ----- fold-in -----
    def fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Scores of every item (in `score_all`'s units) for a new user who rated `items`, without
        retraining. Movies unknown to the model are ignored among the inputs and get -inf."""
        self._require_fitted()
        items = np.asarray(items, dtype=np.int64).ravel()
        ratings = np.asarray(ratings, dtype=np.float64).ravel()
        if items.size != ratings.size:
            raise ConfigError(f"fold-in needs one rating per movie ({items.size} movies, {ratings.size} ratings)")
        if not self.can_fold_in:
            raise ConfigError(f"{self.name} cannot fold in a new user; its predictions for new users "
                              "come from the mean and the movie biases")
        keep = self.known_items(items)
        if not keep.any():
            raise ConfigError("fold-in needs at least one rated movie that the model knows "
                              "(a movie with ratings in its training data)")
        scores = np.asarray(self._fold_in(items[keep], ratings[keep]), dtype=np.float64).copy()
        scores[~self._item_known] = -np.inf
        return scores

    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Model-specific fold-in over known items; models that cannot, leave this alone."""
        raise ConfigError(f"{self.name} cannot fold in a new user")

    def fold_in_predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Predicted ratings of `targets` for a new user folded in from (`items`, `ratings`);
        unknown target movies get the mean + the folded-in user's offset from the fallback."""
        scores = self.fold_in(items, ratings)
        targets = np.asarray(targets, dtype=np.int64)
        out = self.fallback_prediction(np.full(targets.shape, -1), targets)
        known = self.known_items(targets)
        out[known] = self.scores_to_output(scores[targets[known]])
        return self.scale.clip(out).astype(np.float32)

    # ----- recommend -----
    def seen_items(self, user: int) -> np.ndarray:
        """Items the user rated in the training data."""
        if not 0 <= user < self.n_users:
            return np.zeros(0, dtype=np.int32)
        return self._seen_indices[self._seen_indptr[user]: self._seen_indptr[user + 1]]

    def recommend(self, user: int, k: int = 10, exclude_seen: bool = True,
                  exclude: np.ndarray | None = None) -> Recommendations:
        """The top-k items for a user index. A user the model does not know gets the fallback
        ranking (mean + movie bias, a popularity-with-quality order), marked `fallback`."""
        self._require_fitted()
        check_k(k)
        if self.knows_user(user):
            scores = self.score_all(np.array([user]))[0]
            return self.top_k(scores, k, exclude=(self.seen_items(user) if exclude_seen else None), also=exclude)
        return self.top_k(self.fallback_scores(), k, exclude=exclude, fallback=True)

    def top_k(self, scores: np.ndarray, k: int, exclude: np.ndarray | None = None,
              also: np.ndarray | None = None, fallback: bool = False) -> Recommendations:
        """The k best of a score row (model units, or fallback ratings), excluded items left out."""
        scores = np.array(scores, dtype=np.float64)
        for items in (exclude, also):
            if items is not None and len(items):
                scores[np.asarray(items, dtype=np.int64)] = -np.inf
        top = top_k_indices(scores, k)
        top = top[np.isfinite(scores[top])]
        shown = self.scale.clip(scores[top]) if fallback else self.scores_to_output(scores[top])
        clipped = ~np.isclose(shown, scores[top])
        ranked_by = scores[top] if clipped.sum() > 1 else None  # the shown values tie where the ranking does not
        return Recommendations(top, shown, FALLBACK_LABEL if fallback else self.score_label, fallback, ranked_by)

    def check_user(self, user: int) -> int:
        """Raise `UnknownIdError` for a user index outside the trained range."""
        if not 0 <= user < self.n_users:
            raise UnknownIdError(f"user index {user} is outside the trained range 0-{self.n_users - 1}")
        return user

    def factors(self) -> Factors | None:
        """User and item latent vectors, where the model has them."""
        return None

    # ----- persistence hooks (`recsys.models.persistence` writes and reads the shared arrays) -----
    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore from `_state` arrays."""

    def _save_extra(self, folder: Path) -> None:
        """Write framework files (e.g. model.keras)."""

    def _load_extra(self, folder: Path) -> None:
        """Read framework files."""

    def _check_loaded(self) -> None:
        ok = (self._fallback is not None and self._fallback[1].shape == (self.n_users,)
              and self._fallback[2].shape == (self.n_items,) and self._seen_indptr.shape == (self.n_users + 1,)
              and self._item_known.shape == (self.n_items,))
        if not ok:
            raise ArtifactError("saved model arrays do not match its recorded shape")

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise ConfigError(f"{self.name} is not fitted yet: call fit() or load an artifact")
