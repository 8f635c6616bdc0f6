"""House rules checked with the suite: lint clean, the layers' import rules, the installed command."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FACES = ("streamlit", "dashboard", "bench", "tests", "playwright")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_never_imports_a_face():
    """recsys is the core: it knows nothing of Streamlit, the dashboard, the bench or the tests."""
    offenders = {str(path.relative_to(REPO)): sorted(_imports(path) & set(FACES))
                 for path in (REPO / "recsys").rglob("*.py")}
    assert not {path: names for path, names in offenders.items() if names}


def test_pages_do_not_parse_files_or_train():
    """Pages read widgets and call recsys: no page reads a ratings file or fits a model itself."""
    for page in (REPO / "dashboard" / "app_pages").glob("*.py"):
        text = page.read_text()
        assert "read_csv" not in text and ".fit(" not in text, page.name


def test_the_recsys_command_is_installed():
    command = Path(sys.executable).parent / "recsys"
    assert command.exists(), "install the project (make setup runs pip install -e '.[dev]')"
    result = subprocess.run([str(command), "data", "list"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ml-latest-small" in result.stdout, result.stderr
