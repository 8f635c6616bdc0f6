"""Validation of a user's own ratings file (CSV, or a zip holding one) into a `Dataset`.

Every problem raises `DataError` with a message naming it (and the line, where there is one).
Nothing is written to disk: the file is read from memory.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.archive import checked_members, open_zip, read_member
from recsys.dataset import Dataset, RatingScale, build_dataset
from recsys.errors import DataError
from recsys.readers import HALF_STARS, WHOLE_STARS

MAX_BYTES = 200 * 1024**2
MAX_ID = 10**12
MIN_RATINGS = 10
COLUMN_ALIASES = {
    "user": ("user", "userid", "user_id", "uid"),
    "item": ("item", "itemid", "item_id", "movie", "movieid", "movie_id", "iid"),
    "rating": ("rating", "score", "stars"),
    "timestamp": ("timestamp", "time", "ts"),
}
DELIMITERS = (",", "\t", ";", "|")
MAX_COLUMNS = 64  # a ratings file needs 3 or 4; more is read only up to this many
MAX_HEADER_CHARS = 4096
#: what the dashboard accepts per upload on a shared server (the CLI's --file has no caps)
UPLOAD_CAPS = {"ratings": 2_000_000, "users": 200_000, "movies": 100_000}
SCALES = {"half-stars": HALF_STARS, "whole-stars": WHOLE_STARS}  # names for the CLI and the dashboard


def read_ratings_file(source: str | Path | bytes, name: str = "upload", scale: RatingScale = HALF_STARS,
                      items_source: str | Path | bytes | None = None, caps: dict[str, int] | None = None) -> Dataset:
    """Validate and load a ratings file. Duplicate (user, item) pairs keep the latest rating
    (by timestamp, then by position) and are reported in `Dataset.notes`. `caps` (e.g.
    `UPLOAD_CAPS`) bounds the ratings, users and movies accepted.

    The file is parsed once, typed, by pandas' C parser, reading only the 3 or 4 columns it
    needs; only when that finds a problem is it read again as text, a million rows at a time,
    to name the line. So a 200 MB file costs a few seconds and a few hundred MB beyond its bytes."""
    caps = caps or {}
    data = _bytes_of(source, "ratings")
    _check_text(data, "ratings file")
    header, delimiter = _header(data[:MAX_HEADER_CHARS + 2].decode("utf-8-sig", "replace"), "ratings file")
    names = _header_names(header, delimiter)
    line = _first_long_line(data, delimiter, len(names))
    if line is not None:
        raise DataError(f"the ratings file is not a well-formed table: line {line} has "
                        f"{_fields_on_line(data, line, delimiter):,} fields but the header has {len(names)}")
    columns = _map_columns(names, required=("user", "item", "rating"), optional=("timestamp",))
    if "ratings" in caps:
        _check_rows(data, caps["ratings"])
    frame = _typed_table(data, delimiter, names, columns, scale)
    if frame is None:
        frame = _text_table(data, delimiter, names, columns, scale)
    _check_caps(frame, caps)
    frame, notes = _drop_duplicates(frame)
    if len(frame) < MIN_RATINGS:
        raise DataError(f"the ratings file holds only {len(frame)} rating(s); at least {MIN_RATINGS} are "
                        "needed to split it into train and test and fit a model")
    items = _read_items(items_source) if items_source is not None else None
    return build_dataset(name, frame.reset_index(drop=True), items, scale, notes=notes)


def _check_caps(frame: pd.DataFrame, caps: dict[str, int]) -> None:
    counts = {"ratings": lambda: len(frame), "users": lambda: frame["user"].nunique(),
              "movies": lambda: frame["item"].nunique()}
    for what, cap in caps.items():
        count = counts[what]()
        if count > cap:
            raise DataError(f"the file holds {count:,} {what}; uploads are limited to {cap:,} {what} on this "
                            "server (use the command line with --file for bigger files)")


MIN_ROW_BYTES = 5  # "1,2,3": a line shorter than this cannot hold a rating


def _check_rows(data: bytes, cap: int) -> None:
    """Refuse a file with more rows than `cap` ratings before parsing it (lines long enough to
    hold a rating, counted on the raw bytes in chunks)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    rows, last = 0, -1
    for start in range(0, raw.size, CHUNK):
        ends = np.flatnonzero(raw[start:start + CHUNK] == ord("\n")) + start
        lengths = np.diff(ends, prepend=last) - 1
        rows += int((lengths >= MIN_ROW_BYTES).sum())
        last = int(ends[-1]) if ends.size else last
    rows += int(raw.size - 1 - last >= MIN_ROW_BYTES) - 1  # an unterminated last line; the header
    if rows > cap:
        raise DataError(f"the file holds {rows:,} rows; uploads are limited to {cap:,} ratings on this "
                        "server (use the command line with --file for bigger files)")


