import zipfile

import pytest

from recsys.data.archive import extract_safely
from recsys.errors import DataError


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:/evil.txt"])
def test_unsafe_paths_are_refused(tmp_path, name):
    archive = _zip(tmp_path / "bad.zip", {name: b"x"})
    with pytest.raises(DataError, match="unsafe path"):
        extract_safely(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_size_cap_is_enforced(tmp_path):
    archive = _zip(tmp_path / "big.zip", {"a.csv": b"0" * 10_000})
    with pytest.raises(DataError, match="more than the limit"):
        extract_safely(archive, tmp_path / "out", max_unpacked=1000)
    assert not (tmp_path / "out").exists()


def test_not_a_zip_and_truncated(tmp_path):
    (tmp_path / "plain.zip").write_bytes(b"hello")
    with pytest.raises(DataError, match="not a readable zip"):
        extract_safely(tmp_path / "plain.zip", tmp_path / "out")
    good = _zip(tmp_path / "good.zip", {"a.csv": b"1,2,3\n" * 1000}).read_bytes()
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError):
        extract_safely(tmp_path / "cut.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()
