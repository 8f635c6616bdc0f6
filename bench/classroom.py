"""Thirty students on one server: browser-less sessions (Streamlit's AppTest) sharing one server
process (its caches, its job runner and its artifact store, as the sessions of one
`streamlit run` do), each walking the seven lessons with a reading pause between clicks and rating
the ten movies of lesson 1 in its own way.

Reports each page run's time (p50, p95, max) as a student waits for it, the process's peak memory,
whether any session saw another's ratings (each session's stored ratings and top-10 are checked
against its own), and how many times each model was trained (once is the target).

    python bench/classroom.py [--students 30] [--classes cold:10,prepared:10,prepared:2] [--docs]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.publish import publish  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
#: one script run at a time: AppTest swaps a process-wide runtime in and out around each run, so
#: two at once would clash; a server's sessions share one interpreter (and its lock) just the same
RUNS = threading.Lock()


def _count_trainings(counter: Counter) -> None:
    """Wrap the job runner's training call so every real fit (not a load) is counted by key."""
    from recsys.work import jobs

    original = jobs.train_plan

    def counted(dataset, planned, *args, **kwargs):
        result = original(dataset, planned, *args, **kwargs)
        if not result.loaded:
            counter[result.key] += 1
        return result

    jobs.train_plan = counted


def _student(number: int, pause: float, times: list, problems: list, start: threading.Barrier) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard import resources
    from dashboard.lesson_views import TITLES

    rng = np.random.default_rng(number)
    at = AppTest.from_file(APP, default_timeout=600)

    def run(step=None) -> None:
        started = time.perf_counter()
        if step is not None:
            step()
        while True:  # a model still training: the page reruns once a second, as in a browser
            with RUNS:
                at.run()
            if not resources.job_runner().active(everyone=True):
                break
            time.sleep(1.0)
        times.append(time.perf_counter() - started)
        if at.exception:
            problems.append(f"student {number}: {at.exception[0].value}")
        time.sleep(rng.uniform(0.5, 1.5) * pause)

    start.wait()
    run(lambda: at.switch_page("app_pages/lessons.py"))  # the link the teacher shared
    for key in TITLES:
        run(lambda: at.radio(key="lesson").set_value(key))
        if key == "you":
            sliders = [s for s in at.select_slider if s.key.startswith("you_")]
            mine = {s.key: float(rng.integers(1, 11) / 2) for s in sliders}
            for slider in sliders:
                slider.set_value(mine[slider.key])
            run(lambda: [b for b in at.button if b.label == "Place me on the map"][0].click())
            items, ratings = at.session_state["lesson_you"]
            if {f"you_{i}": r for i, r in zip(items, ratings)} != mine:
                problems.append(f"student {number} sees ratings that are not theirs")


def lesson_numbers() -> str:
    """The numbers the lessons show on ml-latest-small (their models trained as the page trains them)."""
    from dashboard.lesson_views import UNREGULARISED
    from recsys.data import sources
    from recsys.data.split import Split
    from recsys.explain import lessons
    from recsys.work.training import train

    dataset = sources.load("ml-latest-small")
    train_part, test = Split().apply(dataset)
    model, free = train(dataset, "als").model, train(dataset, "als", UNREGULARISED).model
    ladder = lessons.bias_ladder(train_part, test, model)
    cold = lessons.cold_start(dataset, train_part, test, model).errors
    _, rho = lessons.length_and_popularity(dataset, model)
    return "\n".join([
        "The lessons' numbers on ml-latest-small, as the page shows them (random 80/20, seed 42):", "",
        "| lesson | what | numbers |", "|---|---|---|",
        "| 4. Biases first | test RMSE: " + ", ".join(ladder["model"]) + " | "
        + ", ".join(f"{v:.3f}" for v in ladder["rmse"]) + " |",
        f"| 5. Regularisation | validation RMSE after the last iteration, without and with the penalty (0.1) | "
        f"{free.half_steps[-1, 1]:.3f}, {model.half_steps[-1, 1]:.3f} |",
        f"| 6. Dot product or cosine | Spearman correlation of vector length and number of ratings | {rho:.2f} |",
        "| 7. Cold start | test RMSE of 100 people after " + ", ".join(cold["ratings known"]) + " ratings | "
        + ", ".join(f"{v:.3f}" for v in cold["rmse"]) + " |"])


def scenario(students: int, pause: float, prepared: bool) -> dict:
    """One class on a fresh server (an empty artifact store): its numbers. `prepared`: the teacher
    walked the lessons once before the class (their models trained then, not timed)."""
    os.environ["RECSYS_ARTIFACTS_DIR"] = tempfile.mkdtemp(prefix="classroom-")
    trainings: Counter = Counter()
    _count_trainings(trainings)
    times: list[float] = []
    problems: list[str] = []
    if prepared:
        _student(students, 0.0, [], problems, threading.Barrier(1))
    start = threading.Barrier(students)
    threads = [threading.Thread(target=_student, args=(n, pause, times, problems, start)) for n in range(students)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    p50, p95 = np.percentile(times, [50, 95])
    return {"students": students, "pause": pause, "prepared": prepared, "runs": len(times), "p50": p50, "p95": p95,
            "max": max(times),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "models": len(trainings),
            "twice": sum(n > 1 for n in trainings.values()), "leaks": sum("not theirs" in p for p in problems),
            "problems": problems}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--classes", default="cold:10,prepared:10,prepared:2",
                        help="one class each: cold (nothing trained) or prepared (the teacher walked the lessons "
                             "first), and the mean seconds a student reads between clicks")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # one class in this process, as JSON
    parser.add_argument("--docs", action="store_true", help="also write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.one is not None:
        state, pause = args.one.split(":")
        print(json.dumps(scenario(args.students, float(pause), state == "prepared")))
        return 0
    began = time.perf_counter()
    rows = []
    for one in args.classes.split(","):  # each class on a fresh server process
        out = subprocess.run([sys.executable, __file__, "--students", str(args.students), "--one", one],
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    body = "\n".join([
        f"{args.students} students at once on ml-latest-small, each opening the link to the Lessons page, walking the seven "
        "lessons and rating the ten movies of lesson 1 in their own way, against one server process with no "
        "model trained at the start (cold), or after the teacher walked the lessons once (prepared: their two models "
        "trained then); a student pauses between clicks for the time given (0.5-1.5x, at random).", "",
        "| server | reading pause (s) | page runs | p50 (s) | p95 (s) | max (s) | server peak memory (MiB) | "
        "models trained | trained twice | sessions that saw another's ratings |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(f"| {'prepared' if r['prepared'] else 'cold'} | {r['pause']:g} | {r['runs']} | {r['p50']:.2f} | "
          f"{r['p95']:.2f} | {r['max']:.2f} | {r['peak_mib']:,.0f} | "
          f"{r['models']} | {r['twice']} | {r['leaks']} |" for r in rows), "",
        "A page run is timed from the click until the page has finished (a lesson whose model is training waits "
        "for it, as its student would), waiting in line included. Sessions are Streamlit's AppTest in threads of "
        "one process: the same script runs, caches, job runner and artifact store as the sessions of one "
        "`streamlit run`, without the browser's drawing. AppTest runs one script at a time (it swaps a "
        "process-wide runtime around each run), so the sessions queue for the interpreter rather than share it: "
        "a pessimistic stand-in for a server's threads under Python's global lock.", "", lesson_numbers()])
    print(body)
    problems = [p for r in rows for p in r["problems"]]
    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    if args.docs:
        publish("classroom", "Thirty students on one server", "python bench/classroom.py --docs", body,
                time.perf_counter() - began)
    return 1 if problems or any(r["twice"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
