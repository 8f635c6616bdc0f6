"""Users' own rating files that are valid; the malformed ones are in tests/robustness/corpus.py."""
import io
import zipfile

import pytest

from recsys.data.upload import NO_MOVIES_NOTE, read_ratings_file
from recsys.errors import DataError


@pytest.fixture(scope="module")
def real_rows(movielens_dir) -> list[str]:
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()
    return lines[:201]  # header + 200 real ratings


def _csv(lines) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_valid_file_loads_with_aliases(real_rows):
    dataset = read_ratings_file(_csv(real_rows), name="mine")
    assert dataset.n_ratings == 200 and dataset.name == "mine" and dataset.notes[0] == NO_MOVIES_NOTE
    assert dataset.notes[1].startswith("rating scale: ") and len(dataset.notes) == 2
    renamed = ["user,item,rating"] + [",".join(r.split(",")[:3]) for r in real_rows[1:]]
    assert read_ratings_file(_csv(renamed)).n_ratings == 200


def test_tab_separated_is_accepted(real_rows):
    assert read_ratings_file(_csv([r.replace(",", "\t") for r in real_rows])).n_ratings == 200


def _zip_bytes(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_with_one_ratings_file_loads(real_rows):
    assert read_ratings_file(_zip_bytes({"my/ratings.csv": _csv(real_rows)})).n_ratings == 200
    both = _zip_bytes({"my/ratings.csv": _csv(real_rows), "my/movies.csv": b"movieId,title\n1,x\n"})
    assert read_ratings_file(both).n_ratings == 200  # the one named ratings* is chosen


def test_items_file_gives_titles(real_rows, movielens_dir):
    movies = (movielens_dir / "ml-latest-small" / "movies.csv").read_bytes()
    dataset = read_ratings_file(_csv(real_rows), items_source=movies)
    assert dataset.items.at[dataset.item_index(1), "title"] == "Toy Story (1995)"


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_ratings_file(tmp_path / "nope.csv")
