"""Every page at MovieLens-25M's size on one machine: `python bench/speed.py --parts scale`.

Synthetic ratings with MovieLens-25M's shape (labelled synthetic everywhere) are written once in
ml-25m's folder format, then, each step in a fresh process where memory matters:
- first load (parse + fast local copy) and later load (the fast copy) of that folder, and of
  real ml-25m where this machine has it;
- training the default top-10 model (ease) and the default rating model (blend) with their
  per-size settings, with time, epochs and peak memory;
- per-user top-10 time of both;
- the dashboard on `synthetic-25m`: every page opened three times in headless Chromium (warm =
  median of visits 2-3), and the server's peak memory with the dataset and both models in it.
Everything is kept under artifacts/bench-scale/ so a second run reuses the written folder."""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recsys.data import sources  # noqa: E402

SIZE = 25_000_000
#: the default top-10 model on the Recommendations page's default split, the default rating model on
#: the Train page's, and the Latent factors page's model on its split
MODELS = (("ease", "full"), ("recommender-net", "holdout"), ("blend", "holdout"))
BUDGETS = {"first load": 90, "later load": 10, "Dataset": 3, "Rating matrix": 3, "Latent factors": 5,
           "per user": 1, "training": 15 * 60, "server peak GiB": 8}


def root() -> Path:
    return sources.artifacts_root() / "bench-scale"


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def child(step: str, *args: str) -> dict:
    """Run one step in a fresh process (this file with --child) and return its JSON line."""
    done = subprocess.run([sys.executable, __file__, "--child", step, *args], capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": tail[:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def step_write(folder: str) -> dict:
    from recsys.data.synthetic import synthetic_dataset, write_movielens_folder

    started = time.perf_counter()
    dataset = synthetic_dataset(SIZE, seed=0, name="synthetic-25m")
    write_movielens_folder(dataset, Path(folder))
    return {"seconds": time.perf_counter() - started, "ratings": dataset.n_ratings}


def step_load(folder: str, name: str) -> dict:
    started = time.perf_counter()
    dataset = sources.load(name, path=Path(folder) if folder else None, download=False)
    return {"seconds": time.perf_counter() - started, "peak_gib": _peak_gib(), "ratings": dataset.n_ratings,
            "users": dataset.n_users, "items": dataset.n_items}


def step_train(label: str, split_kind: str) -> dict:
    """Train a default model on synthetic-25m with its per-size settings, into the server's store."""
    from recsys.data.split import Split
    from recsys.explain.recommend import for_user
    from recsys.work import request
    from recsys.work.training import train

    dataset = sources.load("synthetic-25m")
    loaded_gib = _peak_gib()
    chosen = request.resolve(dataset, label, Split(split_kind))  # as the CLI and the pages resolve it
    note = chosen.size_note
    epochs: list[float] = []
    started = time.perf_counter()
    result = train(dataset, chosen.model, chosen.config, split=Split(split_kind), retrain=True,
                   callbacks=[lambda log: epochs.append(log.seconds)])
    seconds = time.perf_counter() - started
    users = list(range(0, dataset.n_users, dataset.n_users // 20))[:20]
    per_user = []
    for user in users:
        begun = time.perf_counter()
        for_user(result.model, dataset, user, k=10)
        per_user.append(time.perf_counter() - begun)
    return {"label": label, "seconds": seconds, "epochs": len(epochs),
            "epoch_s": statistics.median(epochs) if epochs else None, "peak_gib": _peak_gib(),
            "loaded_gib": loaded_gib, "note": note, "user_p50": statistics.median(per_user),
            "user_max": max(per_user), "rmse": result.metrics.get("rmse"), "split": split_kind}


def step_pages() -> dict:
    from bench.dashboard_driver import memory_mib, serve, visit_pages

    env = {"RECSYS_ARTIFACTS_DIR": str(sources.artifacts_root())}
    with serve(env, timeout=120) as (url, listening, pid):
        timings = visit_pages(url + "?dataset=synthetic-25m", visits=3, wait_scale=10)
        memory = memory_mib(pid)
    pages = {}
    for key, seconds in timings.items():
        if isinstance(key, tuple):
            pages.setdefault(key[0], {})[str(key[1])] = seconds
    return {"listening": listening, "first_page": timings["first page"], "pages": pages,
            "server_peak_gib": memory["peak"] / 1024, "server_rss_gib": memory["rss"] / 1024}


def bench_scale() -> list[str]:
    base = root()
    folder = base / "ml-25m-format"
    lines = [f"## Scale: {SIZE:,} synthetic ratings with MovieLens-25M's shape (not MovieLens)", ""]
    if not (folder / "ratings.csv").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        written = child("write", str(folder))
        lines.append(f"Generated and written in ml-25m's folder format in {written.get('seconds', float('nan')):.0f}s "
                     f"({(folder / 'ratings.csv').stat().st_size / 1024**2:,.0f} MB ratings.csv).")
    os.environ["RECSYS_ARTIFACTS_DIR"] = str(base / "first")
    shutil.rmtree(base / "first", ignore_errors=True)
    first = child("load", str(folder), "ml-25m")
    later = child("load", str(folder), "ml-25m")
    lines += ["", "| step | seconds | peak RSS (GiB) | budget |", "|---|---|---|---|",
              _row("first load of ml-25m's format (parse, index, write the fast copy)", first, BUDGETS["first load"]),
              _row("later load (the fast copy)", later, BUDGETS["later load"])]
    if sources.status("ml-25m").ready:
        real_folder = sources.locate("ml-25m", download=False)
        lines.append(_row("real ml-25m, later load", child("load", str(real_folder), "ml-25m"), BUDGETS["later load"]))
    os.environ["RECSYS_ARTIFACTS_DIR"] = str(base / "server")
    generated = child("load", "", "synthetic-25m")
    lines.append(_row("synthetic-25m in the picker: generate and keep a fast copy (first open)", generated, None))
    for label, split_kind in MODELS:
        row = child("train", label, split_kind)
        if "error" in row:
            lines.append(f"| train {label} | failed: {row['error']} | | |")
            continue
        epochs = f", {row['epochs']} epochs of {row['epoch_s']:.0f}s" if row["epochs"] else ""
        rmse = f", test RMSE {row['rmse']:.3f}" if row.get("rmse") == row.get("rmse") and row.get("rmse") else ""
        lines.append(f"| train {label}, {split_kind} split ({row['note'] or 'its defaults'}{epochs}{rmse}) | "
                     f"{row['seconds']:.0f} | "
                     f"{row['peak_gib']:.2f} | {BUDGETS['training']} |")
        lines.append(f"| {label}: top-10 for one user (median of 20; max {row['user_max']:.2f}s) | "
                     f"{row['user_p50']:.2f} | | {BUDGETS['per user']} |")
    pages = child("pages")
    if "error" in pages:
        return lines + ["", f"Dashboard: failed: {pages['error']}", ""]
    lines += ["", "| page on synthetic-25m | first visit (s) | warm: median of visits 2-3 (s) | budget (warm) |",
              "|---|---|---|---|"]
    for page, visits in pages["pages"].items():
        warm = statistics.median([visits["2"], visits["3"]])
        lines.append(f"| {page} | {visits['1']:.1f} | {warm:.1f} | {BUDGETS.get(page, '')} |")
    lines += ["", f"Server: listening after {pages['listening']:.1f}s, first page usable after {pages['first_page']:.1f}s; "
              f"peak RSS {pages['server_peak_gib']:.2f} GiB with the dataset and both models in memory "
              f"(budget {BUDGETS['server peak GiB']} GiB).", ""]
    return lines


def _row(what: str, row: dict, budget) -> str:
    if "error" in row:
        return f"| {what} | failed: {row['error']} | | {budget or ''} |"
    return f"| {what} | {row['seconds']:.1f} | {row['peak_gib']:.2f} | {budget or ''} |"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        step, args = sys.argv[2], sys.argv[3:]
        steps = {"write": step_write, "load": step_load, "train": step_train, "pages": step_pages}
        print(json.dumps(steps[step](*args)))
    else:
        print("\n".join(bench_scale()))
