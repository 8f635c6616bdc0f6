"""One Gibbs chain of the Bayesian factorisation machine (myFM's sampler), whatever process runs
it: the features from the chain's training ratings, and a callback that takes each sample apart
(`features.split_sample`), reports the iteration (training RMSE of the sample on a fixed set of
training ratings, validation RMSE of the running posterior mean, the sampled movies' and users'
vectors for the moving map) and keeps evenly spaced samples after the burn-in as arrays.

The validation part is either held out of the chain (its posterior mean predicts it out of
sample) or, with `loo`, among the chain's own training ratings: then each is predicted as if it
were left out, by importance sampling over the samples (`LeaveOneOut`), so one chain both learns
from every rating and says how it does on ratings it has not seen.

myFM's sampler holds the interpreter lock for a whole sweep, so `bayes_fm` runs a chain in a
child process (`recsys.gibbs.process`) and only relays what it reports."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable

import numpy as np
from scipy import sparse

from recsys.data.dataset import Ratings
from recsys.errors import ConfigError
from recsys.gibbs.features import DayBins, Sides, SideTerms, build_sides, content_rows, predict_sample, split_sample

#: the training RMSE on the curve is each sample's on this many training ratings (a fixed random set)
TRAIN_PROBE = 10_000
#: a leave-one-out estimate from one sample is that sample's own fit (every weight alike), far too
#: good: the curve shows it from this many samples on (the blend's weights use every sample)
LOO_FIRST_SAMPLES = 5


@dataclass(frozen=True)
class ChainSpec:
    """What a chain samples, besides its data: the model's settings that shape it."""

    rank: int
    iterations: int
    burn_in: int
    samples: int
    date: bool
    day_width: int
    user_implicit: bool
    movie_implicit: bool
    genres: bool
    year: bool
    init_stdev: float
    seed: int
    loo: bool = False  # the validation ratings are among the training ratings: predicted leave-one-out

    @classmethod
    def of(cls, config: object, seed: int, loo: bool = False) -> "ChainSpec":
        """From a `BayesFMConfig`, with the chain's own seed (each chain of a fit has its own)."""
        values = {f.name: getattr(config, f.name) for f in fields(cls) if f.name not in ("seed", "loo")}
        return cls(seed=seed, loo=loo, **values)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Kept:
    """The kept samples, side by side: sample s is columns s*rank..(s+1)*rank of each vector table."""

    w0: float
    biases: tuple[np.ndarray, np.ndarray, np.ndarray]  # mean bias per user, movie, day bin
    vectors: tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, samples * rank) float32 per side
    implicit: tuple[np.ndarray, np.ndarray]  # per sample: w (n_items, S) and V (n_items, S*rank) of "rated j"
    priors: np.ndarray  # (S, 3 + 2 * rank): noise precision, then mu_w, lambda_w, mu_V, lambda_V of the user ids
    #: samples per chain, in order (pooled chains): each chain's vectors live in a space of their own
    #: (a factorisation is the same under any rotation), so only one chain's may be averaged
    chains: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return int(self.priors.shape[0])

    @property
    def first_chain(self) -> int:
        """How many of the samples, from the first, are the first chain's."""
        return self.chains[0] if self.chains else self.count

    NAMES = ("user", "item", "day")

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"w0": np.array([self.w0]), "priors": self.priors, "implicit_w": self.implicit[0],
               "implicit_v": self.implicit[1], "chain_samples": np.array(self.chains or (self.count,))}
        for name, bias, vectors in zip(self.NAMES, self.biases, self.vectors):
            out[f"{name}_bias"], out[f"{name}_vectors"] = bias, vectors
        return out

    @classmethod
    def pooled(cls, chains: list["Kept"]) -> "Kept":
        """The samples of several chains as one set (biases and w0 averaged by each chain's count)."""
        counts = np.array([k.count for k in chains], dtype=np.float64)

        def mean(values: list) -> np.ndarray:
            return sum(c * np.asarray(v) for c, v in zip(counts, values)) / counts.sum()
        return cls(float(mean([k.w0 for k in chains])), tuple(mean([k.biases[n] for k in chains]) for n in range(3)),
                   tuple(np.concatenate([k.vectors[n] for k in chains], axis=1) for n in range(3)),
                   tuple(np.concatenate([k.implicit[n] for k in chains], axis=1) for n in range(2)),
                   np.concatenate([k.priors for k in chains]), sum((k.chains or (k.count,) for k in chains), ()))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Kept":
        return cls(float(arrays["w0"][0]), tuple(arrays[f"{n}_bias"] for n in cls.NAMES),
                   tuple(arrays[f"{n}_vectors"] for n in cls.NAMES), (arrays["implicit_w"], arrays["implicit_v"]),
                   arrays["priors"], tuple(int(n) for n in arrays.get("chain_samples", ())))