def _typed_table(data: bytes, delimiter: str, names: list[str], columns: dict[str, str],
                 scale: RatingScale) -> pd.DataFrame | None:
    """The needed columns parsed as numbers and validated, or None when pandas cannot parse them
    as numbers (then the text pass names the problem)."""
    positions = {role: names.index(column) for role, column in columns.items()}
    try:
        parsed = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, skiprows=1, engine="c",
                             names=list(range(len(names))), usecols=sorted(positions.values()),
                             dtype={p: np.float64 for p in positions.values()}, skipinitialspace=True,
                             index_col=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError, OverflowError):
        return None
    if parsed.empty:
        raise DataError("the ratings file has a header but no rows")
    values = {role: parsed[position].to_numpy() for role, position in positions.items()}
    del parsed
    return _validated(values, lambda role, row: _field(data, row + 1, delimiter, positions[role]), 2, scale)


def _text_table(data: bytes, delimiter: str, names: list[str], columns: dict[str, str],
                scale: RatingScale) -> pd.DataFrame:
    """The table read as text a million rows at a time (every column: a short row must read as
    missing fields, not stop the parser), each chunk validated with the line numbers of its rows;
    raises the first problem found."""
    positions = {role: names.index(column) for role, column in columns.items()}
    chunks, first_line = [], 2
    try:
        reader = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, skiprows=1, engine="c",
                             names=list(range(len(names))), dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False,
                             encoding="utf-8-sig", chunksize=TEXT_CHUNK_ROWS)
        for chunk in reader:
            text = {role: chunk[position].fillna("").str.strip() for role, position in positions.items()}
            values = {role: _as_numbers(column) for role, column in text.items()}
            chunks.append(_validated(values, lambda role, row: text[role].iloc[row], first_line, scale))
            first_line += len(chunk)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"the ratings file is not a well-formed table: {_parser_problem(error)}") from None
    if not chunks:
        raise DataError("the ratings file has a header but no rows")
    return pd.concat(chunks, ignore_index=True)


TEXT_CHUNK_ROWS = 1_000_000
WHAT = {"user": "user id", "item": "item id", "rating": "rating", "timestamp": "timestamp"}


def _as_numbers(column: pd.Series) -> np.ndarray:
    """Text as floats, NaN where empty or not a number (`_validated` tells the two apart)."""
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _validated(values: dict[str, np.ndarray], text, first_line: int, scale: RatingScale) -> pd.DataFrame:
    """Check parsed columns (float arrays, NaN where unparseable) and return the typed frame.
    `text(role, row)` gives a row's original field, to quote in the message."""
    def fail(role: str, mask: np.ndarray, problem: str) -> None:
        row = int(np.flatnonzero(mask)[0])
        shown = str(text(role, row)).strip()
        if not shown:
            raise DataError(f"line {row + first_line}: {WHAT[role]} is missing")
        raise DataError(f"line {row + first_line}: {WHAT[role]} {shown!r} {problem}")

    for role, array in values.items():
        bad = ~np.isfinite(array)
        if bad.any():
            fail(role, bad, "is not a number")
    for role in ("user", "item"):
        array = values[role]
        if (array > MAX_ID).any():
            fail(role, array > MAX_ID, f"is absurdly large (ids must be below {MAX_ID:.0e})")
    for role in [r for r in ("user", "item", "timestamp") if r in values]:
        array = values[role]
        if (array != np.floor(array)).any():
            fail(role, array != np.floor(array), "is not a whole number")
        if (array < 0).any():
            fail(role, array < 0, "is negative")
    rating = values["rating"]
    outside = (rating < scale.low) | (rating > scale.high)
    if outside.any():
        fail("rating", outside, f"is outside the scale {scale.describe()}")
    steps = (rating - scale.low) / scale.step
    off_grid = np.abs(steps - np.round(steps)) > 1e-6
    if off_grid.any():
        fail("rating", off_grid, f"is not on the scale {scale.describe()}")
    frame = pd.DataFrame({"user": values["user"].astype(np.int64), "item": values["item"].astype(np.int64),
                          "rating": rating.astype(np.float32)})
    if "timestamp" in values:
        frame["timestamp"] = values["timestamp"].astype(np.int64)
    return frame


def _bytes_of(source: str | Path | bytes, what: str) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{what} {path} does not exist")
        if path.stat().st_size > MAX_BYTES:
            raise DataError(f"{what} is larger than the limit of {MAX_BYTES // 1024**2} MiB")
        data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise DataError(f"{what} is larger than the limit of {MAX_BYTES // 1024**2} MiB")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _single_csv_from_zip(data)
    return data


