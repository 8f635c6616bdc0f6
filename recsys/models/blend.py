"""A linear blend of rating models, with weights learned on a validation part of the training data.

Each component predicts the validation ratings out of sample (AutoRec before it reads them, bayes-fm
leave-one-out over its samples, the others fitted without them),
a ridge least-squares fit with an intercept turns those columns into weights, and every component
then learns from all training data. By default each weight is linear in how many ratings the user
and the movie have (`weighting`, `recsys.models.stacking`: feature-weighted linear stacking).
The default is built around the Bayesian factorisation machine
(bayes-fm: time, implicit feedback and the movies' content), with an item neighbourhood model and
I-AutoRec beside it: their errors differ, so the blend beats each of them (docs/benchmarks.md).
It needs no TensorFlow; a Keras model can still be a part (a bag of networks, trained compiled).

A component named in `optional` that refuses the data's size (AutoRec's dense matrix) is left out
with a note, and the weights are fitted on the others. A second set of weights over the parts
that can fold in a new user (all but AutoRec) serves fold-in.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from recsys.budget import Cost, Shape
from recsys.data.split import validation_split
from recsys.errors import ConfigError
from recsys.models import sizing, stacking
from recsys.models.bag import Bag, load_parts, load_parts_state, parts_state, save_parts
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig
from recsys.models.keras_config import TRAINERS
from recsys.models.loop import History, Stage
from recsys.models.params import ASSIGNMENT, declared, hyper, parse_value

WEIGHTINGS = ("by support", "constant")
#: the layout of the blend's saved state; 2: weights by support, the support arrays and the user range
STATE_VERSION = 2


@dataclass(frozen=True)
class BlendConfig(ModelConfig):
    components: tuple[str, ...] = hyper(("bayes-fm", "item-knn", "autorec"), "names",
                                        "Blend parts (at most one Keras model)",
                                        "Each part predicts the validation ratings; a least-squares fit turns them "
                                        "into weights, then every part learns from all the training data.",
                                        page=True)
    optional: tuple[str, ...] = hyper(("autorec",), "names", "Optional parts",
                                      "parts left out (with a note) when they would not fit the budget")
    # the Keras part's settings (none in the default, which holds no Keras model)
    validation_fraction: float = hyper(0.1, "float", "Weighing fraction",
                                       "share of the training ratings held back to learn the weights", low=0.0,
                                       high=0.5, open_low=True)
    part_batch_size: int = hyper(0, "int", "Keras part's batch size", "0: the part's own default", low=0,
                                 high=1 << 20)
    part_epochs: int = hyper(0, "int", "Epochs of the Keras part (0: its own default)", "0: the part's own default",
                             low=0, high=10_000, page=True, page_range=(0, 200))
    part_trainer: str = hyper("compiled", "choice", "Keras part's trainer",
                              "compiled: the part's Keras loss, gradients and Adam in a compiled loop (mf, biased-mf, "
                              "recommender-net; about 5x faster, the same curves); keras: Keras' fit",
                              choices=TRAINERS)
    part_networks: int = hyper(4, "int", "Keras part's networks",
                               "networks of the Keras part from seeds seed, seed+1, ..., their predictions averaged "
                               "(one network above 5M ratings)", low=1, high=16)
    parts_sized_for: int = hyper(0, "int", "Parts sized for", "ratings each part picks its own per-size settings for "
                                 "(0: the parts' defaults; the blend's per-size settings set it on big data)", low=0)
    weighting: str = hyper("by support", "choice", "Weights",
                           "by support: each part's weight grows or shrinks with how many ratings the user and "
                           "the movie have (feature-weighted stacking); constant: one weight per part",
                           choices=WEIGHTINGS)
    part_settings: tuple[str, ...] = hyper((), "assignments", "Parts' own settings",
                                           "a part's setting as part.setting=value, e.g. recommender-net.factors=48 "
                                           "(each part's declared ranges apply; a tuned preset's settings fit here)")

    def __post_init__(self) -> None:
        from recsys.models.registry import MODELS

        if isinstance(self.components, tuple) and isinstance(self.optional, tuple):
            # a model that is not in the blend cannot be left out of it (unknown names stay, to be refused)
            object.__setattr__(self, "optional", tuple(p for p in self.optional
                                                       if p in self.components or p not in MODELS))
        super().__post_init__()

    def validate(self) -> None:
        super().validate()
        from recsys.models.keras_base import KerasRecommender
        from recsys.models.registry import MODELS

        names = self.components
        if not names:
            raise ConfigError(f"components must be a non-empty list of model names, got {names!r}")
        unknown = [n for n in names if n not in MODELS or not MODELS[n].blendable]
        if unknown:
            raise ConfigError(f"components: cannot blend {', '.join(unknown)}; choose among "
                              f"{', '.join(m for m, cls in MODELS.items() if cls.blendable)}")
        if sum(issubclass(MODELS[n], KerasRecommender) for n in names) > 1 or len(set(names)) != len(names):
            raise ConfigError("components: a blend holds each model once and at most one Keras model")
        if not set(self.optional) <= set(names):
            raise ConfigError(f"optional must name some of the components, got {self.optional!r}")
        for name in names:
            self.part_config(name)  # each part's own checks

    def identity(self) -> dict:
        """Its settings and each part's whole config: a blend cached under a part's old defaults
        is not the blend those defaults make now (a changed part default once served stale blends);
        and the layout of what it saves, so an artifact of an older layout is not found rather than broken."""
        return {**self.as_dict(), "parts": {name: self.part_config(name).identity() for name in self.components},
                "saved_as": STATE_VERSION}

    def part_config(self, name: str) -> ModelConfig:
        """Part `name`'s config: its own defaults, its own settings for `parts_sized_for` ratings,
        the blend's seed and `part_*` settings (for a Keras part), then what `part_settings` gives it."""
        from recsys.models.keras_base import KerasRecommender
        from recsys.models.registry import model_class

        cls = model_class(name)
        extra = dict(cls.settings_for_size(self.parts_sized_for, 0)[0]) if self.parts_sized_for else {}
        if issubclass(cls, KerasRecommender):
            extra.update({k: v for k, v in (("batch_size", self.part_batch_size), ("epochs", self.part_epochs)) if v})
            if "trainer" in declared(cls.config_type):
                extra["trainer"] = self.part_trainer
        return cls.config_type.from_dict({"seed": self.seed, **extra, **self.part_overrides(name)})

    def part_overrides(self, name: str) -> dict:
        """The settings `part_settings` gives part `name`, read as that part declares them."""
        from recsys.models.registry import MODELS

        overrides = {}
        for text in self.part_settings:
            part, setting, value = ASSIGNMENT.match(text).groups()
            if part not in self.components:
                raise ConfigError(f"part_settings: {part} is not one of the components ({', '.join(self.components)})")
            if part != name:
                continue
            params = declared(MODELS[part].config_type)
            if setting not in params:
                raise ConfigError(f"part_settings: {part} has no setting {setting!r}; see `recsys params {part}`")
            overrides[setting] = parse_value(params[setting], value, f"{part}.{setting}")
        return overrides


