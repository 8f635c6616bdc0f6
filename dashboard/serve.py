"""Start the dashboard with what its pages import already loaded: `python -m dashboard.serve
[streamlit options]` runs `streamlit run dashboard/app.py` in this process after importing the
libraries and the core every page needs and reading the default dataset once, so the first
visitor's first page does not wait for them (about 2 s on two cores). The dashboard's own modules
are left to the first run: they declare Streamlit caches, which belong to the running server."""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: what the pages import, loaded before the first visit
WARM = ("streamlit", "pandas", "plotly.express", "plotly.graph_objects", "recsys.models", "recsys.work.request",
        "recsys.work.jobs", "recsys.evaluation.compare", "recsys.explain.recommend", "recsys.explain.explore",
        "recsys.data.stats", "sklearn.decomposition")  # the maps' and lessons' PCA: 0.5 s on a first visit
DEFAULT_DATASET = "ml-latest-small"


def warm() -> float:
    """Import `WARM` and read the default dataset once (its fast local copy is made on the first
    read); returns the seconds it took. A dataset that is not here is left for the page to explain."""
    started = time.perf_counter()
    for module in WARM:
        importlib.import_module(module)
    from recsys.data import sources
    from recsys.errors import RecsysError

    try:
        sources.load(DEFAULT_DATASET, download=False)
    except RecsysError:
        pass
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    print(f"imports and {DEFAULT_DATASET} ready in {warm():.1f}s", file=sys.stderr, flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "dashboard" / "app.py"), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
