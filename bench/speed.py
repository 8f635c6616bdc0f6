"""Speed, side by side in one run; medians and ratios to the peer.

    python bench/speed.py                      # everything
    python bench/speed.py --parts train,recommend,dashboard,growth --sizes 100000,1000000

- train: wall time and test RMSE of the default rating model on P2 (ml-latest-small random 80/20):
  train() end to end in a fresh process (cold: Python's start and every import included) and in
  this process; next to Surprise SVD f200 and myFM's timeSVD++ flipped recipe at 64, 128 and 512
  iterations on the same split; and the time until the Keras factor model's test RMSE first
  reaches 0.856 (Surprise SVD f200's P2 result), trained by Keras' fit and by the compiled trainer.
- recommend: recommend() top-10 for one user (p50, p99) and top-10 for every user.
- dashboard: server start to first page usable, and each page's open time with warm caches.
- hostile: every malformed or hostile upload of the test corpus (and a valid 10 MiB file), each
  judged in a fresh process: seconds and peak memory.
- load: waves of ten concurrent browser sessions against one server (every page, recommendations
  for a random user): sessions that went through, wall times, model loads and trainings, server memory.
- uploads: 200 MB uploads (plain, zipped, wide rows; with the dashboard's caps and without, as the
  command line reads them), each judged in a fresh process: seconds and peak memory.
- growth: synthetic ratings with MovieLens-25M's shape (labelled synthetic): the default model's
  whole fit with its per-size settings, seconds per Gibbs iteration and peak RSS, each size in a
  fresh process.
- distribute: mf under tf.distribute (one device, mirrored over 1 and 2 local replicas, two local
  multi-worker processes): seconds per epoch and ratings per second.
- scale: every page at MovieLens-25M's size on synthetic ratings (see bench/scale.py).
Writes bench/results/speed.md (all default parts) or speed-<parts>.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import publish  # noqa: E402
from recsys.data import sources  # noqa: E402
from recsys.data.split import Split, validation_split  # noqa: E402
from recsys.evaluation.evaluate import rmse  # noqa: E402
from recsys.models import make_model  # noqa: E402
from recsys.models.persistence import load_model, save_model  # noqa: E402
from recsys.work.catalog import (  # noqa: E402
    DEFAULT_FACTOR_MODEL,
    DEFAULT_RANKING_MODEL,
    DEFAULT_RATING_MODEL,
    known_parameters,
    preset,
)

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PARTS = "train,recommend,dashboard,load,growth"
SIZES = "1000000,25000000"
SVD_F200_P2 = 0.856
#: the factor model as each trainer runs it: Keras' fit (the standalone default) and the compiled
#: loop (each network of the default blend's Keras part)
TRAINERS = {"keras": "Keras fit", "compiled": "compiled trainer, as in a blend's Keras part"}
#: the Keras factor model those rows time
KERAS_FACTOR = "recommender-net"


def _model(label: str, **extra):
    chosen = preset(label)
    return make_model(chosen.model, **{**chosen.overrides, **extra})


def train_child() -> dict:
    """The default model trained end to end in this fresh process (the parent times it whole,
    Python's start and every import included): its test RMSE on P2."""
    from recsys.store.artifacts import ArtifactStore
    from recsys.work.training import train as train_end_to_end

    dataset = sources.load("ml-latest-small")
    with tempfile.TemporaryDirectory() as folder:
        result = train_end_to_end(dataset, DEFAULT_RATING_MODEL, store=ArtifactStore(folder))
    return {"rmse": result.metrics["rmse"]}


def _p2_rmse(model, test) -> float:
    return rmse(model.predict(test.users, test.items, test.timestamps), test.values)


def bench_train(repeats: int) -> list[str]:
    from bench.peers import myfm_peers, surprise_peers
    from recsys.store.artifacts import ArtifactStore
    from recsys.work.training import train as train_end_to_end

    dataset = sources.load("ml-latest-small")
    train, test = Split().apply(dataset)
    fit, valid = validation_split(train, 0.1, seed=42)
    times: dict[str, list[float]] = {}
    errors: dict[str, float] = {}

    def timed(what: str, run) -> None:
        started = time.perf_counter()
        error = run()
        times.setdefault(what, []).append(time.perf_counter() - started)
        if error is not None:
            errors[what] = error
    cold = f"recsys {DEFAULT_RATING_MODEL} (default), train() end to end in a fresh process (imports included): cold"
    warm = f"recsys {DEFAULT_RATING_MODEL} (default), train() end to end in this process, nothing cached"
    for _ in range(repeats):
        timed(cold, lambda: _child_or_fail("--train-child")["rmse"])
        with tempfile.TemporaryDirectory() as folder:
            timed(warm, lambda: train_end_to_end(dataset, DEFAULT_RATING_MODEL, store=ArtifactStore(folder)).metrics["rmse"])
        with tempfile.TemporaryDirectory() as folder:
            timed(f"recsys {DEFAULT_FACTOR_MODEL}, train() end to end in this process",
                  lambda: train_end_to_end(dataset, DEFAULT_FACTOR_MODEL, store=ArtifactStore(folder)).metrics["rmse"])
        for trainer in TRAINERS:
            model = _model(KERAS_FACTOR, trainer=trainer)
            started, hit = time.perf_counter(), []

            def watch(log, model=model, started=started, hit=hit):
                if not hit and _p2_rmse(model, test) <= SVD_F200_P2:
                    hit.append(time.perf_counter() - started)
            timed(f"recsys {KERAS_FACTOR}, {TRAINERS[trainer]} (early stopping and refit, full run)",
                  lambda model=model, watch=watch: (model.fit(fit, valid, callbacks=[watch]), _p2_rmse(model, test))[1])
            times.setdefault(f"recsys {KERAS_FACTOR}, {TRAINERS[trainer]}: until test RMSE <= {SVD_F200_P2}", []).append(
                hit[0] if hit else float("nan"))
        for peer in [p for p in surprise_peers() if p.label == "Surprise SVD f200"] + myfm_peers():
            timed(f"{peer.label}, fit", lambda peer=peer: (peer.fit(train), _p2_rmse(peer, test))[1])
    peer_s = statistics.median(times["Surprise SVD f200, fit"])
    medians = {what: float(np.nanmedian(values)) for what, values in times.items()}
    rows = [f"| {what} | {seconds:.1f} | {seconds / peer_s:.2f}x | "
            f"{errors[what]:.4f} |" if what in errors else f"| {what} | {seconds:.1f} | {seconds / peer_s:.2f}x | |"
            for what, seconds in medians.items()]
    ours = medians[cold]
    dominating = [what for what in medians if what.endswith(", fit") and medians[what] < ours
                  and errors.get(what, np.inf) <= errors[cold]]
    verdict = ("No peer setting is both faster than the default's cold train() and at least as accurate on P2."
               if not dominating else f"Faster and at least as accurate as the default: {', '.join(dominating)}.")
    return ["## Training on P2 (ml-latest-small random 80/20)", "",
            "| what | median seconds | ratio to Surprise SVD f200's fit | test RMSE |", "|---|---|---|---|", *rows,
            "", f"{repeats} repeat(s), medians; peers fitted on the same train part and scored on the same test part "
            "in this run. " + verdict, ""]


def _timed_recommend(model, n_users: int) -> tuple[list[float], float]:
    """recommend() top-10 for 2,000 random users (or as many as fit in 30 s), then for every user."""
    model.recommend(0)
    times, budget = [], time.perf_counter() + 30
    for user in np.random.default_rng(0).integers(0, n_users, 2000):
        started = time.perf_counter()
        model.recommend(int(user), k=10)
        times.append(time.perf_counter() - started)
        if started > budget:
            break
    started = time.perf_counter()
    for user in range(n_users):
        model.recommend(user, k=10)
    return times, time.perf_counter() - started


def bench_recommend() -> list[str]:
    dataset = sources.load("ml-latest-small")
    train, _ = Split().apply(dataset)
    lines = ["## recommend() on ml-latest-small", "", "| model | top-10 one user p50 (ms) | p99 (ms) | "
             "top-10 for all 610 users (s) | calls timed |", "|---|---|---|---|---|"]
    for label in (DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL):
        model = _model(label, **({"epochs": 2} if "epochs" in known_parameters(preset(label).model) else {}))
        model.fit(train)
        with tempfile.TemporaryDirectory() as folder:  # as a server that did not train it meets it
            save_model(model, Path(folder))
            loaded = load_model(type(model), Path(folder), model.config)
            for what, served in (("just trained", model), ("loaded from its files", loaded)):
                times, everyone = _timed_recommend(served, dataset.n_users)
                lines.append(f"| {label}, {what} | {np.percentile(times, 50) * 1e3:.2f} | "
                             f"{np.percentile(times, 99) * 1e3:.2f} | {everyone:.2f} | {len(times)} |")
    return lines + ["", "Timed after training (Keras models 2 epochs; timing does not depend on accuracy). "
                    "A blend just trained keeps every user's item-knn terms from its fit (small data); "
                    "loaded from its files, it walks the neighbour lists per user.", ""]


def bench_dashboard() -> list[str]:
    from bench.dashboard_driver import PAGES, mini_edit_times, serve, visit_pages

    with tempfile.TemporaryDirectory() as artifacts:
        env = {"RECSYS_ARTIFACTS_DIR": artifacts}
        started = time.perf_counter()
        with serve(env, warm=True) as (url, listening, _):  # as `make run` starts it
            timings = visit_pages(url, visits=3)
            edits = mini_edit_times(url, edits=12)
        first_usable = timings["first page"] + listening
        with serve(env, warm=True) as (url, _, _):  # the same server restarted: the data cached, the models trained
            restarted = visit_pages(url, visits=0)["first page"]
    lines = ["## Dashboard (ml-latest-small, headless Chromium)", "",
             f"Server start to the first page usable: {first_usable:.1f}s "
             f"(listening after {listening:.1f}s); its first page ({PAGES[0][0]}, where the app opens) "
             f"{timings['first page']:.1f}s, reading the data for the first time, in a browser that has not loaded "
             f"the app before. Restarted with the data cached, a fresh browser: the first page in {restarted:.1f}s.", "",
             "| page | first visit: content shown (s) | first visit: default model in place (s) | "
             "warm: median of visits 2-3 (s) |", "|---|---|---|---|"]
    for link, _, _ in PAGES:
        warm = statistics.median([timings[(link, 2)], timings[(link, 3)]])
        lines.append(f"| {link} | {timings[(link, 1)]:.2f} | {timings[(link, 1, 'default')]:.2f} | {warm:.2f} |")
    lines += ["", "A server that has trained nothing: Latent factors and Recommendations show their quick stand-in "
              "model (labelled) while their defaults train as jobs, then switch by themselves.", "",
              f"Mini demo, a rating typed into the grid until the page has answered (its run ended, the charts "
              f"painted), {len(edits)} edits: p50 {statistics.median(edits):.2f}s, max {max(edits):.2f}s."]
    return lines + ["", f"whole run {time.perf_counter() - started:.0f}s", ""]


def bench_load(sessions: int = 10, waves: int = 2) -> list[str]:
    from bench.dashboard_driver import load_waves

    with tempfile.TemporaryDirectory() as folder:
        dataset = sources.load("ml-latest-small")
        rating = preset(DEFAULT_FACTOR_MODEL)
        from recsys.store.artifacts import ArtifactStore
        from recsys.work.training import train

        train(dataset, rating.model, rating.overrides, store=ArtifactStore(Path(folder) / "models"))
        results = load_waves({"RECSYS_ARTIFACTS_DIR": folder}, Path(folder) / "server.log", sessions, waves)
    lines = [f"## Load ({sessions} concurrent headless-Chromium sessions, one server, ml-latest-small)", "",
             f"{DEFAULT_FACTOR_MODEL} (the Latent factors page's model) was in the artifact store before the server "
             f"started; {DEFAULT_RANKING_MODEL} "
             "was not (the first session to ask trains it, the others wait for it).", ""]
    lines += [f"- {wave.describe(number)}" for number, wave in enumerate(results, start=1)]
    growth = results[-1].memory["rss"] - results[0].memory["rss"]
    return lines + ["", f"Server RSS change from wave 1 to wave {waves}: {growth:+.0f} MiB.", ""]


def _child(*args: str) -> dict | str:
    """This script run with `args` in a fresh process: the JSON of its last output line, or why it
    failed (its last line of errors)."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:80]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child_or_fail(*args: str) -> dict:
    row = _child(*args)
    if isinstance(row, str):
        raise RuntimeError(f"the child process {' '.join(args)} failed: {row}")
    return row


def growth_child(size: int) -> dict:
    """One growth measurement in this (fresh) process: the default rating model with its per-size
    settings, fitted as `train()` fits it (a 10% validation part), timed whole, with peak memory."""
    from recsys.data.synthetic import synthetic_dataset
    from recsys.models import model_class
    from recsys.work import request

    started = time.perf_counter()
    dataset = synthetic_dataset(size, seed=0)
    generate = time.perf_counter() - started
    resolved = request.resolve(dataset, DEFAULT_RATING_MODEL)  # as the CLI and the pages resolve it
    note, model = resolved.size_note, model_class(resolved.model)(resolved.config)
    fit, valid = validation_split(dataset.ratings, 0.1, seed=42)
    logs = []
    started = time.perf_counter()
    model.fit(fit, valid, callbacks=[logs.append])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    chains = [peak for part in model.parts for peak in getattr(part, "chain_peaks", [])]
    chain_peak = max(chains, default=0) / 1024**3  # bayes-fm's largest chain (VmHWM in its own process)
    steps = sorted(log.seconds for log in logs)
    return {"size": dataset.n_ratings, "users": dataset.n_users, "items": dataset.n_items, "generate_s": generate,
            "fit_s": seconds, "iterations": len(logs), "iteration_s": steps[len(steps) // 2] if steps else float("nan"),
            "peak_rss_gib": peak, "chain_peak_gib": chain_peak, "parts": ", ".join(p.name for p in model.parts), "note": note}


def bench_growth(sizes: list[int]) -> list[str]:
    lines = ["## Growth (synthetic ratings shaped like MovieLens-25M: 162k users, 59k movies)", "",
             f"| ratings | users seen | movies seen | {DEFAULT_RATING_MODEL} parts | Gibbs iterations | median s per "
             "iteration | fit s | peak RSS (GiB) | largest chain's peak RSS (GiB) |", "|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for size in sizes:
        row = _child("--growth-child", str(size))
        if isinstance(row, str):
            lines.append(f"| {size:,} | failed: {row} | | | | | | | |")
            continue
        lines.append(f"| {row['size']:,} | {row['users']:,} | {row['items']:,} | {row['parts']} | {row['iterations']} | "
                     f"{row['iteration_s']:.2f} | {row['fit_s']:.0f} | {row['peak_rss_gib']:.2f} | "
                     f"{row['chain_peak_gib']:.2f} |")
        if row["note"]:
            notes.append(f"- {row['size']:,}: {row['note']}")
    return lines + ["", f"The default {DEFAULT_RATING_MODEL} with its per-size settings (what the Train page says was "
                    "cut), fitted on 90% with a 10% validation part, in a fresh process per size; iterations are "
                    "those of bayes-fm's first chain (its other chains sample beside it; with held-out validation, as "
                    "above 5M ratings, the chain and its refit in turn). Peak RSS: the process that fits (with the "
                    "synthetic set it made); bayes-fm's chains sample in processes of their own, the largest one's "
                    "peak beside it.", *notes, ""]


HOSTILE_LIMIT_BYTES = 10 * 1024**2


def hostile_child(name: str) -> dict:
    """Judge one upload of the malformed/hostile corpus (or a valid 10 MiB file) in this fresh
    process: seconds, peak RSS and the verdict."""
    from recsys.data.upload import read_ratings_file
    from recsys.errors import DataError
    from tests.robustness.corpus import corpus, csv

    full = (small_folder() / "ratings.csv").read_text().splitlines()
    if name == "valid 10 MiB upload":
        rows = [line.split(",", 1) for line in full[1:]]
        data = csv([full[0]] + [f"{int(user) + 1000 * copy},{rest}" for copy in range(8) for user, rest in rows])
        data = data[:data.rfind(b"\n", 0, HOSTILE_LIMIT_BYTES) + 1]
    else:
        data = next(case for case in corpus(full[:201], full) if case.name == name).build(full[:201])
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        dataset = read_ratings_file(data)
        verdict = f"accepted: {dataset.n_ratings:,} ratings"
    except DataError as error:
        verdict = f"refused: {str(error)[:70]}"
    return {"name": name, "mib": len(data) / 1024**2, "seconds": time.perf_counter() - started,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "baseline_mib": baseline,
            "verdict": verdict}


def bench_hostile() -> list[str]:
    """Every upload of the corpus up to 10 MiB, judged in its own process (budget: 5 s, 600 MiB)."""
    from tests.robustness.corpus import corpus

    full = (small_folder() / "ratings.csv").read_text().splitlines()
    names = [case.name for case in corpus(full[:201], full)] + ["valid 10 MiB upload"]
    lines = ["## Hostile uploads (each judged in a fresh process; budget 5 s and 600 MiB peak up to 10 MiB)", "",
             "| upload | MiB | seconds | peak RSS (MiB) | verdict |", "|---|---|---|---|---|"]
    worst_seconds = worst_peak = 0.0
    for name in names:
        row = _child("--hostile-child", name)
        if isinstance(row, str):
            lines.append(f"| {name} | | | | failed: {row} |")
            continue
        if row["mib"] <= 10:
            worst_seconds, worst_peak = max(worst_seconds, row["seconds"]), max(worst_peak, row["peak_mib"])
        lines.append(f"| {name} | {row['mib']:.2f} | {row['seconds']:.2f} | {row['peak_mib']:.0f} | "
                     f"{row['verdict'].replace('|', '/')} |")
    return lines + ["", f"Worst upload of at most 10 MiB: {worst_seconds:.2f} s, {worst_peak:.0f} MiB peak RSS "
                    "(the process itself, with Python, numpy and pandas loaded, is part of the peak).", ""]


BIG_UPLOAD_BYTES = 200 * 10**6
BIG_UPLOADS = ("200 MB of ratings, dashboard caps", "200 MB of ratings, zipped, dashboard caps",
               "200 MB, 1.9M wide rows, dashboard caps", "200 MB of ratings, command line (no caps)",
               "20M short rows (187 MiB) zipped, command line (no caps)")


def _short_rows_zip(n: int = 20_000_000) -> bytes:
    """A zip of `n` seeded rows "user,item,rating" with small ids (most pairs repeat and are merged),
    written a million rows at a time so building it costs little memory."""
    import io
    import zipfile

    rng, buffer = np.random.default_rng(0), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("ratings.csv", "w") as out:
        out.write(b"user,item,rating\n")
        for start in range(0, n, 1_000_000):
            size = min(1_000_000, n - start)
            rows = np.stack([rng.integers(1, 100, size), rng.integers(1, 10_000, size), rng.integers(1, 6, size)], 1)
            out.write("\n".join(f"{u},{i},{r}" for u, i, r in rows.tolist()).encode() + b"\n")
    return buffer.getvalue()


def _repeated_rows(full: list[str], target: int, extra: str = "") -> bytes:
    """Real ml-latest-small rows repeated with shifted user ids up to `target` bytes."""
    rows = [line.split(",", 1) for line in full[1:]]
    header = full[0] + (",comment" if extra else "")
    out, size, copy = [header], len(header) + 1, 0
    while size < target:
        for user, rest in rows:
            line = f"{int(user) + 1000 * copy},{rest}{extra}"
            out.append(line)
            size += len(line) + 1
            if size >= target:
                break
        copy += 1
    return ("\n".join(out) + "\n").encode()


def big_upload_child(name: str) -> dict:
    """Judge one 200 MB upload in this fresh process: seconds, peak RSS above the baseline, verdict."""
    import io
    import zipfile

    from recsys.data.upload import UPLOAD_CAPS, read_ratings_file
    from recsys.errors import DataError

    full = (small_folder() / "ratings.csv").read_text().splitlines()
    if "short rows" in name:
        data = _short_rows_zip()
    elif "wide rows" in name:
        data = _repeated_rows(full, BIG_UPLOAD_BYTES, extra="," + "x" * 80)
    else:
        data = _repeated_rows(full, BIG_UPLOAD_BYTES if "zipped" not in name else 3 * BIG_UPLOAD_BYTES)
    if "zipped" in name and "short rows" not in name:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("ratings.csv", data)
        data = buffer.getvalue()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        dataset = read_ratings_file(data, caps=None if "no caps" in name else UPLOAD_CAPS)
        verdict = f"accepted: {dataset.n_ratings:,} ratings"
    except DataError as error:
        verdict = f"refused: {str(error)[:90]}"
    return {"name": name, "mb": len(data) / 1e6, "seconds": time.perf_counter() - started,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "baseline_mib": baseline,
            "verdict": verdict}


def bench_big_uploads() -> list[str]:
    """200 MB uploads, each in a fresh process (budget: 15 s and 1.5 GiB peak)."""
    lines = ["## 200 MB uploads (each judged in a fresh process; budget 15 s and 1.5 GiB peak)", "",
             "Built from real ml-latest-small rows repeated with shifted user ids. Peak RSS is the whole process: "
             "the file's bytes as the server holds them (built before the clock starts) and Python with numpy and "
             "pandas are part of it.", "",
             "| upload | MB | seconds | peak RSS (MiB) | before judging (MiB) | verdict |", "|---|---|---|---|---|---|"]
    for name in BIG_UPLOADS:
        row = _child("--big-upload-child", name)
        if isinstance(row, str):
            lines.append(f"| {name} | | | | | failed: {row} |")
            continue
        lines.append(f"| {name} | {row['mb']:.0f} | {row['seconds']:.1f} | {row['peak_mib']:.0f} | "
                     f"{row['baseline_mib']:.0f} | {row['verdict'].replace('|', '/')} |")
    return lines + [""]


def bench_distribute(size: int = 1_000_000) -> list[str]:
    """Ratings per second of mf on synthetic ratings with one device, MirroredStrategy over 1 and 2
    local replicas (logical CPUs here, the GPUs where there are some) and two local multi-worker
    processes; each setting in fresh processes, the second epoch timed."""
    import socket

    child = [sys.executable, str(Path(__file__).resolve().parent.parent / "tests" / "recsys" / "distribute_child.py"),
             "--synthetic", str(size), "--models", "mf", "--epochs", "2", "--batch", "65536"]
    rows = []
    for label, extra in (("one device (default)", ["--strategies", "default"]),
                         ("mirrored, 1 replica", ["--strategies", "mirrored"]),
                         ("mirrored, 2 replicas", ["--strategies", "mirrored", "--logical-cpus", "2"])):
        done = subprocess.run(child + extra, capture_output=True, text=True)
        rows.append((label, json.loads(done.stdout.strip().splitlines()[-1])[0] if done.returncode == 0 else
                     {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:100]}))
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    workers = [f"localhost:{port}" for port in ports]
    procs = [subprocess.Popen(child + ["--strategies", "multi-worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "TF_CONFIG": json.dumps(
                                  {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})})
             for i in range(2)]
    outputs = [proc.communicate() for proc in procs]
    rows.append(("multi-worker, 2 local processes", json.loads(outputs[0][0].strip().splitlines()[-1])[0]
                 if procs[0].returncode == 0 else {"error": outputs[0][1].strip().splitlines()[-1][:100]}))
    lines = [f"## Distribution ({size:,} synthetic ratings, mf, batch 65,536; one machine)", "",
             "| setting | replicas | s per epoch (2nd) | ratings per s | test RMSE |", "|---|---|---|---|---|"]
    for label, row in rows:
        if "error" in row:
            lines.append(f"| {label} | failed: {row['error']} | | | |")
            continue
        epoch = row["epoch_s"][-1]
        lines.append(f"| {label} | {row['replicas']} | {epoch:.1f} | {row['ratings'] / epoch / 1e6:.2f}M | {row['rmse']:.4f} |")
    return lines + ["", "On one CPU box the replicas share the same cores, so more replicas add copying, not "
                    "compute: these numbers show the engine works and what it costs, not a speed-up.", ""]


def small_folder() -> Path:
    """ml-latest-small where recsys finds it (RECSYS_DATA_DIR or the download cache)."""
    from recsys.data.sources import locate

    return locate("ml-latest-small", download=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=DEFAULT_PARTS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", action="store_true", help="also write the tables into docs/benchmarks.md")
    parser.add_argument("--sizes", default=SIZES)
    parser.add_argument("--growth-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--hostile-child", help=argparse.SUPPRESS)
    parser.add_argument("--train-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--big-upload-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hostile_child:
        print(json.dumps(hostile_child(args.hostile_child)))
        return 0
    if args.big_upload_child:
        print(json.dumps(big_upload_child(args.big_upload_child)))
        return 0
    if args.train_child:
        print(json.dumps(train_child()))
        return 0
    if args.growth_child:
        print(json.dumps(growth_child(args.growth_child)))
        return 0
    parts = args.parts.split(",")
    started = time.perf_counter()
    lines = [f"# Speed ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores)", ""]
    def scale() -> list[str]:
        from bench.scale import bench_scale

        return bench_scale()
    runs = {"train": lambda: bench_train(args.repeats), "recommend": bench_recommend, "dashboard": bench_dashboard,
            "load": bench_load, "hostile": bench_hostile, "uploads": bench_big_uploads,
            "distribute": bench_distribute, "scale": scale,
            "growth": lambda: bench_growth([int(s) for s in args.sizes.split(",")])}
    unknown = [part for part in parts if part not in runs]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; parts: {', '.join(runs)}")
    for part in runs:  # in this order, whatever order they were asked in
        if part in parts:
            lines += runs[part]()
    text = "\n".join(lines)
    if args.docs:
        asked = ",".join(part for part in runs if part in parts)
        sizes = f" --sizes {args.sizes}" if "growth" in parts and args.sizes != SIZES else ""
        publish(f"speed-{asked}", f"Speed: {asked}", f"python bench/speed.py --parts {asked}{sizes} --docs",
                "\n".join(lines[2:]).replace("\n## ", "\n### "), time.perf_counter() - started)
    RESULTS.mkdir(exist_ok=True)
    out = "speed.md" if args.parts == DEFAULT_PARTS else f"speed-{'-'.join(parts)}.md"
    (RESULTS / out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
