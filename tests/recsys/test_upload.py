"""Validation of users' own rating files; the corrupted inputs are edits of real ml-latest-small rows."""
import io
import zipfile

import pytest

from recsys.errors import DataError
from recsys.readers import WHOLE_STARS
from recsys.upload import read_ratings_file


@pytest.fixture(scope="module")
def real_rows(movielens_dir) -> list[str]:
    lines = (movielens_dir / "ml-latest-small" / "ratings.csv").read_text().splitlines()
    return lines[:201]  # header + 200 real ratings


def _csv(lines) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_valid_file_loads_with_aliases(real_rows):
    dataset = read_ratings_file(_csv(real_rows), name="mine")
    assert dataset.n_ratings == 200 and dataset.name == "mine" and not dataset.notes
    renamed = ["user,item,rating"] + [",".join(r.split(",")[:3]) for r in real_rows[1:]]
    assert read_ratings_file(_csv(renamed)).n_ratings == 200


def test_tab_separated_is_accepted(real_rows):
    assert read_ratings_file(_csv([r.replace(",", "\t") for r in real_rows])).n_ratings == 200


@pytest.mark.parametrize("edit, message", [
    (lambda rows: [], "is empty"),
    (lambda rows: rows[:1], "header but no rows"),
    (lambda rows: ["userId,movieId,stars_given"] + rows[1:], "missing required column"),
    (lambda rows: ["a,b,c,d"] + rows[1:], "found columns: a, b, c, d"),
    (lambda rows: [r.replace(",", " ") for r in rows], "single column"),
    (lambda rows: rows[:5] + ["1,50,abc,964982931"] + rows[6:], "line 6: rating 'abc' is not a number"),
    (lambda rows: rows[:3] + ["1,50,,964982931"] + rows[4:], "line 4: rating is missing"),
    (lambda rows: rows[:3] + ["1,50,7,964982931"] + rows[4:], "line 4: rating '7' is outside the scale"),
    (lambda rows: rows[:3] + ["1,50,3.7,964982931"] + rows[4:], "line 4: rating '3.7' is not on the scale"),
    (lambda rows: rows[:3] + ["-5,50,3,964982931"] + rows[4:], "line 4: user id '-5' is negative"),
    (lambda rows: rows[:3] + ["1,123456789012345678901234567890,3,964982931"] + rows[4:], "absurdly large"),
    (lambda rows: rows[:3] + ["1.5,50,3,964982931"] + rows[4:], "not a whole number"),
    (lambda rows: rows[:3] + ["x,50,3,964982931"] + rows[4:], "user id 'x' is not a number"),
])
def test_each_problem_is_named(real_rows, edit, message):
    with pytest.raises(DataError, match=message):
        read_ratings_file(_csv(edit(list(real_rows))))


def test_fractional_rating_on_an_integer_scale(real_rows):
    with pytest.raises(DataError, match="line 2: rating '4.5' is not on the scale 1-5"):
        read_ratings_file(_csv([real_rows[0], "1,1,4.5,964982703"]), scale=WHOLE_STARS)


def test_duplicates_keep_the_latest_and_say_so(real_rows):
    user, item, _, ts = real_rows[1].split(",")
    later = f"{user},{item},1.0,{int(ts) + 10}"
    dataset = read_ratings_file(_csv(real_rows + [later]))
    assert dataset.n_ratings == 200
    assert "1 duplicate" in dataset.notes[0]
    row = (dataset.ratings.users == dataset.user_index(user)) & (dataset.ratings.items == dataset.item_index(item))
    assert dataset.ratings.values[row].tolist() == [1.0]


@pytest.mark.parametrize("payload, message", [
    (b"\x00\x01\x02binary\x00garbage" * 50, "binary"),
    ("userId,movieId,rating\n1,1,4\n".encode("utf-16"), "UTF-16"),
    ("userId,movieId,rating,comment\n1,1,4,caf\xe9\n".encode("latin-1"), "not UTF-8"),
])
def test_encodings_and_garbage(payload, message):
    with pytest.raises(DataError, match=message):
        read_ratings_file(payload)


def _zip_bytes(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_with_one_csv_loads_and_several_are_refused(real_rows):
    assert read_ratings_file(_zip_bytes({"my/ratings.csv": _csv(real_rows)})).n_ratings == 200
    with pytest.raises(DataError, match="several candidate files"):
        read_ratings_file(_zip_bytes({"a.csv": _csv(real_rows), "b.csv": _csv(real_rows)}))
    with pytest.raises(DataError, match="unsafe path"):
        read_ratings_file(_zip_bytes({"../ratings.csv": _csv(real_rows)}))
    with pytest.raises(DataError, match="not a readable zip"):
        read_ratings_file(b"PK\x03\x04" + b"\x00" * 40)


def test_items_file_gives_titles(real_rows, movielens_dir):
    movies = (movielens_dir / "ml-latest-small" / "movies.csv").read_bytes()
    dataset = read_ratings_file(_csv(real_rows), items_source=movies)
    assert dataset.items.at[dataset.item_index(1), "title"] == "Toy Story (1995)"


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_ratings_file(tmp_path / "nope.csv")
