"""Reading an uploaded file: its bytes (a zip holding a ratings file and its movies file), the text
encoding, the header or MovieLens' headerless layouts, the delimiter and decimal comma, the columns,
and the movies file in each MovieLens layout."""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.archive import checked_members, open_zip, read_member
from recsys.data.dataset import RatingScale
from recsys.data.upload.reporting import (
    CHUNK,
    long_lines,
)
from recsys.errors import DataError

MAX_BYTES = 200 * 1024**2
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
@dataclass(frozen=True)
class Layout:
    """How a ratings file is laid out: its delimiter, column names (given or assumed), where the
    needed columns are, the scale, the header lines to skip and whether decimals use a comma."""

    delimiter: str
    names: list[str]
    columns: dict[str, str]
    scale: RatingScale | None  # None: read off the ratings
    skip: int = 1
    decimal_comma: bool = False

    @property
    def positions(self) -> dict[str, int]:
        return {role: self.names.index(column) for role, column in self.columns.items()}


#: MovieLens' headerless rating files (u.data, ratings.dat) and any 3- or 4-column file without a header
HEADERLESS = ("user", "item", "rating", "timestamp")


def is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def headerless_names(first_row: list[str]) -> list[str]:
    if len(first_row) not in (3, 4):
        raise DataError(f"the ratings file has no header and {len(first_row)} columns; a file without a header "
                        "must hold user, item, rating and optionally timestamp, in that order")
    return list(HEADERLESS[:len(first_row)])


def plain_delimiter(data: bytes) -> bytes:
    """MovieLens' `::` separator (ratings.dat) as a tab, so the C parser reads it in one pass."""
    first = data[:data.find(b"\n") if b"\n" in data[:MAX_HEADER_CHARS] else MAX_HEADER_CHARS]
    return data.replace(b"::", b"\t") if b"::" in first else data


def decimal_comma(data: bytes, delimiter: str) -> bool:
    """A `;` or tab file whose numbers use a decimal comma (a European spreadsheet's export)."""
    return delimiter != "," and b"," in data[:1 << 16]


def sibling_items(path: Path) -> Path | None:
    """The movies file MovieLens ships beside a ratings file (u.item, movies.dat, movies.csv)."""
    for name in ITEMS_FILES.get(path.name.lower(), ()):
        if (path.parent / name).is_file():
            return path.parent / name
    return None


#: ratings file name -> the movies file names that go with it
ITEMS_FILES = {"u.data": ("u.item",), "ratings.dat": ("movies.dat",), "ratings.csv": ("movies.csv",)}


def bytes_of(source: str | Path | bytes, what: str) -> bytes:
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
    return data


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


#: names a zip's ratings and movies files go by (MovieLens' own first), lower case
RATINGS_NAMES = ("ratings.csv", "ratings.dat", "u.data")
MOVIES_NAMES = ("movies.csv", "movies.dat", "u.item", "items.csv")


def files_from_zip(data: bytes) -> tuple[bytes, bytes | None]:
    """The ratings file of a zip and, when there is one, its movies file. MovieLens' own zips
    (ml-latest-small, ml-100k, ml-1m) are read as GroupLens ships them; any other zip must hold
    one table, or name its ratings file ratings.csv."""
    with open_zip(io.BytesIO(data)) as archive:
        members = [m for m in checked_members(archive, max_unpacked=MAX_BYTES * 5)
                   if not Path(m.filename).name.startswith(".") and not m.filename.startswith("__MACOSX")]
        by_name = {Path(m.filename).name.lower(): m for m in members}
        ratings = next((by_name[n] for n in RATINGS_NAMES if n in by_name), None)
        if ratings is None:
            candidates = [m for m in members if m.filename.lower().endswith((".csv", ".tsv", ".txt", ".data", ".dat"))
                          and Path(m.filename).name.lower() not in MOVIES_NAMES]
            if not candidates:
                raise DataError("the zip holds no ratings file (.csv, .tsv, .txt, .dat or .data)")
            if len(candidates) > 1:
                names = ", ".join(m.filename for m in candidates)
                raise DataError(f"the zip holds several candidate files ({names}); "
                                "put only one ratings file in it, or name it ratings.csv")
            ratings = candidates[0]
        movies = next((by_name[n] for n in MOVIES_NAMES if n in by_name), None)
        return read_member(archive, ratings, MAX_BYTES), (read_member(archive, movies, MAX_BYTES) if movies else None)


def check_text(data: bytes, what: str) -> None:
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


def header_line(text: str, what: str) -> tuple[str, str]:
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


def header_names(header: str, delimiter: str) -> list[str]:
    return [name.strip() for name in next(csv.reader([header], delimiter=delimiter))]


def parse(data: bytes, what: str) -> pd.DataFrame:
    """A small table (the items file) as strings, as wide as its header."""
    check_text(data, what)
    header, delimiter = header_line(data[:MAX_HEADER_CHARS + 2].decode("utf-8-sig", "replace"), what)
    names = header_names(header, delimiter)
    lines, fields = long_lines(data, delimiter, len(names))
    if lines.size:
        raise DataError(f"the {what} is not a well-formed table: line {lines[0]} has {fields[0]:,} fields but the "
                        f"header has {len(names)}" + (f" (and {lines.size - 1:,} more lines like it)" if lines.size > 1 else ""))
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=delimiter, header=None, skiprows=1, names=list(range(len(names))),
                            dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False,
                            encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"the {what} is not a well-formed table: {parser_problem(error)}") from None
    if frame.empty:
        raise DataError(f"the {what} has a header but no rows")
    frame.columns = names
    return frame


