"""A Bayesian factorisation machine with time and implicit feedback: the "timeSVD++ flipped"
features of Rendle, Zhang and Koren, "On the Difficulty of Evaluating Baselines" (2019), sampled
by Gibbs with per-group hyper-priors (`myfm`), plus the movies' genres and release years.

Features come from the ratings the model is fitted on (see `recsys.gibbs.features`): the user, the movie,
the day of the rating (binned), the movies the user rated and the users who rated the movie; and
from the data's description of each movie (genres, year), which lets a movie with a handful of
ratings borrow from its kind (P2: 0.814 -> 0.797 at 64 iterations). Each
Gibbs iteration reports to the epoch loop (the curve: training RMSE of that sample and the
validation RMSE of the running posterior mean); a stop ends the chain and keeps what was sampled.

Its chains (two by default, side by side in their own processes) learn from all the training data,
the validation part included, and predict each validation rating as if it had been left out
(importance-sampling leave-one-out over their samples): the blend's weights come from those
predictions, and both chains' samples make the model. This replaced a chain on the other 90%
followed by a refit chain on everything (still `validation=held-out`): the same sampling, and the
weights now match the model that is kept (blend P1 0.8767 -> 0.8754, P2 0.7970 -> 0.7942,
P3 0.8734 -> 0.8723; `bench/accuracy.py`).

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
from recsys.data.dataset import Ratings
from recsys.errors import ArtifactError, ConfigError
from recsys.models import snapshots
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.gibbs.chain import ChainResult, ChainSpec, Kept, LeaveOneOut, Step, day_bins, last_days, rows
from recsys.gibbs.features import DayBins
from recsys.models.loop import EpochCallback, EpochLoop, History, Stage
from recsys.models.outputs import Factors
from recsys.models.params import hyper

FOLD_INS = ("regression", "implicit")
VALIDATIONS = ("leave-one-out", "held-out")
#: what a chain's process holds before the data (interpreter, numpy, myFM)
SAMPLER_BASE = 400 << 20
#: ratings predicted at a time (their samples' vectors gathered side by side: 1024 x 1200 floats);
#: all 20,000 of P2's test ratings at once took 0.7 s, in blocks 0.05 s
PREDICT_ROWS = 1024
#: above `sizing.LARGE_RATINGS` a chain samples from this many training ratings at most
LARGE_CHAIN_RATINGS = 12_000_000


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
    max_ratings: int = hyper(0, "int", "Ratings per chain", "a chain samples from at most this many training ratings, "
                             "a seeded random share of them (0: all); myFM holds about 180 bytes per rating", low=0)
    validation: str = hyper("leave-one-out", "choice", "Validation part",
                            "leave-one-out: one chain learns from all the training data and predicts each validation "
                            "rating as if it were left out (importance sampling over its samples); held-out: a chain "
                            "on the rest predicts them out of sample (then, with refit, a fresh chain on everything)",
                            choices=VALIDATIONS)
    chains: int = hyper(2, "int", "Chains", "independent chains from seeds seed, seed+1, ... on all the training data, "
                        "sampling side by side in their own processes, their samples pooled (P3: one chain 0.8765, "
                        "two 0.8743; held-out validation samples one chain and its refit instead)", low=1, high=16,
                        page=True, page_range=(1, 8))
    refit: bool = hyper(True, "bool", "Refit", "held-out validation only: after the chain that predicts the validation "
                        "part, sample a fresh chain on all the training data (the one kept)")
    fold_in: str = hyper("regression", "choice", "New users",
                         "regression: each kept sample solves the new user's own bias and vector given their "
                         "ratings (conditional posterior mean); implicit: the movies they rated alone",
                         choices=FOLD_INS)

    def validate(self) -> None:
        super().validate()
        if self.burn_in >= self.iterations:
            raise ConfigError(f"burn_in ({self.burn_in}) must be below iterations ({self.iterations})")


class BayesFM(Recommender):
    """Bayesian FM (myFM's Gibbs sampler) on user, movie, day, the user's movies and the movie's users."""

    name = "bayes-fm"
    config_type = BayesFMConfig
    seconds_per_100k = 8  # train() on P2's 80,668 ratings: 6.5 s (two chains side by side)
    draws_on_a_map = True
    keeps_snapshots = True
    uses_time = True
    learns_from_validation = True
    step_name = "Gibbs iteration"
    description = "Bayesian factorisation machine with time and implicit feedback (Rendle 2019's timeSVD++ flipped)"
    curve_note = ("Each step is one Gibbs iteration: the training RMSE of that sample, and the validation RMSE of "
                  "the posterior mean so far (every sample after the burn-in averaged), of the first of its chains. The "
                  "chains learn from the validation ratings too, so each is predicted as if it were left out: the "
                  "samples are weighed by how badly they fit it (importance-sampling leave-one-out), shown from the "
                  "fifth sample on.")

    @property
    def fits_in_threads(self) -> bool:
        return False  # its chains sample in child processes; in a blend its own thread relays them (the curve)

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """Above 5M ratings one chain, no refit (the 10% validation part it leaves out changes little
        at that size), on at most `LARGE_CHAIN_RATINGS` training ratings, rank 8, no implicit blocks:
        measured at 25M, a chain with every feature held 7.4 GiB in its process (myFM keeps per-row
        caches), without the implicit blocks at rank 8 still 4.5 GiB."""
        from recsys.models import sizing

        if n_ratings <= sizing.LARGE_RATINGS:
            return {}, []
        return ({"iterations": 16, "burn_in": 4, "samples": 6, "validation": "held-out", "refit": False, "chains": 1, "rank": 8,
                 "user_implicit": False,
                 "movie_implicit": False, "max_ratings": LARGE_CHAIN_RATINGS},
                [f"above {sizing.LARGE_RATINGS:,} ratings bayes-fm samples one chain (no refit) of 16 Gibbs iterations "
                 f"from {LARGE_CHAIN_RATINGS:,} of the training ratings, with 8 factors and without the implicit "
                 "blocks, and keeps 6 samples: myFM holds about 180 bytes per rating and factor set, 310 with the "
                 "implicit blocks (7.4 GiB for one chain at 25M)"])

    @classmethod
    def estimate(cls, config: BayesFMConfig, shape: Shape) -> Cost:
        """Peak memory of its chains (in their processes, side by side when it refits), measured with
        myFM on synthetic sets of 2M and 25M ratings: about 0.4 GiB, then per rating a chain samples
        from 128 bytes, 6 per factor and 70 per implicit block (myFM caches per row and rank); the
        kept samples; the training rows."""
        blocks = int(config.user_implicit) + int(config.movie_implicit)
        per_row = 128 + 6 * config.rank + 70 * blocks
        chains = config.chains if config.validation == "leave-one-out" else 2 if config.refit else 1
        sampled = min(shape.n_ratings, config.max_ratings) if config.max_ratings else shape.n_ratings
        sampler = chains * (SAMPLER_BASE + sampled * per_row)
        rows = shape.n_users + 2 * shape.n_items + 4000  # a vector per user, movie, implicit movie and day
        kept = rows * config.samples * config.rank * 4
        parameters = (2 * (shape.n_users + shape.n_items) + 4000) * (config.rank + 1)
        return Cost(parameters, sampler + kept + rows_cost(shape),
                    f"{chains} Gibbs chain(s) over {shape.n_ratings:,} ratings and {config.samples} kept samples of "
                    f"{config.rank} factors per user, movie and day")

    # ----- fit -----
    def stages(self) -> tuple[Stage, ...]:
        """One step; in two phases (the held-out chain, then the refit chain) only with held-out validation."""
        return (Stage("fitting", refits=self.config.validation == "held-out" and self.config.refit),)

    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        """With a validation part, by default `chains` chains on all the training data, side by side in
        child processes, their samples pooled; they predict the validation ratings leave-one-out (the
        curve's validation RMSE, from the first chain; the blend's weights, from all). Held out:
        a chain on `train` predicts them and, with `refit`, a fresh chain on all the training data is
        the model kept, the two sampling side by side in child processes (the refit's iterations
        relayed after the first chain's). Without a validation part: `chains` chains, pooled."""
        from recsys.gibbs.process import ChainProcess

        cfg = self.config
        checking = valid is not None and len(valid) > 0
        loo = checking and cfg.validation == "leave-one-out"
        refitting = checking and not loo and cfg.refit
        everything = train.concat(valid) if loo or refitting else train
        self.snapshot_items, self.snapshot_users = snapshots.sample(train)
        pooling = loo or not checking  # `chains` chains side by side on the same ratings
        if pooling:
            samples_from = [self._sampled(train, reserve=len(valid)).concat(valid) if loo else self._sampled(train)]
            specs = [ChainSpec.of(cfg, cfg.seed + n, loo=loo) for n in range(cfg.chains)]
        else:
            samples_from = [self._sampled(train)] + ([self._sampled(everything)] if refitting else [])
            specs = [ChainSpec.of(cfg, cfg.seed)] + ([ChainSpec.of(cfg, cfg.seed + 1)] if refitting else [])
        chains = []
        try:
            for number, spec in enumerate(specs):
                chains.append(ChainProcess(spec, samples_from[min(number, len(samples_from) - 1)],
                                           valid if checking and (loo or number == 0) else None,
                                           self.snapshot_items, self.snapshot_users))
            history = History()
            held = self._relay(chains[0], callbacks, stop, "fit", history)
            final, peaks = held, [held.peak_bytes]
            if pooling:  # the other chains sampled beside the first, which drew the curve: their samples join it
                others = [self._finish(chain, stop, history.stopped) for chain in chains[1:]]
                peaks += [other.peak_bytes for other in others]
                final = held = _pooled([held] + others)
            elif refitting:
                if history.stopped:
                    chains[1].request_stop()
                else:
                    final = self._relay(chains[1], callbacks, stop, "refit", history)
            if checking:
                self.validation_predictions = held.valid_mean
        finally:
            for chain in chains:
                chain.close()
        refitted = final is not held
        self._bins = day_bins(ChainSpec.of(cfg, cfg.seed), samples_from[-1 if refitted else 0])  # the kept chain's
        self._last_day = last_days(self._bins, everything if loo or refitted else train)  # a day it did not see: the bin before
        self._kept = final.kept
        #: the peak resident memory of each chain's process (for the benchmarks; not saved)
        self.chain_peaks = peaks + ([final.peak_bytes] if refitted else [])
        self.snapshots = history.snapshots
        return history

    def _sampled(self, ratings: Ratings, reserve: int = 0) -> Ratings:
        """The ratings a chain samples from: all, or a seeded random `max_ratings` of them (less
        `reserve`, the validation ratings a leave-one-out chain adds to them)."""
        limit = max(1, self.config.max_ratings - reserve) if self.config.max_ratings else 0
        if not limit or len(ratings) <= limit:
            return ratings
        rows = np.sort(np.random.default_rng(self.config.seed).choice(len(ratings), limit, replace=False))
        return ratings.take(rows)

    @staticmethod
    def _finish(chain, stop: threading.Event | None, stopped: bool) -> ChainResult:
        """A chain sampling beside the one relayed: its steps passed over, asked to end if the run was stopped."""
        if stopped:
            chain.request_stop()
        for _ in chain.steps(stop):
            pass
        return chain.result()

    def _relay(self, chain, callbacks: list[EpochCallback], stop: threading.Event | None, phase: str,
               history: History) -> ChainResult:
        """The chain's iterations through the epoch loop (curves, snapshots, the stop flag), then its result."""
        loop = EpochLoop(self.config.iterations, callbacks, stop, phase=phase, history=history,
                         capture=lambda epoch, phase, val_rmse: snapshots.Snapshot(
                             epoch, phase, val_rmse, current[0].items, current[0].users, self.snapshot_items))
        current: list[Step] = []
        loop.begin(0)
        for step in chain.steps(stop):
            current[:] = [step]
            loop.end(step.loss, None, step.val_rmse)
            loop.begin(step.iteration)
            if loop.stop_requested:
                chain.request_stop()
        return chain.result()

    def _rows(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None) -> tuple[np.ndarray, ...]:
        return rows(self._bins, self._last_day, users, items, when)

    # ----- predict -----
    def _predict_known(self, users, items):
        return self._predict_known_at(users, items, None)

    def _predict_known_at(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None) -> np.ndarray:
        users, items, days = self._rows(users, items, when)
        kept = self._kept
        (bu, bi, bd), (vu, vi, vd) = kept.biases, kept.vectors
        out = kept.w0 + bu[users] + bi[items] + bd[days]
        for start in range(0, users.size, PREDICT_ROWS):  # rows at a time: the samples' vectors stay in cache
            block = slice(start, start + PREDICT_ROWS)
            u, i, d = vu[users[block]], vi[items[block]], vd[days[block]]
            out[block] += (np.einsum("nk,nk->n", u, i + d) + np.einsum("nk,nk->n", i, d)) / kept.count
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
        movies, the movie's with its raters) over the first chain's samples (another chain's space is
        rotated against it; the moving map is the first chain's too); `spread` holds their standard
        deviations over those samples."""
        count, rank, first = self._kept.count, self.config.rank, self._kept.first_chain
        users, items = (v.reshape(v.shape[0], count, rank)[:, :first] for v in self._kept.vectors[:2])
        return Factors(users.mean(axis=1), items.mean(axis=1), users.std(axis=1).mean(axis=1),
                       items.std(axis=1).mean(axis=1))

    # ----- persistence -----
    def _state(self):
        arrays = {**self._kept.arrays(), "last_day": self._last_day}
        if self._bins is not None:
            arrays["day_starts"], arrays["day_width"] = self._bins.starts, np.array([self._bins.width])
        return arrays

    def _load_state(self, arrays):
        self._bins = DayBins(arrays["day_starts"], int(arrays["day_width"][0])) if "day_starts" in arrays else None
        self._last_day = arrays["last_day"]
        self._kept = Kept.from_arrays(arrays)
        width = self._kept.count * self.config.rank
        if any(v.shape[1] != width for v in self._kept.vectors):
            raise ValueError(f"bayes-fm vectors do not hold {self._kept.count} samples of rank {self.config.rank}")

    def _check_loaded(self) -> None:
        super()._check_loaded()
        kept = self._kept
        if kept.vectors[0].shape[0] != self.n_users or kept.vectors[1].shape[0] != self.n_items:
            raise ArtifactError("bayes-fm's saved vectors do not match its users and movies")


def _pooled(results: list[ChainResult]) -> ChainResult:
    """Chains of the same ratings as one: their samples side by side, their leave-one-out sums added."""
    if len(results) == 1:
        return results[0]
    loo = LeaveOneOut.pooled([r.loo for r in results]) if all(r.loo is not None for r in results) else None
    return ChainResult(Kept.pooled([r.kept for r in results]), loo.mean() if loo is not None else None,
                       max(r.peak_bytes for r in results), loo)


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
