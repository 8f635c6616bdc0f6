"""The big sets' paths on small data: the ml-25m folder format, the '::' format of ml-1m and
ml-10m, the fast local copy keyed by the source checksum, synthetic sets and the picker's status."""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.data import datacache, sources
from recsys.data.synthetic import synthetic_dataset, write_movielens_folder


@pytest.fixture()
def data_root(tmp_path, monkeypatch):
    """An empty RECSYS_DATA_DIR and artifacts folder, fast copies made at any size."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("RECSYS_DATA_DIR", str(root))
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setattr(sources, "CACHE_MIN_MB", 0.0)
    return root


@pytest.fixture(scope="module")
def small_synthetic():
    return synthetic_dataset(300_000, n_users=20_000, n_items=6_000, seed=3)


def _same(a, b) -> None:
    for name in ("users", "items", "values", "timestamps"):
        np.testing.assert_array_equal(getattr(a.ratings, name), getattr(b.ratings, name))
    np.testing.assert_array_equal(a.user_ids, b.user_ids)
    np.testing.assert_array_equal(a.item_ids, b.item_ids)
    assert a.items["title"].tolist() == b.items["title"].tolist()
    assert a.items["genres"].tolist() == b.items["genres"].tolist()
    assert a.items["year"].astype("float").fillna(-1).tolist() == b.items["year"].astype("float").fillna(-1).tolist()
    assert a.fingerprint == b.fingerprint and a.scale == b.scale


def test_a_synthetic_set_in_ml25m_format_reads_back_and_is_then_served_from_its_fast_copy(
        data_root, small_synthetic, monkeypatch):
    write_movielens_folder(small_synthetic, data_root / "ml-25m")
    first = sources.load("ml-25m", download=False)
    assert first.n_ratings == small_synthetic.n_ratings and first.n_items == small_synthetic.n_items
    np.testing.assert_array_equal(first.ratings.values, small_synthetic.ratings.values)
    assert first.items["genres"].tolist() == small_synthetic.items["genres"].tolist()
    copies = list(sources.fast_copy_dir().glob("ml-25m-*.npz"))
    assert len(copies) == 1

    monkeypatch.setattr(sources, "_read", lambda spec, folder: pytest.fail("the source was parsed again"))
    _same(sources.load("ml-25m", download=False), first)


def test_an_edited_source_is_read_again_and_its_stale_copy_removed(data_root, small_synthetic):
    folder = write_movielens_folder(small_synthetic, data_root / "ml-25m")
    sources.load("ml-25m", download=False)
    (old_copy,) = sources.fast_copy_dir().glob("ml-25m-*.npz")
    with open(folder / "ratings.csv", "a") as out:
        out.write("999999,1,4.5,1500000000\n")
    edited = sources.load("ml-25m", download=False)
    assert edited.n_ratings == small_synthetic.n_ratings + 1 and 999999 in edited.user_ids
    (new_copy,) = sources.fast_copy_dir().glob("ml-25m-*.npz")
    assert new_copy != old_copy


def test_a_damaged_fast_copy_is_rebuilt_not_served(data_root, small_synthetic):
    write_movielens_folder(small_synthetic, data_root / "ml-25m")
    first = sources.load("ml-25m", download=False)
    (copy,) = sources.fast_copy_dir().glob("ml-25m-*.npz")
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    _same(sources.load("ml-25m", download=False), first)
    assert datacache.read(copy, "ml-25m") is not None  # rewritten whole


def _as_dat(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    path.write_bytes("\n".join("::".join(map(str, row)) for row in frame.itertuples(index=False)).encode(encoding) + b"\n")


def test_ml1m_format_reads_real_ml100k_ratings_without_the_python_engine(data_root, movielens_dir, ml100k, monkeypatch):
    """ml-100k's real ratings and titles rewritten in ml-1m's '::' layout (latin-1 titles) read back equal."""
    real = pd.read_csv(movielens_dir / "ml-100k" / "u.data", sep="\t", names=["u", "i", "r", "t"])
    folder = data_root / "ml-1m"
    folder.mkdir()
    _as_dat(real, folder / "ratings.dat")
    movies = pd.read_csv(movielens_dir / "ml-100k" / "u.item", sep="|", header=None, encoding="latin-1")
    _as_dat(pd.DataFrame({"i": movies[0], "t": movies[1], "g": "Drama|Comedy"}), folder / "movies.dat", "latin-1")
    engines = []
    original = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: engines.append(k.get("engine")) or original(*a, **k))
    dataset = sources.load("ml-1m", download=False)
    assert "python" not in engines
    np.testing.assert_array_equal(dataset.ratings.values, ml100k.ratings.values)
    np.testing.assert_array_equal(dataset.item_ids, ml100k.item_ids)
    assert dataset.titles([0]) == ml100k.titles([0]) and dataset.scale.step == 1.0
    assert any("é" in t for t in dataset.items["title"])  # latin-1 decoded


def test_ml10m_is_found_in_its_zip_folder_with_half_stars(data_root, movielens_dir, ml_small):
    real = pd.read_csv(movielens_dir / "ml-latest-small" / "ratings.csv")
    folder = data_root / "ml-10m" / "ml-10M100K"
    folder.mkdir(parents=True)
    _as_dat(real, folder / "ratings.dat")
    movies = pd.read_csv(movielens_dir / "ml-latest-small" / "movies.csv")
    _as_dat(movies, folder / "movies.dat")
    assert sources.status("ml-10m").state == "local"
    dataset = sources.load("ml-10m", download=False)
    np.testing.assert_array_equal(dataset.ratings.values, ml_small.ratings.values)
    assert dataset.scale == ml_small.scale
    assert dataset.items["genres"].tolist() == ml_small.items["genres"].tolist()


def test_a_malformed_dat_file_is_a_clear_error(data_root):
    folder = data_root / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::2::5::978300760\n1::x::5::978300760\n")
    (folder / "movies.dat").write_text("2::Jumanji (1995)::Adventure\n")
    with pytest.raises(sources.DataError, match="could not read 'ml-1m'"):
        sources.load("ml-1m", download=False)
    (folder / "ratings.dat").write_text("1::2::5::978300760\n")
    (folder / "movies.dat").write_text("2::Jumanji (1995)\n")
    with pytest.raises(sources.DataError, match="movies.dat line 1 does not have 3"):
        sources.load("ml-1m", download=False)


def test_status_says_what_each_set_needs(data_root, movielens_dir):
    shutil.copytree(movielens_dir / "ml-latest-small", data_root / "ml-latest-small")
    states = {name: sources.status(name) for name in sources.REGISTRY}
    assert states["mini"].state == "embedded" and states["ml-latest-small"].state == "local"
    assert states["ml-25m"].state == "download" and not states["ml-25m"].ready
    assert "ml-25m.zip" in states["ml-25m"].detail and states["ml-25m"].size_mb == 250
    assert states["synthetic-25m"].synthetic and "SYNTHETIC" in states["synthetic-25m"].description
    assert "first open generates it" in states["synthetic-25m"].detail


def test_a_synthetic_registry_set_is_labelled_and_kept_as_a_fast_copy(data_root, monkeypatch):
    spec = sources.DatasetSpec("synthetic-1m", "SYNTHETIC test", sources.HALF_STARS, None,
                               synthetic_ratings=20_000)
    monkeypatch.setitem(sources.REGISTRY, "synthetic-1m", spec)
    first = sources.load("synthetic-1m")
    assert first.synthetic and first.name == "synthetic-1m" and first.n_ratings == 20_000
    assert "a fast copy is ready" in sources.status("synthetic-1m").detail
    again = sources.load("synthetic-1m")
    assert again.synthetic and "not MovieLens" in again.notes[0]
    _same(again, first)
