import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from recsys.data import sources
from recsys.errors import DataError


def test_sources_are_tried_in_order(tmp_path, movielens_dir, monkeypatch):
    folder = sources.locate("ml-100k", download=False)
    assert folder == movielens_dir / "ml-100k"
    explicit = sources.locate("ml-100k", path=movielens_dir / "ml-100k", download=False)
    assert explicit == movielens_dir / "ml-100k"
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as error:
        sources.locate("ml-100k", download=False)
    text = str(error.value)
    assert "RECSYS_DATA_DIR" in text and "cache" in text and "download: not attempted" in text
    assert "ml-100k.zip" in text


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(DataError, match="known datasets: mini, ml-latest-small, ml-100k"):
        sources.spec_for("ml-7b")


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, length: int | None = None):
        super().__init__(data)
        self.headers = {"Content-Length": str(length if length is not None else len(data))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _real_zip(movielens_dir: Path) -> bytes:
    """ml-100k as GroupLens lays it out inside its zip (a re-zip of the real files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("u.data", "u.item", "u.user", "u1.test", "README"):
            archive.write(movielens_dir / "ml-100k" / name, f"ml-100k/{name}")
    return buffer.getvalue()


def _opener(payload: bytes, md5: str, truncate: bool = False):
    calls = []

    def opener(url, timeout=0):
        calls.append(url)
        if url.endswith(".md5"):
            return FakeResponse(f"MD5 (ml-100k.zip) = {md5}\n".encode())
        if truncate:
            return FakeResponse(payload[: len(payload) // 2], length=len(payload))
        return FakeResponse(payload)
    opener.calls = calls
    return opener


@pytest.fixture()
def unpinned_100k(monkeypatch):
    spec = sources.REGISTRY["ml-100k"]
    monkeypatch.setitem(sources.REGISTRY, "ml-100k", sources.DatasetSpec(
        spec.name, spec.description, spec.scale, spec.reader, spec.marker, md5=None))


def test_download_verifies_the_published_checksum_and_extracts(movielens_dir, unpinned_100k):
    payload = _real_zip(movielens_dir)
    opener = _opener(payload, hashlib.md5(payload).hexdigest())
    folder = sources.fetch("ml-100k", opener=opener)
    assert (folder / "u.data").is_file() and folder == sources.data_cache_dir() / "ml-100k"
    assert any(call.endswith(".md5") for call in opener.calls)
    dataset = sources.spec_for("ml-100k").reader(folder, "ml-100k")
    assert dataset.n_ratings == 100000


def test_wrong_checksum_keeps_nothing_and_a_retry_works(movielens_dir, unpinned_100k, tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    payload = _real_zip(movielens_dir)
    with pytest.raises(DataError, match="checksum mismatch"):
        sources.fetch("ml-100k", opener=_opener(payload, "0" * 32))
    assert [p.name for p in (tmp_path / "data").iterdir()] == []
    with pytest.raises(DataError, match="interrupted"):
        sources.fetch("ml-100k", opener=_opener(payload, hashlib.md5(payload).hexdigest(), truncate=True))
    assert [p.name for p in (tmp_path / "data").iterdir()] == []
    folder = sources.fetch("ml-100k", opener=_opener(payload, hashlib.md5(payload).hexdigest()))
    assert (folder / "u.data").is_file()


def test_pinned_checksum_is_used_for_ml100k(movielens_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    payload = _real_zip(movielens_dir)  # a re-zip differs from GroupLens's published file
    with pytest.raises(DataError, match="expected 0e33842e24a9c977be4e0107933c0723"):
        sources.fetch("ml-100k", opener=_opener(payload, hashlib.md5(payload).hexdigest()))


def test_network_failure_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))

    def offline(url, timeout=0):
        raise OSError("network unreachable")
    with pytest.raises(DataError, match="network unreachable"):
        sources.fetch("ml-latest-small", opener=offline)


def test_the_default_artifacts_folder_is_the_checkouts(monkeypatch):
    """After the core moved into packages, ./artifacts still means the repository's folder."""
    from recsys.data import sources

    monkeypatch.delenv("RECSYS_ARTIFACTS_DIR", raising=False)
    root = sources.project_root()
    assert (root / "recsys" / "data").is_dir() and (root / "dashboard").is_dir()
    assert sources.artifacts_root() == root / "artifacts"