def _single_csv_from_zip(data: bytes) -> bytes:
    with open_zip(io.BytesIO(data)) as archive:
        members = checked_members(archive, max_unpacked=MAX_BYTES * 5)
        candidates = [m for m in members if m.filename.lower().endswith((".csv", ".tsv", ".txt", ".data"))
                      and not Path(m.filename).name.startswith(".")]
        ratings = [m for m in candidates if Path(m.filename).name.lower().startswith("ratings")]
        chosen = ratings if len(ratings) == 1 else candidates
        if not chosen:
            raise DataError("the zip holds no ratings file (.csv, .tsv, .txt or .data)")
        if len(chosen) > 1:
            names = ", ".join(m.filename for m in chosen)
            raise DataError(f"the zip holds several candidate files ({names}); "
                            "put only one ratings file in it, or name it ratings.csv")
        return read_member(archive, chosen[0], MAX_BYTES)


def _check_text(data: bytes, what: str) -> None:
    """Refuse empty, UTF-16, binary and non-UTF-8 files, decoding in chunks (no copy of the text is kept)."""
    if not data.strip():
        raise DataError(f"the {what} is empty")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError(f"the {what} is UTF-16 encoded; save it as UTF-8 text")
    if b"\x00" in data[:65536]:
        raise DataError(f"the {what} is binary, not text (it holds NUL bytes)")
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), CHUNK):
        try:
            decoder.decode(data[start:start + CHUNK], final=start + CHUNK >= len(data))
        except UnicodeDecodeError as error:
            at = start + error.start
            line = data[:at].count(b"\n") + 1
            raise DataError(f"the {what} is not UTF-8 text (byte 0x{data[at]:02x} on line {line}); "
                            "save it as UTF-8") from None


def _header(text: str, what: str) -> tuple[str, str]:
    """The first line and its delimiter, judged before anything else is parsed: a header too long
    or too wide for a ratings file is refused here, in time and memory bounded by the limits."""
    end = text.find("\n", 0, MAX_HEADER_CHARS + 1)
    if end < 0 and len(text) > MAX_HEADER_CHARS:
        raise DataError(f"the {what}'s first line is longer than {MAX_HEADER_CHARS:,} characters; a ratings "
                        "file's header names its 3 or 4 columns (user, item, rating, timestamp)")
    header = text[:end if end >= 0 else len(text)].rstrip("\r").lstrip("\ufeff")
    delimiter = max(DELIMITERS, key=header.count)
    if header.count(delimiter) == 0:
        raise DataError(f"the {what}'s header {header[:80]!r} has a single column; expected columns "
                        "separated by commas (or tabs, ';' or '|')")
    if header.count(delimiter) + 1 > MAX_COLUMNS:
        raise DataError(f"the {what}'s header has {header.count(delimiter) + 1:,} columns; a ratings file needs "
                        f"user, item, rating and optionally timestamp, and at most {MAX_COLUMNS} columns are "
                        "accepted")
    return header, delimiter


def _header_names(header: str, delimiter: str) -> list[str]:
    return [name.strip() for name in next(csv.reader([header], delimiter=delimiter))]


def _parse(data: bytes, what: str) -> pd.DataFrame:
    """A small table (the items file) as strings, as wide as its header."""
    _check_text(data, what)
    header, delimiter = _header(data[:MAX_HEADER_CHARS + 2].decode("utf-8-sig", "replace"), what)
    names = _header_names(header, delimiter)
    line = _first_long_line(data, delimiter, len(names))
    if line is not None:
        raise DataError(f"the {what} is not a well-formed table: line {line} has "
                        f"{_fields_on_line(data, line, delimiter):,} fields but the header has {len(names)}")
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, skiprows=1, names=list(range(len(names))),
                            dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False,
                            encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"the {what} is not a well-formed table: {_parser_problem(error)}") from None
    if frame.empty:
        raise DataError(f"the {what} has a header but no rows")
    frame.columns = names
    return frame


CHUNK = 1 << 23


