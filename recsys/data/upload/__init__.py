"""A user's own ratings file (CSV, MovieLens' layouts, or a zip holding one) into a `Dataset`, by
stage: `reading` the file, `checking` its rows, `reporting` every problem in one pass. Nothing is
written to disk: the file is read from memory."""
from __future__ import annotations

from pathlib import Path

from recsys.data.dataset import Dataset, RatingScale, build_dataset
from recsys.data.readers import HALF_STARS, WHOLE_STARS
from recsys.data.upload.checking import check_caps, check_rows, drop_duplicates, text_table, typed_table
from recsys.data.upload.reading import (
    MAX_HEADER_CHARS,
    MOVIES_NAMES,
    Layout,
    bytes_of,
    check_text,
    decimal_comma,
    files_from_zip,
    header_line,
    header_names,
    headerless_names,
    is_number,
    is_zip,
    map_columns,
    plain_delimiter,
    read_items,
    sibling_items,
)
from recsys.data.upload.reporting import SHAPE, Problems, cut_long_lines, detect_scale, long_lines, scale_note
from recsys.errors import DataError

__all__ = ["MIN_RATINGS", "MOVIES_NAMES", "NO_MOVIES_NOTE", "SCALES", "UPLOAD_CAPS", "read_ratings_file"]

MIN_RATINGS = 10
UPLOAD_CAPS = {"ratings": 2_000_000, "users": 200_000, "movies": 100_000}
#: names for the CLI and the dashboard; "auto" reads the scale off the file (`detect_scale`)
SCALES: dict[str, RatingScale | None] = {"auto": None, "half-stars": HALF_STARS, "whole-stars": WHOLE_STARS}


def read_ratings_file(source: str | Path | bytes, name: str = "upload", scale: RatingScale | None = None,
                      items_source: str | Path | bytes | None = None, caps: dict[str, int] | None = None) -> Dataset:
    """Validate and load a ratings file. Duplicate (user, item) pairs keep the latest rating
    (by timestamp, then by position) and are reported in `Dataset.notes`. `caps` (e.g.
    `UPLOAD_CAPS`) bounds the ratings, users and movies accepted.

    The layouts people have are read as they are: a CSV with a header (user, item, rating
    [, timestamp], or MovieLens' userId/movieId), MovieLens' own headerless files (ml-100k's
    tab-separated `u.data`, ml-1m's `::`-separated `ratings.dat`), a spreadsheet's `;` export with
    decimal commas, ISO dates as timestamps, and a zip holding a ratings file with its movies file
    (`movies.csv`, `movies.dat` or `u.item`, which give titles and genres). A path's sibling
    movies file is read too when `items_source` is not given.

    The file is parsed once, typed, by pandas' C parser, reading only the 3 or 4 columns it
    needs; only when that finds a problem is it read again as text, a million rows at a time,
    to name every problem in one pass (lines of the wrong width first, then fields, the first 20
    with their line numbers, a count of each kind, and the duplicates that would be merged). So
    a 200 MB file costs a few seconds and a few hundred MB beyond its bytes. With `scale` None
    the scale is read off the ratings (whole stars when every rating is a whole 1-5) and the
    dataset's notes say which was chosen."""
    caps = caps or {}
    if items_source is None and not isinstance(source, (bytes, bytearray)):
        items_source = sibling_items(Path(source))
    data = bytes_of(source, "ratings")
    if is_zip(data):
        data, zipped_items = files_from_zip(data)
        items_source = items_source if items_source is not None else zipped_items
    check_text(data, "ratings file")
    data = plain_delimiter(data)
    header, delimiter = header_line(data[:MAX_HEADER_CHARS + 2].decode("utf-8-sig", "replace"), "ratings file")
    names = header_names(header, delimiter)
    headed = not all(is_number(name) for name in names)
    if not headed:
        names = headerless_names(names)
    columns = map_columns(names, required=("user", "item", "rating"), optional=("timestamp",))
    if "ratings" in caps:
        check_rows(data, caps["ratings"] + (0 if headed else 1))
    problems = Problems()
    lines, fields = long_lines(data, delimiter, len(names))
    if lines.size:
        problems.add(lines, lambda n: f"line {lines[n]} has {fields[n]:,} fields but the "
                     f"{'header' if headed else 'first line'} has {len(names)}", SHAPE, "lines of the wrong width")
        data = cut_long_lines(data, lines, delimiter, len(names))
    layout = Layout(delimiter, names, columns, scale, skip=1 if headed else 0, decimal_comma=decimal_comma(data, delimiter))
    frame = None if problems.count else typed_table(data, layout)
    if frame is None:
        frame = text_table(data, layout, problems)
    check_caps(frame, caps)
    frame, notes = drop_duplicates(frame)
    if len(frame) < MIN_RATINGS:
        raise DataError(f"the ratings file holds only {len(frame)} rating(s); at least {MIN_RATINGS} are "
                        "needed to split it into train and test and fit a model")
    items = read_items(items_source) if items_source is not None else None
    if items is None:
        notes = notes + [NO_MOVIES_NOTE]
    chosen = scale or detect_scale(frame["rating"].to_numpy())
    notes = notes + [scale_note(chosen, scale is None)]
    return build_dataset(name, frame.reset_index(drop=True), items, chosen, notes=notes)


NO_MOVIES_NOTE = ("no movies file came with the ratings: movies are named by their ids, without genres or years "
                  "(add movies.csv, movies.dat or u.item beside the ratings, or in the same zip)")


