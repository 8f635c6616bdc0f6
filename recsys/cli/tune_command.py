"""`recsys tune`: search a model's declared ranges with Optuna (resumable)."""
from __future__ import annotations

import time

from recsys.cli.common import (
    load_dataset,
    say_error,
    split_from,
)
from recsys.errors import ConfigError


def cmd_tune(args) -> int:
    """Search a model's declared ranges with Optuna; a line per trial, then the best settings."""
    from recsys.work import tuning

    if args.list:
        rows = tuning.list_studies(args.storage)
        if not rows:
            print("no studies yet")
        for row in rows:
            best = "-" if row["best"] is None else f"{row['best']:.4f}"
            print(f"{row['study']}: {row['trials']} trials, best {best}")
        return 0
    if not args.model:
        raise ConfigError("tune needs --model (or --list)")
    dataset = load_dataset(args)
    tuner = tuning.Tuner(dataset, args.model, split_from(args), args.metric, args.storage, args.study, args.seed)
    print(f"study {tuner.study.study_name}: {args.model} on {dataset.name} ({split_from(args).label()}), "
          f"{tuner.metric} on a held-out 10% of the training part; searching {', '.join(tuner.params)}")

    def line(report) -> None:
        value = "-" if report.value is None else f"{report.value:.4f}"
        settings = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in report.params.items())
        print(f"trial {report.number:3d} {report.state:8s} {tuner.metric} {value}  {settings}  ({report.seconds:.1f}s)",
              flush=True)

    started = time.perf_counter()
    try:
        tuner.run(args.trials, args.timeout, on_trial=line)
    except KeyboardInterrupt:
        tuner.stop.set()
        say_error("interrupted: the study keeps its finished trials; run the same command to resume")
        return 130
    best = tuner.best
    counts = ", ".join(f"{n} {state}" for state, n in sorted(tuner.counts().items()))
    print(f"\n{counts} in this study; this run took {time.perf_counter() - started:.1f}s")
    if best is None:
        print("no trial finished yet")
        return 1
    settings, value = best
    print(f"best {tuner.metric} {value:.4f} (tuning validation): " +
          " ".join(f"--set {k}={v:.6g}" if isinstance(v, float) else f"--set {k}={v}" for k, v in settings.items()))
    record = tuner.save_best()
    print(f"saved as {record.label}: every page and command accepts it as a model name")
    scores = {} if args.no_test else tuner.test_scores()
    if scores:
        print(f"test {tuner.metric}: " + ", ".join(f"{label} {score:.4f}" for label, score in scores.items()))
    print(tuning.outcome(record, scores).sentence)
    return 0


