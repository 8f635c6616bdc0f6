"""The classroom bench runs end to end on a small class: every session sees only its own ratings,
no model is trained twice, and its table and the lessons' numbers come out."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_a_small_class_runs_and_reports(movielens_dir, tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "classroom.py"), "--students", "3", "--classes", "cold:0"],
                          capture_output=True, text=True, timeout=600, cwd=REPO,
                          env={**__import__("os").environ, "RECSYS_ARTIFACTS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    row = next(line for line in table.splitlines() if line.startswith("| cold | 0 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "27"            # 3 students x (the link + 7 lessons + 1 rating)
    assert cells[7:] == ["2", "0", "0"]  # two models (als with and without its penalty), none twice, no leak
    assert "| 4. Biases first |" in table and "| 7. Cold start |" in table
