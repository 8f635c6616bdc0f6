"""Validation of a user's own ratings file (CSV, or a zip holding one) into a `Dataset`.

Every problem raises `DataError` with a message naming it (and the line, where there is one).
Nothing is written to disk: the file is read from memory.
"""
from __future__ import annotations

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
    `UPLOAD_CAPS`) bounds the ratings, users and movies accepted."""
    frame = _parse(_bytes_of(source, "ratings"), "ratings file")
    columns = _map_columns(frame, required=("user", "item", "rating"), optional=("timestamp",))
    frame = frame[list(columns.values())].rename(columns={v: k for k, v in columns.items()})
    frame["user"] = _ids(frame["user"], "user")
    frame["item"] = _ids(frame["item"], "item")
    frame["rating"] = _ratings(frame["rating"], scale)
    if "timestamp" in frame:
        frame["timestamp"] = _integers(frame["timestamp"], "timestamp", allow_negative=False)
    _check_caps(frame, caps or {})
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


def _decode(data: bytes, what: str) -> str:
    if not data.strip():
        raise DataError(f"the {what} is empty")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError(f"the {what} is UTF-16 encoded; save it as UTF-8 text")
    if b"\x00" in data[:65536]:
        raise DataError(f"the {what} is binary, not text (it holds NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise DataError(f"the {what} is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
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


def _parse(data: bytes, what: str) -> pd.DataFrame:
    """The table as strings, as wide as its header. Rows with more fields than the header are
    found first by counting delimiters per line (vectorised, on the raw bytes): pandas takes
    minutes and gigabytes on a few rows of a million fields, this one pass over the bytes."""
    text = _decode(data, what)
    header, delimiter = _header(text, what)
    names = [name.strip() for name in next(csv.reader([header], delimiter=delimiter))]
    width = len(names)
    line = _first_long_line(data, delimiter, width)
    if line is not None:
        raise DataError(f"the {what} is not a well-formed table: line {line} has "
                        f"{_fields_on_line(text, line, delimiter):,} fields but the header has {width}")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, skiprows=1, names=list(range(width)), dtype=str, keep_default_na=False,
                            skipinitialspace=True, index_col=False)
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


def _fields_on_line(text: str, line: int, delimiter: str) -> int:
    """How many fields a (1-based) line holds; walks the text lazily, on the error path only."""
    for number, row in enumerate(io.StringIO(text), start=1):
        if number == line:
            return row.rstrip("\r\n").count(delimiter) + 1
    return 0


def _map_columns(frame: pd.DataFrame, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
    normalised = {c.lower().replace(" ", ""): c for c in frame.columns}
    found: dict[str, str] = {}
    for role in required + optional:
        match = next((normalised[a] for a in COLUMN_ALIASES[role] if a in normalised), None)
        if match is not None:
            found[role] = match
    missing = [r for r in required if r not in found]
    if missing:
        raise DataError(f"missing required column(s) {', '.join(missing)}; found columns: "
                        f"{', '.join(map(str, frame.columns))}. Expected user, item, rating "
                        "(userId/movieId also accepted) and optionally timestamp")
    return found


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 2  # +1 for the header, +1 for 1-based lines


def _numbers(column: pd.Series, what: str) -> np.ndarray:
    text = column.str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        raise DataError(f"line {_first_bad(empty)}: {what} is missing")
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        line = _first_bad(bad)
        raise DataError(f"line {line}: {what} {column.iloc[line - 2]!r} is not a number")
    return values


def _integers(column: pd.Series, what: str, allow_negative: bool) -> np.ndarray:
    values = _numbers(column, what)
    fractional = values != np.floor(values)
    if fractional.any():
        line = _first_bad(fractional)
        raise DataError(f"line {line}: {what} {column.iloc[line - 2]!r} is not a whole number")
    if not allow_negative and (values < 0).any():
        line = _first_bad(values < 0)
        raise DataError(f"line {line}: {what} {column.iloc[line - 2]!r} is negative")
    return values.astype(np.int64)


def _ids(column: pd.Series, what: str) -> np.ndarray:
    values = _numbers(column, f"{what} id")
    absurd = values > MAX_ID
    if absurd.any():
        line = _first_bad(absurd)
        raise DataError(f"line {line}: {what} id {column.iloc[line - 2]!r} is absurdly large "
                        f"(ids must be below {MAX_ID:.0e})")
    return _integers(column, f"{what} id", allow_negative=False)


def _ratings(column: pd.Series, scale: RatingScale) -> np.ndarray:
    values = _numbers(column, "rating")
    outside = (values < scale.low) | (values > scale.high)
    if outside.any():
        line = _first_bad(outside)
        raise DataError(f"line {line}: rating {column.iloc[line - 2]!r} is outside the scale "
                        f"{scale.describe()}")
    steps = (values - scale.low) / scale.step
    off_grid = np.abs(steps - np.round(steps)) > 1e-6
    if off_grid.any():
        line = _first_bad(off_grid)
        raise DataError(f"line {line}: rating {column.iloc[line - 2]!r} is not on the scale "
                        f"{scale.describe()}")
    return values.astype(np.float32)


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
    return pd.DataFrame({"item": _ids(frame[item_col], "item"), "title": frame[normalised["title"]],
                         "genres": [[g for g in str(v).split("|") if g and g != "(no genres listed)"]
                                    for v in genres]})