@dataclass(frozen=True)
class Step:
    """What one iteration reports: its number (1-based), the sample's training RMSE, the running
    posterior mean's validation RMSE (None during the burn-in or without a validation part), and
    the sampled movies' and users' vectors (float16; the posterior mean so far after the burn-in)."""

    iteration: int
    loss: float
    val_rmse: float | None
    items: np.ndarray
    users: np.ndarray


@dataclass
class ChainResult:
    kept: Kept
    valid_mean: np.ndarray | None  # the posterior mean's predictions of the validation part
    peak_bytes: int = 0  # the peak resident memory of the process that sampled it, where known
    loo: "LeaveOneOut | None" = None  # with `spec.loo`: the sums behind `valid_mean`, to pool chains


def day_bins(spec: ChainSpec, ratings: Ratings) -> DayBins | None:
    """The day bins of a chain fitted on `ratings` (None without the date or without times)."""
    return DayBins.of(ratings.timestamps, spec.day_width) if spec.date and ratings.has_timestamps else None


def last_days(bins: DayBins | None, ratings: Ratings) -> np.ndarray:
    """Each user's latest day bin in `ratings` (0 for users without ratings there)."""
    last = np.zeros(ratings.n_users, dtype=np.int64)
    if bins is not None and len(ratings):
        np.maximum.at(last, ratings.users, bins.index(ratings.timestamps))
    return last


