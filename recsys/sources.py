"""The dataset registry and where datasets come from: explicit path, RECSYS_DATA_DIR, the cache
under artifacts/data/, or a checksum-verified download of the official GroupLens zip."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from recsys.archive import extract_safely
from recsys.dataset import Dataset, RatingScale
from recsys.errors import DataError
from recsys.readers import (HALF_STARS, WHOLE_STARS, mini_dataset, read_ml100k, read_movielens_csv,
                            read_movielens_dat)

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry: how to get and read a dataset."""

    name: str
    description: str
    scale: RatingScale
    reader: Callable[[Path, str], Dataset] | None
    marker: str = ""
    md5: str | None = None
    size_mb: float = 0.0
    loadable: bool = True

    @property
    def url(self) -> str:
        return f"{GROUPLENS}{self.name}.zip"


REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("mini", "4 users x 5 movies romance/sci-fi example (embedded)", WHOLE_STARS, None),
    DatasetSpec("ml-latest-small", "100k ratings, 610 users, 9.7k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_csv, "ratings.csv", size_mb=1),
    DatasetSpec("ml-100k", "100k ratings, 943 users, 1.7k movies (1-5 stars), official folds",
                WHOLE_STARS, read_ml100k, "u.data", md5="0e33842e24a9c977be4e0107933c0723", size_mb=5),
    DatasetSpec("ml-1m", "1M ratings, 6k users, 3.7k movies (download)", WHOLE_STARS,
                read_movielens_dat, "ratings.dat", md5="c4d9eecfca2ab87c1945afe126590906", size_mb=6),
    DatasetSpec("ml-25m", "25M ratings, 162k users, 59k movies (download)", HALF_STARS,
                read_movielens_csv, "ratings.csv", md5="6b51fb2759a8657d3bfcbfc42b592ada", size_mb=250),
    DatasetSpec("ml-32m", "32M ratings, 200k users, 87k movies (download)", HALF_STARS,
                read_movielens_csv, "ratings.csv", size_mb=239),
)}


def spec_for(name: str) -> DatasetSpec:
    """The registry entry for `name`, or a `DataError` listing the known names."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def artifacts_root() -> Path:
    """Where artifacts (and the data cache) live: RECSYS_ARTIFACTS_DIR or ./artifacts."""
    return Path(os.environ.get("RECSYS_ARTIFACTS_DIR") or project_root() / "artifacts")


def data_cache_dir() -> Path:
    return artifacts_root() / "data"


def candidate_folders(name: str, path: Path | None = None) -> list[tuple[str, Path]]:
    """Where `name` is looked for, in order, as (label, folder) pairs."""
    found: list[tuple[str, Path]] = []
    if path is not None:
        found.append(("explicit path", Path(path)))
    env = os.environ.get("RECSYS_DATA_DIR")
    if env:
        found.append(("RECSYS_DATA_DIR", Path(env) / name))
    found.append(("cache", data_cache_dir() / name))
    return found


def locate(name: str, path: Path | None = None, download: bool = True,
           progress: ProgressFn | None = None) -> Path:
    """The folder holding dataset `name`, trying each source in order; downloads as a last resort."""
    spec = spec_for(name)
    if spec.reader is None:
        raise DataError(f"dataset {name!r} is embedded and has no folder")
    tried = []
    for label, folder in candidate_folders(name, path):
        if (folder / spec.marker).is_file():
            return folder
        nested = folder / name
        if (nested / spec.marker).is_file():
            return nested
        tried.append(f"{label}: {folder} (no {spec.marker})")
    if download:
        try:
            return fetch(name, progress=progress)
        except DataError as error:
            tried.append(f"download from {spec.url}: {error}")
    else:
        tried.append("download: not attempted")
    raise DataError(f"dataset {name!r} not found. Tried:\n  - " + "\n  - ".join(tried) +
                    f"\nTo supply it, unzip {spec.url} into a folder and set RECSYS_DATA_DIR to "
                    f"its parent (so that $RECSYS_DATA_DIR/{name}/{spec.marker} exists), or run "
                    f"`python -m recsys data fetch {name}` where the internet is reachable.")


def load(name: str, path: Path | None = None, download: bool = True,
         progress: ProgressFn | None = None) -> Dataset:
    """Load a registered dataset into memory."""
    spec = spec_for(name)
    if spec.reader is None:
        return mini_dataset()
    folder = locate(name, path, download=download, progress=progress)
    try:
        return spec.reader(folder, name)
    except DataError:
        raise
    except (ValueError, OSError, KeyError, UnicodeDecodeError) as error:
        raise DataError(f"could not read {name!r} from {folder}: {error}") from None


def fetch(name: str, progress: ProgressFn | None = None, opener: Callable = urllib.request.urlopen) -> Path:
    """Download the official zip into the cache, verify its MD5 and extract it safely."""
    spec = spec_for(name)
    if spec.reader is None:
        raise DataError(f"dataset {name!r} is embedded and needs no download")
    target = data_cache_dir() / name
    if (target / spec.marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    expected = spec.md5 or published_md5(spec, opener)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            actual = _download(spec.url, out, progress, opener)
        if actual != expected:
            raise DataError(f"checksum mismatch for {spec.url}: got md5 {actual}, expected {expected}; "
                            "nothing was kept, try again")
        unpacked = target.parent / f".{name}.unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        extract_safely(tmp, unpacked)
        inner = unpacked / name if (unpacked / name / spec.marker).is_file() else unpacked
        if not (inner / spec.marker).is_file():
            shutil.rmtree(unpacked, ignore_errors=True)
            raise DataError(f"downloaded archive has no {spec.marker}")
        os.replace(inner, target)
        shutil.rmtree(unpacked, ignore_errors=True)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def published_md5(spec: DatasetSpec, opener: Callable = urllib.request.urlopen) -> str:
    """GroupLens's published checksum, read from `<zip>.md5` next to the zip."""
    try:
        with opener(spec.url + ".md5", timeout=30) as response:
            text = response.read(4096).decode("ascii", "replace")
    except OSError as error:
        raise DataError(f"could not read the published checksum {spec.url}.md5: {error}") from None
    match = re.search(r"\b[0-9a-f]{32}\b", text.lower())
    if not match:
        raise DataError(f"{spec.url}.md5 holds no MD5 checksum")
    return match.group(0)


def _download(url: str, out, progress: ProgressFn | None, opener: Callable) -> str:
    digest = hashlib.md5()
    try:
        with opener(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if total and done < total:
                raise DataError(f"download of {url} was interrupted at {done} of {total} bytes")
    except OSError as error:
        raise DataError(f"download of {url} failed: {error}") from None
    return digest.hexdigest()
