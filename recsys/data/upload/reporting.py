"""What can be wrong with an uploaded ratings file, found in one pass and reported together: lines
of the wrong width, fields that are not what they should be, and the duplicates that would be
merged, most important first, each with its line number. Also the rating scale a file's values
imply."""
from __future__ import annotations

import csv
import io

import numpy as np

from recsys.data.dataset import RatingScale
from recsys.data.readers import HALF_STARS, WHOLE_STARS
from recsys.errors import DataError

MAX_PROBLEMS = 20
CHUNK = 1 << 23
#: ranks of problem, most important first (a line of the wrong width spoils every field on it)
SHAPE, VALUE = 0, 1


#: each kind of problem named for one of it
ONE = {"lines of the wrong width": "line of the wrong width",
       "fields that are missing or not valid": "field that is missing or not valid",
       "ratings off the scale": "rating off the scale"}


class Problems:
    """Every problem found in a file, reported together: the first `MAX_PROBLEMS` by importance
    then line, how many of each kind there are, and the notes (such as duplicates that would be
    merged) that help fix the file in the same round."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, str]] = []
        self.count = 0
        self.kinds: dict[str, int] = {}
        self.notes: list[str] = []

    def add(self, lines: np.ndarray, message, rank: int = VALUE, kind: str = "") -> None:
        """Problems on these (1-based) line numbers; `message(n)` words the problem on the n-th."""
        self.count += int(lines.size)
        if kind:
            self.kinds[kind] = self.kinds.get(kind, 0) + int(lines.size)
        for n in range(min(lines.size, MAX_PROBLEMS)):
            self.found.append((rank, int(lines[n]), message(n)))
        self.found = sorted(self.found)[:MAX_PROBLEMS]

    def raise_if_any(self) -> None:
        if not self.count:
            return
        notes = "".join(f"\n\nAlso: {note}." for note in self.notes)
        if self.count == 1:
            raise DataError(self.found[0][2] + notes)
        shown = "\n".join(f"- {text}" for _, _, text in self.found)
        more = f"\n- … and {self.count - len(self.found):,} more" if self.count > len(self.found) else ""
        kinds = ", ".join(f"{n:,} {kind if n > 1 else ONE.get(kind, kind)}" for kind, n in self.kinds.items()) \
            if len(self.kinds) > 1 else ""
        first = f" (the first {len(self.found)}, most important first, then in line order)" if more else ""
        raise DataError(f"the ratings file has {self.count:,} problems" + (f" ({kinds})" if kinds else "")
                        + f"{first}; fix them all and upload it again:\n\n{shown}{more}{notes}")


def long_lines(data: bytes, delimiter: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (1-based) line with more than `width` fields, and how many fields each has. Without
    quotes in the file this counts delimiters per line with numpy in 8 MiB chunks; with quotes (a
    delimiter may sit inside a quoted field) Python's csv reader counts the fields."""
    if b'"' in data:
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig", "replace")), delimiter=delimiter)
        found = [(number, len(row)) for number, row in enumerate(rows, 1) if len(row) > width]
        return np.array([f[0] for f in found], dtype=np.int64), np.array([f[1] for f in found], dtype=np.int64)
    raw = np.frombuffer(data, dtype=np.uint8)
    mark, newline = ord(delimiter), ord("\n")
    carry, lines_before = 0, 0  # delimiters since the last newline of earlier chunks; lines already passed
    lines, fields = [], []
    for start in range(0, raw.size, CHUNK):
        chunk = raw[start:start + CHUNK]
        running = np.cumsum(chunk == mark, dtype=np.int64)
        ends = np.flatnonzero(chunk == newline)
        at_ends = running[ends] if ends.size else np.empty(0, np.int64)
        counts = np.diff(at_ends, prepend=0)
        if counts.size:
            counts[0] += carry
        long = np.flatnonzero(counts > width - 1)
        lines.append(lines_before + long + 1)
        fields.append(counts[long] + 1)
        carry = int(running[-1] - (at_ends[-1] if ends.size else 0)) + (0 if ends.size else carry)
        lines_before += ends.size
    if carry > width - 1:
        lines.append(np.array([lines_before + 1]))
        fields.append(np.array([carry + 1]))
    return (np.concatenate(lines).astype(np.int64) if lines else np.empty(0, np.int64),
            np.concatenate(fields).astype(np.int64) if fields else np.empty(0, np.int64))


def cut_long_lines(data: bytes, lines: np.ndarray, delimiter: str, width: int) -> bytes:
    """The file with each of these (1-based) lines cut to its first `width` fields, so the rest
    of the file can be checked in the same pass with its line numbers unchanged."""
    if not lines.size:
        return data
    rows = data.split(b"\n")
    mark = delimiter.encode()
    for line in lines.tolist():
        rows[line - 1] = mark.join(rows[line - 1].split(mark)[:width])
    return b"\n".join(rows)


def duplicate_lines(users: np.ndarray, items: np.ndarray, first_line: int) -> np.ndarray:
    """The (1-based) lines that repeat an earlier line's (user, item) pair."""
    keys = np.stack([users, items], axis=1)
    valid = np.isfinite(keys).all(axis=1)
    rows = np.flatnonzero(valid)
    _, first = np.unique(keys[valid], axis=0, return_index=True)
    repeated = np.setdiff1d(np.arange(rows.size), first)
    return rows[repeated] + first_line


def duplicates_note(lines: np.ndarray) -> str:
    """The note on duplicates shown with a file's problems ("" when there are none)."""
    if not lines.size:
        return ""
    shown = ", ".join(str(n) for n in lines[:10].tolist()) + (", …" if lines.size > 10 else "")
    what = "line repeats" if lines.size == 1 else "lines repeat"
    return (f"{lines.size:,} {what} an earlier (user, movie) pair (line{'s' if lines.size > 1 else ''} {shown}); "
            "not an error: the latest rating of each pair is kept")


def detect_scale(ratings: np.ndarray) -> RatingScale:
    """Whole stars 1-5 when every rating is a whole number from 1 to 5 (ml-100k, ml-1m), else
    half stars 0.5-5 (ml-latest and ml-10m onwards)."""
    known = ratings[np.isfinite(ratings)]
    whole = known.size and (known == np.round(known)).all() and known.min() >= 1 and known.max() <= 5
    return WHOLE_STARS if whole else HALF_STARS


def scale_note(scale: RatingScale, detected: bool) -> str:
    """The sentence saying which scale a file was read on, and why."""
    why = ("every rating is a whole number from 1 to 5" if scale == WHOLE_STARS else
           "some ratings are halves or outside 1-5") if detected else "as chosen"
    return f"rating scale: {scale.describe()} ({why})"
