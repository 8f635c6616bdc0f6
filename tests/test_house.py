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


#: modules that may name models: the registry and its presets; the mini demo's method names
#: ("gd", "als", "nmf", "keras") are its own vocabulary, not a registry decision
NAMING_ALLOWED = ("recsys/models/", "recsys/work/catalog.py", "recsys/explain/mini.py")


def _model_name_tests(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            values = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
            hits = [v.value for v in values if isinstance(v, ast.Constant) and v.value in names]
            if hits:
                found.append(f"line {node.lineno}: {', '.join(hits)}")
    return found


def test_no_decision_by_model_name_outside_the_registry():
    """Abilities are declared by the model classes; the core and the dashboard ask them, never a name."""
    from recsys.models import MODELS

    offenders = {}
    for folder in ("recsys", "dashboard"):
        for path in (REPO / folder).rglob("*.py"):
            rel = str(path.relative_to(REPO))
            if not rel.startswith(NAMING_ALLOWED) and (found := _model_name_tests(path, set(MODELS))):
                offenders[rel] = found
    assert not offenders, offenders


#: what only the request layer (recsys.work.request, through dashboard/services.py) may touch for a page
BEHIND_THE_REQUEST_LAYER = ("recsys.models", "recsys.work.training", "recsys.store.artifacts")
DECLARATIONS = ("recsys.models.params",)  # what each setting is: read by the Train page's form


def _modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_pages_reach_models_only_through_the_request_layer():
    """Pages and their parts ask recsys.work.request (via dashboard/services.py) for models; they never
    import the registry, the training or the artifact store themselves."""
    pages = [*(REPO / "dashboard" / "app_pages").glob("*.py"),
             *(REPO / "dashboard").glob("map_*.py"), REPO / "dashboard" / "settings_form.py"]
    offenders = {}
    for page in pages:
        bad = sorted(m for m in _modules(page) if m.startswith(BEHIND_THE_REQUEST_LAYER) and m not in DECLARATIONS)
        if bad:
            offenders[str(page.relative_to(REPO))] = bad
    assert not offenders, offenders
