"""Benchmark tables reach the docs through the bench commands, stamped, one section per command."""
from __future__ import annotations

import time

from bench.publish import machine, publish


def test_a_section_is_stamped_then_replaced_in_place(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nintro\n\n<!-- bench:generated-end -->\n\n## Earlier runs\nold\n")
    publish("speed-train", "Speed: train", "python bench/speed.py --parts train --docs", "| a |\n|---|\n| 1 |", 12.3, docs)
    first = docs.read_text()
    assert first.index("## Speed: train") < first.index("<!-- bench:generated-end -->") < first.index("Earlier runs")
    assert time.strftime("%Y-%m-%d") in first and machine() in first and "`python bench/speed.py --parts train --docs`" in first
    publish("speed-train", "Speed: train", "python bench/speed.py --parts train --docs", "| a |\n|---|\n| 2 |", 9.0, docs)
    second = docs.read_text()
    assert second.count("## Speed: train") == 1 and "| 2 |" in second and "| 1 |" not in second
    publish("accuracy-P2", "Accuracy: P2", "python bench/accuracy.py --protocols P2 --docs", "table", 1.0, docs)
    third = docs.read_text()
    assert third.index("## Speed: train") < third.index("## Accuracy: P2") < third.index("generated-end")


def test_the_machine_line_names_cores_and_accelerator():
    line = machine()
    assert "CPU cores" in line and ("no GPU" in line or "GPU" in line) and "Python 3." in line
