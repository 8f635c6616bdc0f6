"""A Bayesian factorisation machine with time and implicit feedback: the "timeSVD++ flipped"
features of Rendle, Zhang and Koren, "On the Difficulty of Evaluating Baselines" (2019), sampled
by Gibbs with per-group hyper-priors (`myfm`), plus the movies' genres and release years.

Features come from the ratings the model is fitted on (see `fm_features`): the user, the movie,
the day of the rating (binned), the movies the user rated and the users who rated the movie; and
from the data's description of each movie (genres, year), which lets a movie with a handful of
ratings borrow from its kind (P2: 0.814 -> 0.797 at 64 iterations). Each
Gibbs iteration reports to the epoch loop (the curve: training RMSE of that sample and the
validation RMSE of the running posterior mean); a stop ends the chain and keeps what was sampled.

After the burn-in, `samples` samples, evenly spaced, are kept as arrays: per user, movie and day
bin a bias and a vector per sample. Prediction is the mean over kept samples, in batched numpy
(the sample vectors side by side, so a user's scores of every movie are one matrix product), and
saving writes those arrays; loading needs neither myFM nor a refit.

A new user's few ratings are folded in without retraining: the implicit block already describes
them (the movies they rated), and with `fold_in=regression` each kept sample also gives them the
conditional posterior mean of their own bias and vector (Bayesian linear regression against that
sample's movie and day vectors, with the sample's priors and noise), averaged over samples.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from recsys.budget import Cost, Shape, rows_cost
from recsys.dataset import Ratings
from recsys.errors import ConfigError
from recsys.models import snapshots
from recsys.models.base import Factors, Recommender
from recsys.models.config import ModelConfig
from recsys.models.fm_features import DayBins, Sides, build_sides, content_rows, predict_sample, split_sample
from recsys.models.loop import EpochCallback, EpochLoop, History
from recsys.models.params import hyper

FOLD_INS = ("regression", "implicit")
#: the per-size settings keep a run's kept samples within this many bytes
SAMPLE_BUDGET = 1 << 30
#: the training RMSE on the curve is each sample's on this many training ratings (a fixed random set)
TRAIN_PROBE = 10_000


@dataclass(frozen=True)
class BayesFMConfig(ModelConfig):
    rank: int = hyper(10, "int", "Rank", "latent dimensions of every feature", low=1, high=256, search=(4, 64), log=True,
                      page=True, page_range=(1, 64))
    iterations: int = hyper(64, "int", "Gibbs iterations", "sweeps of the sampler over every parameter", low=1,
                            high=10_000, search=(16, 256), log=True, page=True, page_range=(4, 512))
    burn_in: int = hyper(4, "int", "Burn-in", "first iterations left out of the posterior mean", low=0, high=10_000,
                         page=True, page_range=(0, 64))
    samples: int = hyper(64, "int", "Kept samples", "samples after the burn-in kept for prediction, evenly spaced "
                         "(the validation curve averages every one; more kept: smoother, more memory)",
                         low=1, high=1000, page=True, page_range=(1, 128))
    date: bool = hyper(True, "bool", "Day of the rating", "the rating's day bin as a feature (time effects)", page=True)
    day_width: int = hyper(1, "int", "Days per bin", "width of a date bin in days", low=1, high=3650)
    user_implicit: bool = hyper(True, "bool", "Movies the user rated", "each user's rated movies as features, "
                                "1/sqrt(count) each (SVD++'s implicit feedback)", page=True)
    movie_implicit: bool = hyper(True, "bool", "Users who rated the movie", "each movie's raters as features, "
                                 "1/sqrt(count) each (the 'flipped' half)", page=True)
    genres: bool = hyper(True, "bool", "Movie's genres", "each movie's genres as features (where the data lists "
                         "them): movies with few ratings borrow from others of their genres", page=True)
    year: bool = hyper(True, "bool", "Movie's release year", "the movie's release year, in 5-year bins, as a feature "
                       "(where the data has it)", page=True)
    init_stdev: float = hyper(0.1, "float", "Initial spread", "standard deviation of the first sample's vectors",
                              low=0.0, high=10.0, open_low=True)
    refit: bool = hyper(True, "bool", "Refit", "after the chain that predicts the validation part, sample a fresh "
                        "chain on all the training data (the one kept)")
    fold_in: str = hyper("regression", "choice", "New users",
                         "regression: each kept sample solves the new user's own bias and vector given their "
                         "ratings (conditional posterior mean); implicit: the movies they rated alone",
                         choices=FOLD_INS)

    def validate(self) -> None:
        super().validate()
        if self.burn_in >= self.iterations:
            raise ConfigError(f"burn_in ({self.burn_in}) must be below iterations ({self.iterations})")


@dataclass
class _Kept:
    """The kept samples, side by side: sample s is columns s*rank..(s+1)*rank of each vector table."""

    w0: float
    biases: tuple[np.ndarray, np.ndarray, np.ndarray]  # mean bias per user, movie, day bin
    vectors: tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, samples * rank) float32 per side
    implicit: tuple[np.ndarray, np.ndarray]  # per sample: w (n_items, S) and V (n_items, S*rank) of "rated j"
    priors: np.ndarray  # (S, 2 + 2 * rank): noise precision, then mu_w, lambda_w, mu_V, lambda_V of the user ids

    @property
    def count(self) -> int:
        return int(self.priors.shape[0])


class BayesFM(Recommender):
    """Bayesian FM (myFM's Gibbs sampler) on user, movie, day, the user's movies and the movie's users."""

    name = "bayes-fm"
    config_type = BayesFMConfig
    seconds_per_100k = 7
    draws_on_a_map = True
    keeps_snapshots = True
    uses_time = True
    learns_from_validation = True
    description = "Bayesian factorisation machine with time and implicit feedback (Rendle 2019's timeSVD++ flipped)"
    curve_note = ("Each step is one Gibbs iteration: the training RMSE of that sample, and the validation RMSE of "
                  "the posterior mean so far (every sample after the burn-in averaged).")

    @property
    def fits_in_threads(self) -> bool:
        return False  # the sampler holds the GIL for its whole run

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """Above 5M ratings: 32 iterations and 8 kept samples (each sample holds a vector per user,
        movie and day; each iteration costs about 1.6 s per million ratings on 2 cores)."""
        from recsys.models import sizing

        if n_ratings <= sizing.LARGE_RATINGS:
            return {}, []
        return ({"iterations": 32, "burn_in": 4, "samples": 8},
                [f"above {sizing.LARGE_RATINGS:,} ratings bayes-fm runs 32 Gibbs iterations and keeps 8 samples "
                 "(time grows with the ratings, memory with the kept samples)"])

    @classmethod
    def estimate(cls, config: BayesFMConfig, shape: Shape) -> Cost:
        rows = shape.n_users + 2 * shape.n_items + 4000
        parameters = (2 * (shape.n_users + shape.n_items) + 4000) * (config.rank + 1)
        kept = rows * config.samples * config.rank * 4
        return Cost(parameters, kept + parameters * 8 * 4 + rows_cost(shape) * 4,
                    f"{config.samples} kept samples of {config.rank} factors per user, movie and day")

    # ----- fit -----
    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        """With a validation part: a chain on `train` whose posterior mean predicts it out of sample
        (the curve's validation RMSE, the blend's weights), then, with `refit`, a fresh chain on all
        the training data (the model kept). Without one: a single chain."""
        checking = valid is not None and len(valid) > 0
        sampler = self._chain(train, valid if checking else None, callbacks, stop, "fit")
        history = sampler.loop.history
        if checking:
            self.validation_predictions = sampler.valid_mean()
        if checking and self.config.refit and not history.stopped:
            sampler = self._chain(train.concat(valid), None, callbacks, stop, "refit", history)
        self._kept = sampler.finish()
        self.snapshots = history.snapshots
        return history

    def _chain(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
               stop: threading.Event | None, phase: str, history: History | None = None) -> "_Sampler":
        """One Gibbs chain on `train` (its features from `train` alone), its samples kept by the callback."""
        import myfm._myfm as backend
        from myfm import RelationBlock

        cfg = self.config
        self._bins = DayBins.of(train.timestamps, cfg.day_width) if cfg.date and _has_time(train) else None
        sides = build_sides(train, self._bins, cfg.user_implicit, cfg.movie_implicit,
                            content_rows(train.content, cfg.genres, cfg.year))
        self._last_day = self._last_days(train)
        rows = self._rows(train.users, train.items, train.timestamps)
        blocks = [RelationBlock(rows[0], sides.users), RelationBlock(rows[1], sides.items)]
        if self._bins is not None:
            blocks.append(RelationBlock(rows[2], sides.days))
        config = backend.ConfigBuilder()
        for key, value in (("alpha_0", 1.0), ("beta_0", 1.0), ("gamma_0", 1.0), ("mu_0", 0.0), ("reg_0", 1.0),
                           ("fit_w0", True), ("fit_linear", True)):
            getattr(config, f"set_{key}")(value)
        config.set_group_index(sides.grouping)
        config.set_n_iter(cfg.iterations)
        config.set_n_kept_samples(0)  # the callback keeps the samples, as arrays of its own
        config.set_task_type(backend.TaskType.REGRESSION)
        sampler = _Sampler(self, sides, train, valid, callbacks, stop, phase, history)
        backend.create_train_fm(cfg.rank, cfg.init_stdev, _empty_rows(len(train)), blocks,
                                train.values.astype(np.float64), cfg.seed + (phase == "refit"), config.build(), sampler)
        return sampler

    def _rows(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """The user, movie and day-bin row of each rating (the user's latest day where `when` is None)."""
        users = np.asarray(users, dtype=np.int64)
        if self._bins is None:
            days = np.zeros(users.size, dtype=np.int64)
        elif when is None:
            days = self._last_day[users]
        else:
            days = self._bins.index(when)
        return users, np.asarray(items, dtype=np.int64), days

    def _last_days(self, known: Ratings) -> np.ndarray:
        """Each user's latest day bin in the fitted data (0 for users without ratings there)."""
        last = np.zeros(known.n_users, dtype=np.int64)
        if self._bins is not None and len(known):
            np.maximum.at(last, known.users, self._bins.index(known.timestamps))
        return last

    # ----- predict -----
    def _predict_known(self, users, items):
        return self._predict_at(users, items, None)

    def _predict_known_at(self, users, items, when):
        return self._predict_at(users, items, when)

    def _predict_at(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None) -> np.ndarray:
        users, items, days = self._rows(users, items, when)
        kept = self._kept
        (bu, bi, bd), (vu, vi, vd) = kept.biases, kept.vectors
        out = kept.w0 + bu[users] + bi[items] + bd[days]
        u, i, d = vu[users], vi[items], vd[days]
        out += (np.einsum("nk,nk->n", u, i) + np.einsum("nk,nk->n", u + i, d)) / kept.count
        return out

    def _score_known(self, users):
        users = np.asarray(users, dtype=np.int64)
        kept = self._kept
        (bu, bi, bd), (vu, vi, vd) = kept.biases, kept.vectors
        days = self._last_day[users]
        side = vu[users] + vd[days]
        constant = kept.w0 + bu[users] + bd[days] + np.einsum("nk,nk->n", vu[users], vd[days]) / kept.count
        return (side @ vi.T) / kept.count + bi[None, :] + constant[:, None]

    # ----- a new user -----
    def _fold_in(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        kept, rank = self._kept, self.config.rank
        count = kept.count
        (_, bi, bd), (_, vi, vd) = kept.biases, kept.vectors
        day = len(self._bins) - 1 if self._bins is not None else 0
        items = np.asarray(items, dtype=np.int64)
        w_implicit, v_implicit = kept.implicit
        if w_implicit.shape[0]:  # the user as the movies they rated
            share = 1.0 / np.sqrt(items.size)
            vector = (v_implicit[items].sum(axis=0) * share).reshape(count, rank)
            squares = (v_implicit[items].reshape(items.size, count, rank) ** 2).sum(axis=(0, 2)) * share ** 2
            bias = w_implicit[items].sum(axis=0) * share + 0.5 * (np.sum(vector ** 2, axis=1) - squares)
        else:
            vector, bias = np.zeros((count, rank)), np.zeros(count)
        movie = vi.reshape(-1, count, rank)
        on_day = vd[day].reshape(count, rank)
        # per sample: w0 + bias + b_i + b_d + (user side) . v_i + (user side) . v_d + v_i . v_d
        base = (kept.w0 + bd[day] + bias)[None, :] + bi[:, None] \
            + np.einsum("nsk,sk->ns", movie, vector + on_day) + np.sum(vector * on_day, axis=1)[None, :]
        if self.config.fold_in == "regression":
            own_bias, own = _conditional_user(base[items], movie[items] + (vector + on_day)[None], ratings, kept.priors,
                                              rank)
            base = base + own_bias[None, :] + np.einsum("nsk,sk->ns", movie + (vector + on_day)[None], own)
        return base.mean(axis=1)

    # ----- the map -----
    def factors(self) -> Factors:
        """Posterior means of each user's and movie's side vector (the user's with their rated
        movies, the movie's with its raters); `spread` holds their standard deviations over samples."""
        count, rank = self._kept.count, self.config.rank
        users, items = (v.reshape(v.shape[0], count, rank) for v in self._kept.vectors[:2])
        return Factors(users.mean(axis=1), items.mean(axis=1), users.std(axis=1).mean(axis=1),
                       items.std(axis=1).mean(axis=1))

    # ----- persistence -----
    def _state(self):
        kept = self._kept
        arrays = {"w0": np.array([kept.w0]), "priors": kept.priors, "implicit_w": kept.implicit[0],
                  "implicit_v": kept.implicit[1], "last_day": self._last_day}
        for name, bias, vectors in zip(("user", "item", "day"), kept.biases, kept.vectors):
            arrays[f"{name}_bias"], arrays[f"{name}_vectors"] = bias, vectors
        if self._bins is not None:
            arrays["day_starts"], arrays["day_width"] = self._bins.starts, np.array([self._bins.width])
        return arrays

    def _load_state(self, arrays):
        self._bins = DayBins(arrays["day_starts"], int(arrays["day_width"][0])) if "day_starts" in arrays else None
        self._last_day = arrays["last_day"]
        self._kept = _Kept(float(arrays["w0"][0]), tuple(arrays[f"{n}_bias"] for n in ("user", "item", "day")),
                           tuple(arrays[f"{n}_vectors"] for n in ("user", "item", "day")),
                           (arrays["implicit_w"], arrays["implicit_v"]), arrays["priors"])
        width = self._kept.count * self.config.rank
        if any(v.shape[1] != width for v in self._kept.vectors):
            raise ValueError(f"bayes-fm vectors do not hold {self._kept.count} samples of rank {self.config.rank}")

    def _check_loaded(self) -> None:
        super()._check_loaded()
        kept = self._kept
        if kept.vectors[0].shape[0] != self.n_users or kept.vectors[1].shape[0] != self.n_items:
            from recsys.errors import ArtifactError

            raise ArtifactError("bayes-fm's saved vectors do not match its users and movies")


def _has_time(ratings: Ratings) -> bool:
    stamps = ratings.timestamps
    return bool(stamps.size) and bool(stamps.min() != stamps.max())


def _empty_rows(n: int):
    from scipy import sparse

    return sparse.csr_matrix((n, 0), dtype=np.float64)


def _conditional_user(base: np.ndarray, features: np.ndarray, ratings: np.ndarray, priors: np.ndarray,
                      rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Per kept sample, the posterior mean of a new user's own bias b and vector p given their
    ratings y = base + b + p . f + noise: Bayesian linear regression with the sample's noise
    precision and its priors on user ids (b ~ N(mu_w, 1/lambda_w), p_k ~ N(mu_V_k, 1/lambda_V_k)).
    `base` is (rated, S), `features` (rated, S, rank)."""
    count = priors.shape[0]
    alpha, mu_w, lambda_w = priors[:, 0], priors[:, 1], priors[:, 2]
    mu_v, lambda_v = priors[:, 3:3 + rank], priors[:, 3 + rank:3 + 2 * rank]
    design = np.concatenate([np.ones(features.shape[:2] + (1,)), features], axis=2)  # (rated, S, 1 + rank)
    design = design.transpose(1, 0, 2)  # (S, rated, 1 + rank)
    residual = (np.asarray(ratings, dtype=np.float64)[:, None] - base).T  # (S, rated)
    precision = np.concatenate([lambda_w[:, None], lambda_v], axis=1)  # (S, 1 + rank)
    mean = np.concatenate([mu_w[:, None], mu_v], axis=1)
    gram = alpha[:, None, None] * np.einsum("sni,snj->sij", design, design) + precision[:, :, None] * np.eye(rank + 1)
    rhs = alpha[:, None] * np.einsum("sni,sn->si", design, residual) + precision * mean
    solved = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    assert solved.shape == (count, rank + 1)
    return solved[:, 0], solved[:, 1:]


class _Sampler:
    """The per-iteration callback of myFM's sampler: takes the sample apart, logs the iteration to
    the epoch loop, keeps evenly spaced samples after the burn-in, and asks the sampler to stop
    when the stop flag is set."""

    def __init__(self, model: BayesFM, sides: Sides, train: Ratings, valid: Ratings | None,
                 callbacks: list[EpochCallback], stop: threading.Event | None, phase: str = "fit",
                 history: History | None = None) -> None:
        cfg = model.config
        self.model, self.sides, self.cfg = model, sides, cfg
        probe = np.random.default_rng(cfg.seed).permutation(len(train))[:TRAIN_PROBE]  # the curve's training RMSE
        self.train_rows = model._rows(train.users[probe], train.items[probe], train.timestamps[probe])
        self.train_values = train.values[probe].astype(np.float64)
        self.valid = valid if valid is not None and len(valid) else None
        self.valid_rows = model._rows(valid.users, valid.items, valid.timestamps) if self.valid is not None else None
        self.valid_sum = np.zeros(len(valid)) if self.valid is not None else None
        self.averaged = 0
        spacing = max(1, (cfg.iterations - cfg.burn_in) // cfg.samples)
        keep = [cfg.iterations - 1 - n * spacing for n in range(cfg.samples)]
        self.keep = {i for i in keep if i >= cfg.burn_in}
        self.kept: list[tuple] = []
        self.last: tuple | None = None
        model.snapshot_items, model.snapshot_users = snapshots.sample(train)
        self.map_sum: tuple[np.ndarray, np.ndarray] | None = None
        self.loop = EpochLoop(cfg.iterations, callbacks, stop, capture=self._capture, phase=phase, history=history)

    def __call__(self, i: int, fm, hyper, history) -> bool:
        self.loop.begin(i)
        if self.loop.stop_requested:
            return True
        w, v = np.array(fm.w, copy=True), np.array(fm.V, copy=True)  # views of the sampler's buffers otherwise
        terms = split_sample(self.sides, w, v)
        sample = (float(fm.w0), terms, _priors(hyper, self.sides, self.cfg.rank), w, v)
        self.last = sample
        loss = _rmse(predict_sample(sample[0], terms, *self.train_rows), self.train_values)
        val_rmse = None
        if i >= self.cfg.burn_in:
            self.averaged += 1
            item_side, user_side = terms[1].vectors, terms[0].vectors
            self.map_sum = (item_side.copy(), user_side.copy()) if self.map_sum is None else \
                (self.map_sum[0] + item_side, self.map_sum[1] + user_side)
            if self.valid is not None:
                self.valid_sum += predict_sample(sample[0], terms, *self.valid_rows)
                val_rmse = _rmse(self.model.scale.clip(self.valid_mean()), self.valid.values)
        if i in self.keep:
            self.kept.append(sample)
        self._current = terms
        self.loop.end(loss, None, val_rmse)
        return self.loop.stop_requested

    def _capture(self, epoch: int, phase: str, val_rmse: float | None) -> snapshots.Snapshot:
        """The map after this iteration: the posterior mean so far (the current sample during the burn-in)."""
        if self.map_sum is not None:
            items, users = self.map_sum[0] / self.averaged, self.map_sum[1] / self.averaged
        else:
            items, users = self._current[1].vectors, self._current[0].vectors
        return snapshots.take(epoch, phase, val_rmse, items, users, self.model.snapshot_items,
                              self.model.snapshot_users)

    def valid_mean(self) -> np.ndarray:
        return self.valid_sum / max(self.averaged, 1)

    def finish(self) -> _Kept:
        """The kept samples as one `_Kept` (the last sample alone when the run stopped before any was kept)."""
        kept = self.kept or ([self.last] if self.last is not None else [])
        if not kept:
            raise ConfigError("bayes-fm was stopped before its first Gibbs iteration ended: nothing to keep")
        rank, n_user_features = self.cfg.rank, self.sides.widths[0]
        implicit = n_user_features > self.model.n_users

        def side(number: int) -> tuple[np.ndarray, np.ndarray]:
            bias = np.mean([s[1][number].bias for s in kept], axis=0)
            return bias, np.concatenate([s[1][number].vectors for s in kept], axis=1).astype(np.float32)

        (bu, vu), (bi, vi), (bd, vd) = side(0), side(1), side(2)
        if vd.shape[0] == 0:  # no date: one neutral day
            bd, vd = np.zeros(1), np.zeros((1, vu.shape[1]), dtype=np.float32)
        start, end = self.model.n_users, n_user_features
        implicit_w = np.stack([s[3][start:end] for s in kept], axis=1) if implicit else np.zeros((0, len(kept)))
        implicit_v = (np.concatenate([s[4][start:end] for s in kept], axis=1).astype(np.float32) if implicit
                      else np.zeros((0, len(kept) * rank), dtype=np.float32))
        return _Kept(float(np.mean([s[0] for s in kept])), (bu, bi, bd), (vu, vi, vd), (implicit_w, implicit_v),
                     np.stack([s[2] for s in kept]))


def _priors(hyper, sides: Sides, rank: int) -> np.ndarray:
    """The sample's noise precision and its priors on user ids (group 0) as one row."""
    mu_v, lambda_v = np.array(hyper.mu_V, copy=True), np.array(hyper.lambda_V, copy=True)
    return np.concatenate([[hyper.alpha, np.asarray(hyper.mu_w)[0], np.asarray(hyper.lambda_w)[0]],
                           mu_v[0][:rank], lambda_v[0][:rank]])


def _rmse(predicted: np.ndarray, values: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - values) ** 2)))