def _first_long_line(data: bytes, delimiter: str, width: int) -> int | None:
    """The first (1-based) line with more than `width` fields, or None. Without quotes in the file
    this counts delimiters per line with numpy in 8 MiB chunks; with quotes (a delimiter may sit
    inside a quoted field) Python's csv reader counts the fields."""
    if b'"' in data:
        for number, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter), 1):
            if len(row) > width:
                return number
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    mark, newline = ord(delimiter), ord("\n")
    carry, lines_before = 0, 0  # delimiters since the last newline of earlier chunks; lines already passed
    for start in range(0, raw.size, CHUNK):
        chunk = raw[start:start + CHUNK]
        running = np.cumsum(chunk == mark, dtype=np.int64)
        ends = np.flatnonzero(chunk == newline)
        at_ends = running[ends] if ends.size else np.empty(0, np.int64)
        counts = np.diff(at_ends, prepend=0)
        if counts.size:
            counts[0] += carry
        long = np.flatnonzero(counts > width - 1)
        if long.size:
            return lines_before + int(long[0]) + 1
        carry = int(running[-1] - (at_ends[-1] if ends.size else 0)) + (0 if ends.size else carry)
        lines_before += ends.size
    return lines_before + 1 if carry > width - 1 else None


def _parser_problem(error: Exception) -> str:
    """pandas' tokenizer message in the words the rest of this module uses."""
    text = str(error).strip().replace("Error tokenizing data. C error: ", "")
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        return f"line {match[2]} has {match[3]} fields but the header has {match[1]}"
    if "EOF inside string" in text:
        return "a quoted field is never closed (the file ends inside quotes)"
    return text


def _line_at(data: bytes, line: int) -> bytes:
    """The (1-based) line's bytes, found by counting newlines in chunks; used on error paths only."""
    raw = np.frombuffer(data, dtype=np.uint8)
    start, seen = 0, 0
    for chunk_start in range(0, raw.size, CHUNK):
        ends = np.flatnonzero(raw[chunk_start:chunk_start + CHUNK] == ord("\n"))
        if seen + ends.size >= line - 1 and line > 1:
            start = chunk_start + int(ends[line - 2 - seen]) + 1
            break
        seen += ends.size
    end = data.find(b"\n", start)
    return data[start:end if end >= 0 else len(data)].rstrip(b"\r")


def _fields_on_line(data: bytes, line: int, delimiter: str) -> int:
    """How many fields a (1-based) line holds."""
    return _line_at(data, line).count(delimiter.encode()) + 1


def _field(data: bytes, line_index: int, delimiter: str, position: int) -> str:
    """Field `position` of the 0-based line `line_index`, as text (for error messages)."""
    fields = next(csv.reader([_line_at(data, line_index + 1).decode("utf-8-sig", "replace")], delimiter=delimiter))
    return fields[position].strip() if position < len(fields) else ""


def _map_columns(names: list[str], required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
    normalised = {c.lower().replace(" ", ""): c for c in names}
    found: dict[str, str] = {}
    for role in required + optional:
        match = next((normalised[a] for a in COLUMN_ALIASES[role] if a in normalised), None)
        if match is not None:
            found[role] = match
    missing = [r for r in required if r not in found]
    if missing:
        raise DataError(f"missing required column(s) {', '.join(missing)}; found columns: "
                        f"{', '.join(map(str, names))}. Expected user, item, rating "
                        "(userId/movieId also accepted) and optionally timestamp")
    return found


def _first_bad(mask: np.ndarray, first_line: int = 2) -> int:
    return int(np.flatnonzero(mask)[0]) + first_line


def _drop_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    order = frame.assign(_row=np.arange(len(frame)))
    keys = ["timestamp", "_row"] if "timestamp" in frame else ["_row"]
    latest = order.sort_values(keys).drop_duplicates(["user", "item"], keep="last").sort_values("_row")
    dropped = len(frame) - len(latest)
    notes = [f"{dropped} duplicate (user, item) rating(s) found; kept the latest of each"] if dropped else []
    return latest.drop(columns="_row"), notes


def _read_items(source: str | Path | bytes) -> pd.DataFrame:
    frame = _parse(_bytes_of(source, "items"), "items file")
    normalised = {c.lower(): c for c in frame.columns}
    item_col = next((normalised[a] for a in COLUMN_ALIASES["item"] if a in normalised), None)
    if item_col is None or "title" not in normalised:
        raise DataError("the items file needs an item (or movieId) column and a title column")
    genres = frame[normalised["genres"]] if "genres" in normalised else pd.Series([""] * len(frame))
    ids = _as_numbers(frame[item_col].str.strip())
    bad = ~np.isfinite(ids) | (ids != np.floor(ids)) | (ids < 0) | (ids > MAX_ID)
    if bad.any():
        line = _first_bad(bad)
        raise DataError(f"items file line {line}: item id {frame[item_col].iloc[line - 2]!r} is not a valid id")
    return pd.DataFrame({"item": ids.astype(np.int64), "title": frame[normalised["title"]],
                         "genres": [[g for g in str(v).split("|") if g and g != "(no genres listed)"]
                                    for v in genres]})
