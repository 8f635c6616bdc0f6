"""Tune a model's hyper-parameters with Optuna over the ranges its config declares.

A study is one (dataset, split, model label, metric). The search space is every declared setting
with a `search` range (`recsys.models.params.search_space`): log scale where declared, integers
for whole numbers, the listed values for choices; `narrow` replaces a range. TPE, seeded.

What a trial sees (the test part is never touched): the split's training part is cut into a
*search* part and a *tuning-validation* part (a seeded 10%). The trial's model fits on the search
part exactly as training does (its own early-stopping validation carved from it, then its refit),
reports its per-epoch validation score to Optuna (a median pruner stops hopeless trials), and is
scored on the tuning-validation part: RMSE for rating models, NDCG@10 for ranking ones. Every
trial is priced first and refused over the budget, as any training is.

Studies live in Optuna storage: a SQLite file under the artifact folder by default, so a stopped
or interrupted study resumes where it was; any storage URL Optuna takes, or a journal file
(`*.log`), lets several processes or machines work on one study at once.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from recsys.data.dataset import Dataset
from recsys.data.sources import artifacts_root
from recsys.data.split import Split, validation_split
from recsys.errors import ConfigError, RecsysError
from recsys.evaluation.evaluate import evaluate_top_k, rmse
from recsys.models import model_class
from recsys.models.params import Param, search_space
from recsys.work import request, tuned
from recsys.work.training import VALIDATION_FRACTION, check_plan

#: the share of the training part held out to score trials
TUNING_FRACTION = 0.1


def space(label: str, narrow: dict[str, tuple] | None = None) -> dict[str, Param]:
    """The settings a study searches for a preset, with `narrow` replacing declared ranges."""
    from dataclasses import replace

    from recsys.work.catalog import preset

    chosen = preset(label)
    config_type = model_class(chosen.model).config_type
    found = {name: param for name, param in search_space(config_type, config_type(**chosen.overrides)).items()
             if name not in chosen.overrides}  # a preset's own settings (objective) stay fixed
    for name, bounds in (narrow or {}).items():
        if name not in found:
            raise ConfigError(f"{label} does not search {name!r}; it searches {', '.join(found) or 'nothing'}")
        found[name] = replace(found[name], search=tuple(bounds))
    return found


def space_rows(params: dict[str, Param], defaults: dict) -> list[dict]:
    """The search space as rows a person reads before a study starts: each setting, its default
    at this size, the range searched and its scale."""
    def shown(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    return [{"setting": name, "meaning": param.label, "default here": shown(defaults.get(name, "")),
             "searched": ", ".join(shown(v) for v in param.search) if param.kind not in ("int", "float")
             else f"{shown(param.search[0])} to {shown(param.search[1])}",
             "scale": "log" if param.log else ("values" if param.kind not in ("int", "float") else "linear")}
            for name, param in params.items()]


def suggest(trial: Any, params: dict[str, Param]) -> dict:
    """One trial's settings: Optuna suggests each searched setting within its range."""
    chosen = {}
    for name, param in params.items():
        if param.kind == "int":
            chosen[name] = trial.suggest_int(name, int(param.search[0]), int(param.search[1]), log=param.log)
        elif param.kind == "float":
            chosen[name] = trial.suggest_float(name, float(param.search[0]), float(param.search[1]), log=param.log)
        else:
            chosen[name] = trial.suggest_categorical(name, list(param.search))
    return chosen


def default_metric(label: str) -> str:
    """RMSE for a model that predicts ratings, NDCG@10 for one that only ranks."""
    from recsys.work.catalog import preset

    chosen = preset(label)
    return "rmse" if model_class(chosen.model)(model_class(chosen.model).config_type(**chosen.overrides)) \
        .predicts_ratings else "ndcg"


def study_name(dataset: Dataset, label: str, split: Split, metric: str) -> str:
    return f"{dataset.name}-{dataset.fingerprint[:10]}-{split.label()}-{label}-{metric}"


def storage(url: str | None = None):
    """Optuna storage: the SQLite file under the artifact folder by default (waiting on a busy
    file rather than failing), a database URL, or a journal file (a path ending in .log)."""
    import optuna

    if url is None:
        folder = artifacts_root() / "studies"
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'studies.db'}"
    if url.endswith(".log") and "://" not in url:
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(Path(url))))
    if url.startswith("sqlite"):
        for attempt in range(20):  # two workers creating one fresh file race to write its schema
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}})
            except Exception:  # noqa: BLE001 - sqlalchemy's IntegrityError/OperationalError while the other writes
                if attempt == 19:
                    raise
                time.sleep(0.2 + 0.1 * attempt)
    return url


