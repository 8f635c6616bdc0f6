"""Benchmark tables into docs/benchmarks.md, never by hand: each bench command run with `--docs`
replaces its own section (between `<!-- bench:NAME begin -->` and `<!-- bench:NAME end -->`)
with its table, the date, the machine and the command that made it."""
from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    """This machine in a line: CPU cores and model, memory, accelerator, Python and TensorFlow."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = f" ({found.group(1).strip()})" if found else ""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        memory = f", {int(found.group(1)) / 2 ** 20:.0f} GiB" if found else ""
    try:
        from importlib.metadata import version

        tf = f", TensorFlow {version('tensorflow')}"
    except Exception:  # noqa: BLE001 - a machine without TensorFlow still gets a stamp
        tf = ""
    gpu = "GPU" if Path("/dev/nvidia0").exists() else "no GPU"
    return f"{cores} CPU cores{model}{memory}, {gpu}, Python {platform.python_version()}{tf}"


def section(name: str, title: str, command: str, body: str, seconds: float) -> str:
    """A section as it appears in the docs, stamped with date, machine, command and wall time."""
    stamp = f"_{time.strftime('%Y-%m-%d')} · {machine()} · `{command}` · {seconds:,.0f} s_"
    return (f"<!-- bench:{name} begin (written by the command below; do not edit by hand) -->\n"
            f"## {title}\n\n{stamp}\n\n{body.strip()}\n<!-- bench:{name} end -->")


def publish(name: str, title: str, command: str, body: str, seconds: float, docs: Path = DOCS) -> Path:
    """Replace (or append) the section `name` of the benchmarks page; returns the page's path."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    new = section(name, title, command, body, seconds)
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} begin.*?<!-- bench:{re.escape(name)} end -->", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: new, text)
    else:
        marker = "<!-- bench:generated-end -->"
        text = text.replace(marker, f"{new}\n\n{marker}") if marker in text else f"{text.rstrip()}\n\n{new}\n"
    docs.write_text(text)
    return docs
