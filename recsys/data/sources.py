"""The dataset registry and where datasets come from: explicit path, RECSYS_DATA_DIR, the cache
under artifacts/data/, or a checksum-verified download of the official GroupLens zip."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from recsys.data import datacache, synthetic
from recsys.data.archive import extract_safely
from recsys.data.dataset import Dataset, RatingScale
from recsys.data.readers import HALF_STARS, WHOLE_STARS, mini_dataset, read_ml100k, read_movielens_csv, read_movielens_dat
from recsys.errors import DataError

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
CSV_FILES = ("ratings.csv", "movies.csv")
DAT_FILES = ("ratings.dat", "movies.dat")
#: sources whose ratings file is at least this big are kept as a fast local copy after the first read
CACHE_MIN_MB = float(os.environ.get("RECSYS_DATA_CACHE_MIN_MB", "32"))
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry: how to get and read a dataset. `reader` is None for the embedded mini
    example and for synthetic sets (`synthetic_ratings` > 0), which are generated, never downloaded."""

    name: str
    description: str
    scale: RatingScale
    reader: Callable[[Path, str], Dataset] | None
    marker: str = ""
    md5: str | None = None
    size_mb: float = 0.0
    files: tuple[str, ...] = ()  # what the reader reads: the fast local copy is keyed by their checksum
    inner: str = ""  # the folder inside the zip, when it is not named like the dataset
    synthetic_ratings: int = 0

    @property
    def url(self) -> str:
        return f"{GROUPLENS}{self.name}.zip"

    @property
    def synthetic(self) -> bool:
        return self.synthetic_ratings > 0

    @property
    def downloadable(self) -> bool:
        return self.reader is not None


REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("mini", "4 users x 5 movies romance/sci-fi example (embedded)", WHOLE_STARS, None),
    DatasetSpec("ml-latest-small", "100k ratings, 610 users, 9.7k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_csv, "ratings.csv", size_mb=1, files=CSV_FILES),
    DatasetSpec("ml-100k", "100k ratings, 943 users, 1.7k movies (1-5 stars), official folds",
                WHOLE_STARS, read_ml100k, "u.data", md5="0e33842e24a9c977be4e0107933c0723", size_mb=5),
    DatasetSpec("ml-1m", "1M ratings, 6k users, 3.7k movies (1-5 stars)", WHOLE_STARS,
                read_movielens_dat, "ratings.dat", md5="c4d9eecfca2ab87c1945afe126590906", size_mb=6),
    DatasetSpec("ml-10m", "10M ratings, 70k users, 10.7k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_dat, "ratings.dat", size_mb=63, files=DAT_FILES, inner="ml-10M100K"),
    DatasetSpec("ml-20m", "20M ratings, 138k users, 27k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_csv, "ratings.csv", size_mb=190, files=CSV_FILES),
    DatasetSpec("ml-25m", "25M ratings, 162k users, 59k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_csv, "ratings.csv", md5="6b51fb2759a8657d3bfcbfc42b592ada", size_mb=250,
                files=CSV_FILES),
    DatasetSpec("ml-32m", "32M ratings, 200k users, 87k movies (0.5-5 stars)", HALF_STARS,
                read_movielens_csv, "ratings.csv", size_mb=239, files=CSV_FILES),
    DatasetSpec("synthetic-1m", "SYNTHETIC ratings, not MovieLens: 1M, MovieLens-25M's shape", HALF_STARS,
                None, synthetic_ratings=1_000_000),
    DatasetSpec("synthetic-25m", "SYNTHETIC ratings, not MovieLens: 25M, MovieLens-25M's shape", HALF_STARS,
                None, synthetic_ratings=25_000_000),
)}


def spec_for(name: str) -> DatasetSpec:
    """The registry entry for `name`, or a `DataError` listing the known names."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def project_root() -> Path:
    """The checkout's root (this file is recsys/data/sources.py)."""
    return Path(__file__).resolve().parents[2]


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
        raise DataError(f"dataset {name!r} is {'generated' if spec.synthetic else 'embedded'} and has no folder")
    tried = []
    for label, folder in candidate_folders(name, path):
        found = _holding(spec, folder)
        if found is not None:
            return found
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


def _holding(spec: DatasetSpec, folder: Path) -> Path | None:
    """`folder` itself, or the folder the zip unpacks to inside it, if it holds the marker file."""
    for candidate in (folder, folder / spec.name, *([folder / spec.inner] if spec.inner else [])):
        if (candidate / spec.marker).is_file():
            return candidate
    return None


def load(name: str, path: Path | None = None, download: bool = True,
         progress: ProgressFn | None = None) -> Dataset:
    """Load a registered dataset into memory (from its fast local copy when there is a current one)."""
    spec = spec_for(name)
    if spec.synthetic:
        recipe = f"synthetic {spec.synthetic_ratings} seed 0 v{synthetic.RECIPE}"
        return datacache.cached(fast_copy_dir(), name, datacache.source_digest([], recipe),
                                lambda: synthetic.synthetic_dataset(spec.synthetic_ratings, name=name))
    if spec.reader is None:
        return mini_dataset()
    folder = locate(name, path, download=download, progress=progress)
    files = [folder / f for f in spec.files]
    if files and all(f.is_file() for f in files) and files[0].stat().st_size >= CACHE_MIN_MB * 1024**2:
        return datacache.cached(fast_copy_dir(), name, datacache.source_digest(files, name),
                                lambda: _read(spec, folder))
    return _read(spec, folder)


def _read(spec: DatasetSpec, folder: Path) -> Dataset:
    try:
        return spec.reader(folder, spec.name)
    except DataError:
        raise
    except (ValueError, OSError, KeyError, UnicodeDecodeError) as error:
        raise DataError(f"could not read {spec.name!r} from {folder}: {error}") from None


def fast_copy_dir() -> Path:
    """Where indexed copies of big and synthetic datasets are kept (see `recsys.data.datacache`)."""
    return data_cache_dir() / "indexed"


@dataclass(frozen=True)
class DatasetStatus:
    """Where a registered dataset stands on this machine, for the picker."""

    name: str
    description: str
    state: str  # "embedded", "synthetic", "local", "downloaded" or "download"
    detail: str
    size_mb: float
    synthetic: bool

    @property
    def ready(self) -> bool:
        return self.state != "download"


def status(name: str) -> DatasetStatus:
    """Whether `name` can be opened now (and from where), or needs a download first. Touches no network."""
    spec = spec_for(name)
    if spec.synthetic:
        fast = list(fast_copy_dir().glob(f"{name}-*.npz"))
        detail = "generated here; " + ("a fast copy is ready" if fast else "the first open generates it")
        return DatasetStatus(name, spec.description, "synthetic", detail, spec.size_mb, True)
    if spec.reader is None:
        return DatasetStatus(name, spec.description, "embedded", "built in", 0.0, False)
    for label, folder in candidate_folders(name):
        found = _holding(spec, folder)
        if found is not None:
            state = "downloaded" if label == "cache" else "local"
            return DatasetStatus(name, spec.description, state, f"{label}: {found}", spec.size_mb, False)
    return DatasetStatus(name, spec.description, "download", f"download {spec.url}", spec.size_mb, False)


def fetch(name: str, progress: ProgressFn | None = None, opener: Callable | None = None) -> Path:
    """Download the official zip into the cache, verify its MD5 and extract it safely."""
    opener = opener or urllib.request.urlopen
    spec = spec_for(name)
    if spec.reader is None:
        raise DataError(f"dataset {name!r} is {'generated' if spec.synthetic else 'embedded'} and needs no download")
    target = data_cache_dir() / name
    if _holding(spec, target) is not None:
        return _holding(spec, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    expected = spec.md5 or published_md5(spec, opener)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            actual = _download(spec, out, progress, opener)
        if actual != expected:
            raise DataError(f"checksum mismatch for {spec.url}: got md5 {actual}, expected {expected}; "
                            "nothing was kept, try again")
        unpacked = target.parent / f".{name}.unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        extract_safely(tmp, unpacked)
        inner = _holding(spec, unpacked)
        if inner is None:
            shutil.rmtree(unpacked, ignore_errors=True)
            raise DataError(f"downloaded archive has no {spec.marker}")
        try:
            os.replace(inner, target)
        except OSError:  # another process unpacked it first: keep theirs
            if _holding(spec, target) is None:
                raise
        shutil.rmtree(unpacked, ignore_errors=True)
        return _holding(spec, target)
    finally:
        tmp.unlink(missing_ok=True)


def published_md5(spec: DatasetSpec, opener: Callable = urllib.request.urlopen) -> str:
    """GroupLens's published checksum, read from `<zip>.md5` next to the zip."""
    try:
        with opener(spec.url + ".md5", timeout=30) as response:
            text = response.read(4096).decode("ascii", "replace")
    except OSError as error:
        raise DataError(unreachable(spec, error)) from None
    match = re.search(r"\b[0-9a-f]{32}\b", text.lower())
    if not match:
        raise DataError(f"{spec.url}.md5 holds no MD5 checksum")
    return match.group(0)


def _download(spec: DatasetSpec, out, progress: ProgressFn | None, opener: Callable) -> str:
    url, digest, done = spec.url, hashlib.md5(), 0
    try:
        with opener(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if total and done < total:
                raise DataError(f"download of {url} was interrupted at {done} of {total} bytes")
    except OSError as error:
        if done:
            raise DataError(f"the download of {url} broke off after {done / 1024**2:,.1f} MB ({error}); nothing "
                            "was kept, try again") from None
        raise DataError(unreachable(spec, error)) from None
    return digest.hexdigest()


def unreachable(spec: DatasetSpec, error: OSError) -> str:
    """What failed when GroupLens cannot be reached, and how to add the files by hand instead."""
    reason = getattr(error, "reason", None) or error
    host = urllib.parse.urlsplit(spec.url).netloc
    folders = " or ".join(f"{folder}" for _, folder in candidate_folders(spec.name))
    return (f"could not reach {host} ({reason}); this server may have no internet access. To use {spec.name} "
            f"without downloading, get {spec.url} on a machine that has, unzip it and put its folder (holding "
            f"{spec.marker}) at {folders}, then reload this page")
