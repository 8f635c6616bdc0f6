"""The files people already have, read as they are: MovieLens' own layouts (u.data + u.item,
ratings.dat + movies.dat, ratings.csv + movies.csv, one by one or zipped), headerless files,
ISO dates, a spreadsheet's `;` export with decimal commas; and every problem of a file at once."""
import io
import re
import zipfile

import pytest

from recsys.data.upload import NO_MOVIES_NOTE, SCALES, read_ratings_file
from recsys.errors import DataError

WHOLE = SCALES["whole-stars"]


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _has_metadata(dataset) -> None:
    assert "Toy Story (1995)" in dataset.titles(range(dataset.n_items))
    assert any("Comedy" in genres for genres in dataset.items["genres"]) and NO_MOVIES_NOTE not in dataset.notes


def test_ml100k_u_data_with_its_u_item_beside_it(movielens_dir):
    dataset = read_ratings_file(movielens_dir / "ml-100k" / "u.data", scale=WHOLE)
    assert dataset.n_ratings == 100_000 and dataset.n_users == 943 and dataset.has_timestamps
    _has_metadata(dataset)


def test_a_headerless_file_alone_reads_with_a_note(movielens_dir):
    data = (movielens_dir / "ml-100k" / "u.data").read_bytes()[:20_000]
    dataset = read_ratings_file(data[:data.rfind(b"\n") + 1], scale=WHOLE)
    assert dataset.n_ratings > 500 and NO_MOVIES_NOTE in dataset.notes
    assert dataset.titles([0])[0].startswith("movie ")


def test_ml100k_as_grouplens_zips_it(movielens_dir):
    folder = movielens_dir / "ml-100k"
    files = {f"ml-100k/{name}": (folder / name).read_bytes() for name in ("u.data", "u.item", "u1.base", "u1.test")}
    _has_metadata(read_ratings_file(_zip(files), scale=WHOLE))


def test_ml_latest_small_zip_keeps_titles_and_genres(movielens_dir):
    folder = movielens_dir / "ml-latest-small"
    files = {f"ml-latest-small/{name}": (folder / name).read_bytes()
             for name in ("ratings.csv", "movies.csv", "links.csv", "tags.csv", "README.txt")}
    dataset = read_ratings_file(_zip(files))
    assert dataset.n_ratings == 100_836
    _has_metadata(dataset)


def test_ratings_dat_and_movies_dat_one_by_one(movielens_dir, tmp_path):
    """ml-1m's layout ('::', latin-1 titles), written from ml-100k's files."""
    lines = (movielens_dir / "ml-100k" / "u.data").read_text().splitlines()[:3000]
    (tmp_path / "ratings.dat").write_text("\n".join("::".join(line.split("\t")) for line in lines) + "\n")
    items = (movielens_dir / "ml-100k" / "u.item").read_bytes().decode("latin-1").splitlines()
    movies = "\n".join(f"{row.split('|')[0]}::{row.split('|')[1]}::Comedy|Drama" for row in items)
    (tmp_path / "movies.dat").write_bytes(movies.encode("latin-1"))
    dataset = read_ratings_file(tmp_path / "ratings.dat", scale=WHOLE)
    assert dataset.n_ratings == 3000 and dataset.has_timestamps
    _has_metadata(dataset)
    by_bytes = read_ratings_file((tmp_path / "ratings.dat").read_bytes(), scale=WHOLE,
                                 items_source=(tmp_path / "movies.dat").read_bytes())
    assert by_bytes.n_ratings == 3000 and NO_MOVIES_NOTE not in by_bytes.notes


def test_iso_dates_and_a_european_spreadsheet_export():
    rows = [f"{u};{i};{3 + (u + i) % 4 / 2:.1f};2024-0{1 + i % 9}-1{u % 10}T10:00:00".replace(".", ",")
            for u in range(1, 6) for i in range(1, 6)]
    dataset = read_ratings_file(("user;movie;rating;time\n" + "\n".join(rows) + "\n").encode())
    assert dataset.n_ratings == 25 and dataset.has_timestamps
    assert set(dataset.ratings.values.tolist()) <= {3.0, 3.5, 4.0, 4.5}
    assert dataset.ratings.timestamps.min() >= 1704067200  # 2024-01-01


def test_every_problem_is_listed_together_in_line_order():
    rows = [f"{u},{i},4" for u in range(1, 6) for i in range(1, 7)]  # 30 ratings, lines 2-31
    for line, bad in ((29, "1,2,x"), (3, "abc,2,3"), (26, "1,2,9"), (12, "1,,4"), (7, "1,2.5,3"), (20, "-1,2,3")):
        rows[line - 2] = bad
    with pytest.raises(DataError) as error:
        read_ratings_file(("user,item,rating\n" + "\n".join(rows) + "\n").encode())
    message = str(error.value)
    assert "6 problems" in message
    assert [int(n) for n in re.findall(r"^- line (\d+)", message, re.M)] == [3, 7, 12, 20, 26, 29]
    assert "1 line repeats an earlier (user, movie) pair (line 29)" in message  # 1,2,x after 1,2,9


def test_many_problems_show_the_first_twenty_and_count_the_rest():
    rows = [f"{n},{n},{'x' if n % 2 else 4}" for n in range(1, 101)]
    with pytest.raises(DataError) as error:
        read_ratings_file(("user,item,rating\n" + "\n".join(rows) + "\n").encode())
    message = str(error.value)
    assert "50 problems (the first 20, most important first, then in line order)" in message and "and 30 more" in message
    assert len(re.findall(r"^- line", message, re.M)) == 20