def rows(bins: DayBins | None, last_day: np.ndarray, users: np.ndarray, items: np.ndarray,
         when: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The user, movie and day-bin row of each rating (the user's latest day where `when` is None)."""
    users = np.asarray(users, dtype=np.int64)
    if bins is None:
        days = np.zeros(users.size, dtype=np.int64)
    elif when is None:
        days = last_day[users]
    else:
        days = bins.index(when)
    return users, np.asarray(items, dtype=np.int64), days


def run_chain(spec: ChainSpec, train: Ratings, valid: Ratings | None, snapshot_items: np.ndarray,
              snapshot_users: np.ndarray, on_step: Callable[[Step], bool]) -> ChainResult:
    """Sample one chain on `train` (features from `train` alone). `on_step` hears every iteration
    and returns True to end the chain there; what was kept so far is the result."""
    import myfm._myfm as backend
    from myfm import RelationBlock

    bins = day_bins(spec, train)
    sides = build_sides(train, bins, spec.user_implicit, spec.movie_implicit,
                        content_rows(train.content, spec.genres, spec.year))
    last_day = last_days(bins, train)
    where = rows(bins, last_day, train.users, train.items, train.timestamps)
    blocks = [RelationBlock(where[0], sides.users), RelationBlock(where[1], sides.items)]
    if bins is not None:
        blocks.append(RelationBlock(where[2], sides.days))
    config = backend.ConfigBuilder()
    for key, value in (("alpha_0", 1.0), ("beta_0", 1.0), ("gamma_0", 1.0), ("mu_0", 0.0), ("reg_0", 1.0),
                       ("fit_w0", True), ("fit_linear", True)):
        getattr(config, f"set_{key}")(value)
    config.set_group_index(sides.grouping)
    config.set_n_iter(spec.iterations)
    config.set_n_kept_samples(0)  # the callback keeps the samples, as arrays of its own
    config.set_task_type(backend.TaskType.REGRESSION)
    sampler = _Sampler(spec, sides, bins, last_day, train, valid, snapshot_items, snapshot_users, on_step)
    backend.create_train_fm(spec.rank, spec.init_stdev, sparse.csr_matrix((len(train), 0), dtype=np.float64), blocks,
                            train.values.astype(np.float64), spec.seed, config.build(), sampler)
    return ChainResult(sampler.finish(train.n_users), sampler.valid_mean() if valid is not None else None, loo=sampler.loo)


class LeaveOneOut:
    """Importance-sampling leave-one-out predictions of ratings the chain learns from (Gelfand,
    Dey and Chang 1992; Vehtari, Gelman and Gabry 2017): sample s weighs rating n by
    1 / p(y_n | sample s), Gaussian with the sample's noise precision, and the weighted mean of the
    samples' predictions estimates the posterior mean of a chain that never saw y_n. Kept as running
    sums, scaled by each rating's largest log weight so far, one update per sample."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.top = np.full(self.values.size, -np.inf)
        self.weights = np.zeros(self.values.size)
        self.weighted = np.zeros(self.values.size)

    def add(self, predicted: np.ndarray, precision: float) -> None:
        """One sample's predictions of the ratings and its noise precision."""
        log_weight = 0.5 * precision * (self.values - predicted) ** 2 - 0.5 * np.log(precision)
        top = np.maximum(self.top, log_weight)
        before, now = np.exp(self.top - top), np.exp(log_weight - top)
        self.weights = self.weights * before + now
        self.weighted = self.weighted * before + now * predicted
        self.top = top

    def mean(self) -> np.ndarray:
        return self.weighted / np.maximum(self.weights, np.finfo(float).tiny)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"loo_top": self.top, "loo_weights": self.weights, "loo_weighted": self.weighted}

    @classmethod
    def from_arrays(cls, values: np.ndarray, arrays: dict[str, np.ndarray]) -> "LeaveOneOut":
        loo = cls(values)
        loo.top, loo.weights, loo.weighted = arrays["loo_top"], arrays["loo_weights"], arrays["loo_weighted"]
        return loo

    @classmethod
    def pooled(cls, chains: list["LeaveOneOut"]) -> "LeaveOneOut":
        """The sums over the samples of several chains of the same ratings, as one."""
        pooled = cls(chains[0].values)
        pooled.top = np.max([c.top for c in chains], axis=0)
        for chain in chains:
            scale = np.exp(chain.top - pooled.top)
            pooled.weights, pooled.weighted = pooled.weights + chain.weights * scale, pooled.weighted + chain.weighted * scale
        return pooled


class _Sampler:
    """myFM's per-iteration callback (see the module's docstring)."""

    def __init__(self, spec: ChainSpec, sides: Sides, bins: DayBins | None, last_day: np.ndarray, train: Ratings,
                 valid: Ratings | None, snapshot_items: np.ndarray, snapshot_users: np.ndarray,
                 on_step: Callable[[Step], bool]) -> None:
        self.spec, self.sides, self.on_step = spec, sides, on_step
        self.scale = train.scale
        probe = np.random.default_rng(spec.seed).permutation(len(train))[:TRAIN_PROBE]
        self.train_rows = rows(bins, last_day, train.users[probe], train.items[probe], train.timestamps[probe])
        self.train_values = train.values[probe].astype(np.float64)
        self.valid = valid if valid is not None and len(valid) else None
        self.valid_rows = rows(bins, last_day, valid.users, valid.items, valid.timestamps) if self.valid else None
        self.valid_sum = np.zeros(len(valid)) if self.valid is not None else None
        self.loo = LeaveOneOut(valid.values) if self.valid is not None and spec.loo else None
        self.averaged = 0
        # evenly spread from the burn-in's end to the last iteration: the early samples predict better
        # than the late ones alone (P3, 128 iterations: the last 64 kept 0.883, spread over all 0.876)
        self.keep = set(np.linspace(spec.iterations - 1, spec.burn_in, min(spec.samples, spec.iterations - spec.burn_in))
                        .round().astype(int).tolist())
        self.kept: list[tuple] = []
        self.last: tuple | None = None
        self.snapshot_items, self.snapshot_users = snapshot_items, snapshot_users
        self.map_sum: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, i: int, fm, hyper, history) -> bool:
        w, v = np.array(fm.w, copy=True), np.array(fm.V, copy=True)  # views of the sampler's buffers otherwise
        terms = split_sample(self.sides, w, v)
        # what a kept sample needs, compactly (the whole w and V of every kept sample held 3 GiB at 1M ratings):
        # its sides' biases and float32 vectors, its priors, and the "rated movie j" features' w and V
        n_users, width = self.sides.users.shape[0], self.sides.widths[0]
        sample = (float(fm.w0), tuple(SideTerms(t.bias, t.vectors.astype(np.float32)) for t in terms),
                  _priors(hyper, self.spec.rank), w[n_users:width].copy(), v[n_users:width].astype(np.float32))
        self.last = sample
        loss = _rmse(predict_sample(sample[0], terms, *self.train_rows), self.train_values)
        val_rmse = None
        if i >= self.spec.burn_in:
            self.averaged += 1
            self.map_sum = (terms[1].vectors.copy(), terms[0].vectors.copy()) if self.map_sum is None else \
                (self.map_sum[0] + terms[1].vectors, self.map_sum[1] + terms[0].vectors)
            if self.valid is not None:
                predicted = predict_sample(sample[0], terms, *self.valid_rows)
                if self.loo is not None:
                    self.loo.add(predicted, float(hyper.alpha))
                else:
                    self.valid_sum += predicted
                if self.loo is None or self.averaged >= LOO_FIRST_SAMPLES:
                    val_rmse = _rmse(self.scale.clip(self.valid_mean()), self.valid.values)
        if i in self.keep:
            self.kept.append(sample)
        return bool(self.on_step(Step(i + 1, loss, val_rmse, *self._map(terms))))

    def _map(self, terms: tuple[SideTerms, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The sampled movies' and users' vectors: the posterior mean so far (the sample during the burn-in)."""
        items, users = (self.map_sum[0] / self.averaged, self.map_sum[1] / self.averaged) if self.map_sum is not None \
            else (terms[1].vectors, terms[0].vectors)
        return items[self.snapshot_items].astype(np.float16), users[self.snapshot_users].astype(np.float16)

    def valid_mean(self) -> np.ndarray:
        """The validation ratings' predictions: the posterior mean so far, or its leave-one-out estimate."""
        return self.loo.mean() if self.loo is not None else self.valid_sum / max(self.averaged, 1)

    def finish(self, n_users: int) -> Kept:
        """The kept samples as one `Kept` (the last sample alone when the run stopped before any was kept)."""
        kept = self.kept or ([self.last] if self.last is not None else [])
        if not kept:
            raise ConfigError("bayes-fm was stopped before its first Gibbs iteration ended: nothing to keep")
        rank = self.spec.rank
        implicit = self.sides.widths[0] > n_users

        def side(number: int) -> tuple[np.ndarray, np.ndarray]:
            bias = np.mean([s[1][number].bias for s in kept], axis=0)
            return bias, np.concatenate([s[1][number].vectors for s in kept], axis=1).astype(np.float32)

        (bu, vu), (bi, vi), (bd, vd) = side(0), side(1), side(2)
        if vd.shape[0] == 0:  # no date: one neutral day
            bd, vd = np.zeros(1), np.zeros((1, vu.shape[1]), dtype=np.float32)
        implicit_w = np.stack([s[3] for s in kept], axis=1) if implicit else np.zeros((0, len(kept)))
        implicit_v = (np.concatenate([s[4] for s in kept], axis=1) if implicit
                      else np.zeros((0, len(kept) * rank), dtype=np.float32))
        return Kept(float(np.mean([s[0] for s in kept])), (bu, bi, bd), (vu, vi, vd), (implicit_w, implicit_v),
                    np.stack([s[2] for s in kept]))


def _priors(hyper, rank: int) -> np.ndarray:
    """The sample's noise precision and its priors on user ids (group 0) as one row."""
    mu_v, lambda_v = np.array(hyper.mu_V, copy=True), np.array(hyper.lambda_V, copy=True)
    return np.concatenate([[hyper.alpha, np.asarray(hyper.mu_w)[0], np.asarray(hyper.lambda_w)[0]],
                           mu_v[0][:rank], lambda_v[0][:rank]])


def _rmse(predicted: np.ndarray, values: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - values) ** 2)))