def parser_problem(error: Exception) -> str:
    """pandas' tokenizer message in the words the rest of this module uses."""
    text = str(error).strip().replace("Error tokenizing data. C error: ", "")
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        return f"line {match[2]} has {match[3]} fields but the header has {match[1]}"
    if "EOF inside string" in text:
        return "a quoted field is never closed (the file ends inside quotes)"
    return text


def line_at(data: bytes, line: int) -> bytes:
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


def field(data: bytes, line_index: int, delimiter: str, position: int) -> str:
    """Field `position` of the 0-based line `line_index`, as text (for error messages)."""
    fields = next(csv.reader([line_at(data, line_index + 1).decode("utf-8-sig", "replace")], delimiter=delimiter))
    return fields[position].strip() if position < len(fields) else ""


def map_columns(names: list[str], required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
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


def read_items(source: str | Path | bytes) -> pd.DataFrame:
    """A movies file: MovieLens' movies.csv (or any CSV with an item/movieId and a title
    column, genres optional), movies.dat (`id::title::genres`) or ml-100k's u.item (`|`-separated,
    no header, 19 genre flags); UTF-8 or latin-1."""
    data = bytes_of(source, "items")
    if not data.strip():
        raise DataError("the items file is empty")
    text = decoded(data)
    first = text[:text.find("\n")] if "\n" in text else text
    if "::" in first:
        return movies_dat(text)
    if first.count("|") >= 5 and first.split("|", 1)[0].strip().isdigit():
        return u_item(text)
    frame = parse(text.encode("utf-8"), "items file")
    normalised = {c.lower(): c for c in frame.columns}
    item_col = next((normalised[a] for a in COLUMN_ALIASES["item"] if a in normalised), None)
    if item_col is None or "title" not in normalised:
        raise DataError("the items file needs an item (or movieId) column and a title column")
    genres = frame[normalised["genres"]] if "genres" in normalised else pd.Series([""] * len(frame))
    return items_table(frame[item_col], frame[normalised["title"]],
                        [str(v).split("|") for v in genres], first_line=2)


def decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # MovieLens' older files (u.item, ml-1m's movies.dat)


def items_table(ids: pd.Series, titles, genres: list[list[str]], first_line: int) -> pd.DataFrame:
    numbers = as_numbers(ids.astype(str).str.strip())
    bad = ~np.isfinite(numbers) | (numbers != np.floor(numbers)) | (numbers < 0) | (numbers > MAX_ID)
    if bad.any():
        line = first_bad(bad, first_line)
        raise DataError(f"items file line {line}: item id {ids.iloc[line - first_line]!r} is not a valid id")
    return pd.DataFrame({"item": numbers.astype(np.int64), "title": [str(t).strip() for t in titles],
                         "genres": [[g for g in gs if g and g not in ("(no genres listed)", "unknown")]
                                    for gs in genres]})


def movies_dat(text: str) -> pd.DataFrame:
    rows = [line.split("::", 2) for line in text.splitlines() if line.strip()]
    bad = next((n for n, row in enumerate(rows, 1) if len(row) != 3), None)
    if bad is not None:
        raise DataError(f"items file line {bad} does not have 3 '::'-separated fields (id::title::genres)")
    return items_table(pd.Series([r[0] for r in rows]), [r[1] for r in rows], [r[2].split("|") for r in rows], 1)


def u_item(text: str) -> pd.DataFrame:
    from recsys.data.readers import ML100K_GENRES

    rows = [line.split("|") for line in text.splitlines() if line.strip()]
    bad = next((n for n, row in enumerate(rows, 1) if len(row) != 5 + len(ML100K_GENRES)), None)
    if bad is not None:
        raise DataError(f"items file line {bad} does not have the {5 + len(ML100K_GENRES)} '|'-separated fields "
                        "of ml-100k's u.item")
    genres = [[g for g, flag in zip(ML100K_GENRES, row[5:]) if flag.strip() == "1"] for row in rows]
    return items_table(pd.Series([r[0] for r in rows]), [r[1] for r in rows], genres, 1)


MAX_ID = 10**12


def as_numbers(column: pd.Series, decimal_comma: bool = False, dates: bool = False) -> np.ndarray:
    """Text as floats, NaN where empty or not a number (`validated` tells the two apart). With
    `decimal_comma`, "3,5" reads as 3.5; with `dates`, an ISO date or date-time (UTC unless it
    says otherwise) reads as seconds since 1970."""
    if decimal_comma:
        column = column.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, copy=True)
    if dates:
        unread = np.isnan(numbers) & (column.to_numpy(dtype=str) != "")
        if unread.any():
            when = pd.to_datetime(column[unread], errors="coerce", utc=True, format="ISO8601")
            seconds = (when - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
            numbers[unread] = seconds.to_numpy(dtype=float, na_value=np.nan)
    return numbers


def first_bad(mask: np.ndarray, first_line: int = 2) -> int:
    return int(np.flatnonzero(mask)[0]) + first_line