class Blend(Recommender):
    """Validation-weighted linear blend of rating models."""

    name = "blend"
    seconds_per_100k = 12  # train() on P2's 80,668 ratings: 9.3 s warm, 11.6 s in a fresh process
    blendable = False  # a blend of blends is refused; its factors are its Keras part's, drawn under that name
    config_type = BlendConfig
    curve_note = ("The curves are those of the blend's bayes-fm part, one step per Gibbs iteration of its first chain "
                  "(its chains learn from all the training data and predict the validation part leave-one-out); the other "
                  "parts fit without steps to draw, and the stage list above says where the run is.")

    @classmethod
    def settings_for_size(cls, n_ratings: int, n_items: int) -> tuple[dict, list[str]]:
        """Past `LARGE_RATINGS` item-knn's neighbour lists and AutoRec's dense user rows do not fit
        minutes on two cores, so the blend is its bayes-fm part alone, with that model's own
        settings at that size. Below that, from the size where a Keras part would change its batch,
        every part takes its own settings for the size (`parts_sized_for`), as it would alone."""
        from recsys.models.bayes_fm import BayesFM

        overrides, notes = {}, []
        if n_ratings > sizing.LARGE_RATINGS:
            fm_notes = BayesFM.settings_for_size(n_ratings, n_items)[1]
            overrides.update(components=(BayesFM.name,), optional=(), part_networks=1, parts_sized_for=n_ratings)
            notes.append(f"above {sizing.LARGE_RATINGS:,} ratings the blend is its bayes-fm part alone: item-knn's "
                         "neighbour lists and AutoRec's dense rows do not fit minutes on this machine")
            notes += fm_notes
        elif sizing.large_batch(n_ratings) > sizing.large_batch(0):
            overrides["parts_sized_for"] = n_ratings
        return overrides, notes

    @classmethod
    def refuses(cls, config: BlendConfig, shape: Shape) -> str:
        """A part that must be kept and cannot train on this data (an optional one is left out)."""
        from recsys.models.registry import MODELS

        return next((f"its part {reason}" for name in config.components if name not in config.optional
                     for reason in [MODELS[name].refuses(config.part_config(name), shape)] if reason), "")

    @classmethod
    def estimate(cls, config: BlendConfig, shape: Shape) -> Cost:
        """Its parts are all kept: the sum of their costs, the Keras part's once per network."""
        from recsys.budget import model_budget
        from recsys.models.keras_base import KerasRecommender
        from recsys.models.registry import MODELS

        def cost(name: str) -> Cost:
            one = MODELS[name].estimate(config.part_config(name), shape)
            networks = config.part_networks if issubclass(MODELS[name], KerasRecommender) else 1
            return one if networks == 1 else \
                Cost(one.parameters * networks, one.bytes * networks, f"{networks} networks of {one.detail}")
        costs = [cost(name) for name in config.components]
        kept = [n not in config.optional or c.bytes <= model_budget() for n, c in zip(config.components, costs)]
        costs = [c for c, keep in zip(costs, kept) if keep]  # an optional part too big for the budget is left out
        return Cost(sum(c.parameters for c in costs), sum(c.bytes for c in costs),
                    "; ".join(f"{name}: {c.detail}" for name, c in
                              zip([n for n, keep in zip(config.components, kept) if keep], costs)))
    description = "bayes-fm + item-knn + autorec, weights fitted on a validation part (best RMSE here)"

    @classmethod
    def curve_step(cls, config: ModelConfig) -> str:
        """Its curve is its first part that trains in the blend's own thread (bayes-fm, a Keras model)."""
        parts = cls(config)._components()
        return next((p.curve_step(p.config) for p in parts if not _aside(p)), cls.step_name)

    def _components(self, names: tuple[str, ...] | None = None) -> list[Recommender]:
        from recsys.models.keras_base import KerasRecommender
        from recsys.models.registry import model_class

        def part(name: str) -> Recommender:
            config = self.config.part_config(name)
            if not issubclass(model_class(name), KerasRecommender) or self.config.part_networks == 1:
                return model_class(name)(config)
            return Bag([model_class(name)(replace(config, seed=config.seed + number))
                        for number in range(self.config.part_networks)])
        return [part(name) for name in (self.config.components if names is None else names)]

    def stages(self) -> tuple[Stage, ...]:
        """One step per part (the Keras part's epochs in two phases when it refits), then the weights."""
        return tuple(Stage(f"part {n + 1} of {len(self.config.components)}: {part.name}"
                           + (f" ({len(part.members)} networks)" if isinstance(part, Bag) else ""),
                           refits=part.learns_from_validation and part.stages()[0].refits)
                     for n, part in enumerate(self._components())) + (Stage("blend weights"),)

    def _fit(self, train, valid, callbacks, stop) -> History:
        if valid is None or not len(valid):
            train, valid = validation_split(train, self.config.validation_fraction, seed=self.config.seed)
        everything = train.concat(valid)
        history, columns, self.parts, self.notes = History(), [], [], []
        plan = self.stages()
        components = self._components()
        for component in components:
            component.cached_part = self.cached_part  # a bag takes its cached networks itself
        # the parts other than the Keras one (item-knn, autorec) fit in threads beside it: their
        # loops are numba with the GIL released, and they seed their own random streams, so the
        # result is the same as in turn
        aside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blend-part")
        later = {number: aside.submit(_out_of_sample, component, train, valid, everything, stop)
                 for number, component in enumerate(components)
                 if _aside(component) and self._reusable(component, valid) is None}
        curve = next((n for n, c in enumerate(components) if not _aside(c)), None)  # its steps are the blend's curve
        try:
            for number, component in enumerate(components):
                self._announce(plan[number].name)
                cached = self._reusable(component, valid)
                try:
                    if number in later:  # out of sample first, then on all the training data
                        probe, component = later[number].result()
                        if probe is None:  # stopped meanwhile
                            return History(stopped=True)
                    elif cached is not None:  # the identical model was trained before: reuse it
                        component, probe = cached, cached.validation_predictions
                    else:  # predicts valid out of sample, then learns from it
                        fitted = component.fit(train, valid, callbacks if number == curve else [], stop)
                        history = fitted if number == curve else history
                        if fitted.stopped:
                            return fitted
                        probe = component.validation_predictions
                except ConfigError as error:
                    if component.name not in self.config.optional:
                        raise
                    self.notes.append(f"the blend left out {component.name}: {error}")
                    continue
                columns.append(np.asarray(probe, dtype=np.float64))
                self.parts.append(component)
        finally:
            aside.shutdown(wait=False, cancel_futures=True)
        self._announce(plan[-1].name)
        self.support = (stacking.support(np.bincount(everything.users, minlength=everything.n_users)),
                        stacking.support(np.bincount(everything.items, minlength=everything.n_items)))
        where = (self.support[0][valid.users], self.support[1][valid.items])
        # the weights are linear in support: used inside the range they were fitted on, never extrapolated
        # (a newcomer folded in from one rating has less support than any user the weights saw)
        self.user_range = np.array([where[0].min(), where[0].max()])
        self.support = (np.clip(self.support[0], *self.user_range), np.clip(self.support[1], where[1].min(), where[1].max()))
        by_support, seed = self.config.weighting == "by support", self.config.seed
        self.weights = stacking.fit(columns, valid.values, *where, by_support, seed)
        folding = [column for column, part in zip(columns, self.parts) if part.can_fold_in]
        self.fold_weights = stacking.fit(folding, valid.values, *where, by_support, seed) if folding else None
        return history

    def _reusable(self, component: Recommender, valid) -> Recommender | None:
        """The cached twin of a part that learns from the validation part (recommender-net, autorec),
        when there is one with validation predictions of this very validation part."""
        if self.cached_part is None or not component.learns_from_validation or isinstance(component, Bag):
            return None
        twin = self.cached_part(component.name, component.config)
        if twin is None or twin.validation_predictions is None or len(twin.validation_predictions) != len(valid):
            return None
        return twin

    def _combine(self, columns: list[np.ndarray], users, items, weights: np.ndarray | None = None) -> np.ndarray:
        """The parts' columns blended at these user and movie supports (broadcast against the columns)."""
        return stacking.combine(self.weights if weights is None else weights, columns, users, items)

    def _predict_known(self, users, items):
        return self._predict_known_at(users, items, None)

    def _predict_known_at(self, users, items, when):
        return self._combine([self.scale.clip(part._predict_known_at(users, items, when)) for part in self.parts],
                             self.support[0][users], self.support[1][items])

    @property
    def uses_time(self) -> bool:  # type: ignore[override]
        return any(part.uses_time for part in getattr(self, "parts", ()))

    def _score_known(self, users):
        return self._combine([part.scores_to_output(part._score_known(users)) for part in self.parts],
                             self.support[0][np.asarray(users)][:, None], self.support[1][None, :])

    @property
    def can_fold_in(self) -> bool:
        """Through the parts that can (weights fitted on those parts alone)."""
        return getattr(self, "fold_weights", None) is not None

    def _fold_in(self, items, ratings):
        columns = [part.scores_to_output(part._fold_in(items, ratings)) for part in self.parts if part.can_fold_in]
        user = float(np.clip(stacking.support(len(items)), *self.user_range))
        return self._combine(columns, user, self.support[1], self.fold_weights)

    def factors(self):
        return next((f for part in self.parts if (f := part.factors()) is not None), None)

    def _state(self):
        arrays = {"weights": self.weights, "parts": np.array([part.name for part in self.parts]),
                  "user_support": self.support[0], "item_support": self.support[1], "user_range": self.user_range}
        if self.fold_weights is not None:
            arrays["fold_weights"] = self.fold_weights
        return {**arrays, **parts_state(self.parts, "c")}

    def _load_state(self, arrays):
        self.weights, names = arrays["weights"], tuple(str(n) for n in arrays["parts"])
        self.support, self.user_range = (arrays["user_support"], arrays["item_support"]), arrays["user_range"]
        if not set(names) <= set(self.config.components) or self.weights.ndim != 2 \
                or self.weights.shape[0] != len(names) + 1:
            raise ValueError(f"blend parts {names} and weights {self.weights.shape} do not match its config")
        self.fold_weights = arrays.get("fold_weights")
        self.parts = self._components(names)
        for part in self.parts:
            part.share_training_data(self)
        load_parts_state(self.parts, arrays, "c")

    def _save_extra(self, folder):
        save_parts(self.parts, folder)

    def _load_extra(self, folder):
        load_parts(self.parts, folder)


def _is_keras(component: Recommender) -> bool:
    """The blend's Keras part (alone or as a bag of its networks)."""
    from recsys.models.keras_base import KerasRecommender

    return isinstance(component.members[0] if isinstance(component, Bag) else component, KerasRecommender)


def _aside(component: Recommender) -> bool:
    """A part that fits in a thread beside the others: not the Keras part nor one that holds the GIL
    (bayes-fm's sampler); those train in the blend's own thread, in turn, the first of them drawing
    the blend's curve."""
    return not _is_keras(component) and component.fits_in_threads


def _out_of_sample(component: Recommender, train, valid, everything,
                   stop=None) -> tuple[np.ndarray | None, Recommender]:
    """A part's predictions of `valid` when fitted on `train` alone, and the part fitted on all
    the training data, ready to score (None for the predictions when `stop` ended it). A part
    that learns from the validation part (AutoRec) does both in one fit."""
    if component.learns_from_validation:
        history = component.fit(train, valid, stop=stop)
        component.prepare_scoring()
        return (None if history.stopped else component.validation_predictions), component
    component.fit(train)
    probe = component.predict(valid.users, valid.items, valid.timestamps)
    final = type(component)(component.config)
    final.fit(everything)
    final.prepare_scoring()
    return probe, final