@dataclass(frozen=True)
class TrialReport:
    """What a face shows about each finished trial."""

    number: int
    state: str
    value: float | None
    params: dict
    seconds: float


class Tuner:
    """Runs (or resumes) one study: `run(trials, timeout)`; `stop` ends it after the current trial
    (the running trial is stopped after its current batch and counted as pruned)."""

    def __init__(self, dataset: Dataset, label: str, split: Split = Split(), metric: str | None = None,
                 storage_url: str | None = None, name: str | None = None, seed: int = 0,
                 narrow: dict[str, tuple] | None = None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if label.endswith(tuned.SUFFIX):
            raise ConfigError(f"{label} is already a tuned preset: tune {label.removesuffix(tuned.SUFFIX)} again instead")
        if not split.has_test:
            raise ConfigError("tune on a split with a test part (the full split keeps none back)")
        self.dataset, self.label, self.split = dataset, label, split
        self.metric = metric or default_metric(label)
        if self.metric not in ("rmse", "ndcg"):
            raise ConfigError(f"metric must be rmse or ndcg, got {self.metric!r}")
        self.params = space(label, narrow)
        if not self.params:
            raise ConfigError(f"{label} declares no setting worth searching")
        self.stop = threading.Event()
        self._default_score: float | None = None
        train_part, _ = split.apply(dataset)
        self.search_part, self.tuning_part = validation_split(train_part, TUNING_FRACTION, seed=seed + 7)
        self.study = optuna.create_study(
            study_name=name or study_name(dataset, label, split, self.metric), storage=storage(storage_url),
            load_if_exists=True, direction="minimize" if self.metric == "rmse" else "maximize",
            sampler=optuna.samplers.TPESampler(seed=seed), pruner=optuna.pruners.MedianPruner(n_warmup_steps=2))

    def objective(self, trial: Any) -> float:
        import optuna

        chosen = suggest(trial, self.params)
        resolved = request.resolve(self.dataset, self.label, self.split, chosen)
        check_plan(resolved.plan)
        pruned = threading.Event()
        stop = threading.Event()

        def report(log) -> None:
            score = log.val_rmse if log.val_rmse is not None else log.val_loss
            if log.phase != "fit" or score is None:
                return
            trial.report(float(score), log.epoch)
            if trial.should_prune() or self.stop.is_set():
                pruned.set()
                stop.set()

        score = self._fit_and_score(resolved.model, resolved.config, report, stop)
        if pruned.is_set() or score is None:
            raise optuna.TrialPruned()
        return score

    def _fit_and_score(self, model_name: str, config, report=None, stop=None) -> float | None:
        """Fit on the search part as training does and score on the tuning-validation part
        (None: the fit was stopped)."""
        model = model_class(model_name)(config)
        fit_part, valid_part = validation_split(self.search_part, VALIDATION_FRACTION, seed=config.seed)
        history = model.fit(fit_part, valid_part, callbacks=[report] if report else [], stop=stop)
        return None if history.stopped else self.score(model)

    @property
    def defaults(self) -> dict:
        """The searched settings as the preset has them at this size (what tuning must beat)."""
        config = request.resolve(self.dataset, self.label, self.split).config
        return {name: getattr(config, name) for name in self.params}

    def default_score(self) -> float:
        """The defaults' score on the same tuning-validation part as the trials (computed once)."""
        if self._default_score is None:
            resolved = request.resolve(self.dataset, self.label, self.split)
            self._default_score = self._fit_and_score(resolved.model, resolved.config)
        return self._default_score

    def better(self, value: float, than: float) -> bool:
        """Whether `value` beats `than` on this study's metric (lower RMSE, higher NDCG)."""
        return value < than if self.metric == "rmse" else value > than

    def score(self, model) -> float:
        """The trial's metric on the tuning-validation part (never seen by the trial's fit)."""
        if self.metric == "rmse":
            part = self.tuning_part
            return rmse(model.predict(part.users, part.items, part.timestamps), part.values)
        return evaluate_top_k(model, self.search_part, self.tuning_part, 10).ndcg

    def run(self, trials: int, timeout: float | None = None,
            on_trial: Callable[[TrialReport], None] | None = None) -> "Tuner":
        """Run up to `trials` more trials (or until `timeout` seconds or `stop`)."""

        def callback(study, trial) -> None:
            if on_trial is not None:
                seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() \
                    if trial.datetime_complete and trial.datetime_start else float("nan")
                on_trial(TrialReport(trial.number, trial.state.name.lower(), trial.value, dict(trial.params), seconds))
            if self.stop.is_set():
                study.stop()

        self.study.optimize(self.objective, n_trials=trials, timeout=timeout, callbacks=[callback],
                            catch=(RecsysError,), gc_after_trial=True)
        return self

    @property
    def best(self) -> tuple[dict, float] | None:
        """The best trial's settings and validation score, or None before any trial completes."""
        import optuna

        done = [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not done:
            return None
        return dict(self.study.best_params), float(self.study.best_value)

    def save_best(self) -> tuned.TunedPreset | None:
        """Keep the best settings as the preset `<label>@tuned` (None before any trial completes).
        The best trial must beat the defaults on the tuning-validation part (the same rows for
        both); when it does not, the preset keeps the defaults and says so. Floats are kept to
        four significant digits (what a person can read and type; the score does not move)."""
        from recsys.work.catalog import preset

        best = self.best
        if best is None:
            return None
        settings, value = best
        default = self.default_score()
        kept = default is not None and not self.better(value, default)
        chosen = preset(self.label)
        settings = {} if kept else {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in settings.items()}
        record = tuned.TunedPreset(f"{self.label}{tuned.SUFFIX}", self.label, chosen.model,
                                   {**chosen.overrides, **settings}, self.study.study_name, self.dataset.name,
                                   self.split.label(), self.metric, default if kept else value,
                                   len(self.study.trials), default_value=default, kept_defaults=kept)
        tuned.save(record)
        return record

    def test_scores(self, store=None) -> dict[str, float]:
        """The test metric of the default settings and of the tuned preset, computed once after
        the search (each trains on the whole training part, or loads its cached artifact)."""
        from recsys.work.training import train_plan

        out = {}
        for label in (self.label, f"{self.label}{tuned.SUFFIX}"):
            resolved = request.resolve(self.dataset, label, self.split)
            result = train_plan(self.dataset, resolved.plan, store=store)
            out[label] = float(result.metrics.get(self.metric, float("nan")))
        return out

    def counts(self) -> dict[str, int]:
        """Trials by state: complete, pruned, fail, running."""
        out: dict[str, int] = {}
        for trial in self.study.trials:
            out[trial.state.name.lower()] = out.get(trial.state.name.lower(), 0) + 1
        return out


@dataclass(frozen=True)
class Outcome:
    """What a finished study's result means, in one sentence and a tone (success, warning, info)."""

    tone: str
    sentence: str


def outcome(record: tuned.TunedPreset, test_scores: dict[str, float]) -> Outcome:
    """The verdict on a tuned preset from its validation scores (which chose it) and the test
    scores of the defaults and the preset (which check the choice): a gain is called a gain only
    when both agree."""
    metric, lower = record.metric.upper(), record.metric == "rmse"
    default_test, tuned_test = test_scores.get(record.base), test_scores.get(record.label)
    if record.kept_defaults:
        return Outcome("info", f"No trial beat the default settings on validation ({metric} "
                               f"{record.default_value:.4f}), so {record.label} keeps the defaults.")
    valid = "" if record.default_value is None else \
        f" on validation ({metric} {record.default_value:.4f} -> {record.value:.4f})"
    if default_test is None or tuned_test is None:
        return Outcome("info", f"{record.label} beat the defaults{valid}; its test score is computed when a "
                               "study ends without being stopped.")
    gained = tuned_test < default_test if lower else tuned_test > default_test
    change = f"test {metric} {default_test:.4f} -> {tuned_test:.4f}"
    if gained:
        return Outcome("success", f"{record.label} beat the defaults{valid}, and on the test part too ({change}).")
    return Outcome("warning", f"{record.label} beat the defaults{valid}, but not on the test part ({change}): the "
                              "gain did not carry over to unseen ratings, so the defaults remain the better "
                              "choice here. More trials or a narrower search may help.")


def list_studies(storage_url: str | None = None) -> list[dict]:
    """Every study in the storage: name, trials, best value and when it last ran."""
    import optuna

    rows = []
    for summary in optuna.get_all_study_summaries(storage(storage_url)):
        rows.append({"study": summary.study_name, "trials": summary.n_trials,
                     "best": None if summary.best_trial is None else summary.best_trial.value,
                     "started": summary.datetime_start})
    return rows

