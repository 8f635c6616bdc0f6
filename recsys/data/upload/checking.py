"""Checking a ratings file's rows: parsed once by pandas' C parser when it can, else as text a
million rows at a time, each field checked (ids, ratings on the scale, timestamps or ISO dates),
the caps of a shared server, and duplicates merged to the latest."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from recsys.data.dataset import RatingScale
from recsys.data.upload.reading import MAX_ID, Layout, as_numbers, field, parser_problem
from recsys.data.upload.reporting import (
    CHUNK,
    VALUE,
    Problems,
    detect_scale,
    duplicate_lines,
    duplicates_note,
)
from recsys.errors import DataError


def check_caps(frame: pd.DataFrame, caps: dict[str, int]) -> None:
    counts = {"ratings": lambda: len(frame), "users": lambda: frame["user"].nunique(),
              "movies": lambda: frame["item"].nunique()}
    for what, cap in caps.items():
        count = counts[what]()
        if count > cap:
            raise DataError(f"the file holds {count:,} {what}; uploads are limited to {cap:,} {what} on this "
                            "server (use the command line with --file for bigger files)")


MIN_ROW_BYTES = 5  # "1,2,3": a line shorter than this cannot hold a rating


def check_rows(data: bytes, cap: int) -> None:
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


def typed_table(data: bytes, layout: Layout) -> pd.DataFrame | None:
    """The needed columns parsed as numbers and validated, or None when pandas cannot parse them
    as numbers (then the text pass names the problems)."""
    positions = layout.positions
    try:
        parsed = pd.read_csv(io.BytesIO(data), sep=layout.delimiter, header=None, skiprows=layout.skip, engine="c",
                             names=list(range(len(layout.names))), usecols=sorted(positions.values()),
                             dtype={p: np.float64 for p in positions.values()}, skipinitialspace=True,
                             index_col=False, encoding="utf-8-sig", decimal="," if layout.decimal_comma else ".")
    except (pd.errors.ParserError, ValueError, OverflowError):
        return None
    if parsed.empty:
        raise DataError("the ratings file has a header but no rows")
    values = {role: parsed[position].to_numpy() for role, position in positions.items()}
    del parsed
    problems = Problems()
    frame = validated(values, lambda role, row: field(data, row + layout.skip, layout.delimiter, positions[role]),
                       1 + layout.skip, layout.scale, problems)
    if problems.count:
        problems.notes.append(duplicates_note(duplicate_lines(values["user"], values["item"], 1 + layout.skip)))
        problems.notes = [note for note in problems.notes if note]
    problems.raise_if_any()
    return frame


def text_table(data: bytes, layout: Layout, problems: Problems) -> pd.DataFrame:
    """The table read as text a million rows at a time (every column: a short row must read as
    missing fields, not stop the parser), each chunk validated with the line numbers of its rows;
    raises every problem found with those already in `problems` (the first 20, most important
    first, and how many more), noting the duplicates that would be merged."""
    positions = layout.positions
    chunks, first_line, pairs = [], 1 + layout.skip, []
    try:
        reader = pd.read_csv(io.BytesIO(data), sep=layout.delimiter, header=None, skiprows=layout.skip, engine="c",
                             names=list(range(len(layout.names))), dtype=str, keep_default_na=False,
                             skipinitialspace=True, index_col=False, encoding="utf-8-sig", chunksize=TEXT_CHUNK_ROWS)
        for chunk in reader:
            text = {role: chunk[position].fillna("").str.strip() for role, position in positions.items()}
            values = {role: as_numbers(column, layout.decimal_comma, dates=role == "timestamp")
                      for role, column in text.items()}
            chunks.append(validated(values, lambda role, row: text[role].iloc[row], first_line, layout.scale,
                                     problems))
            pairs.append((values["user"], values["item"]))
            first_line += len(chunk)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"the ratings file is not a well-formed table: {parser_problem(error)}") from None
    if problems.count and pairs:
        note = duplicates_note(duplicate_lines(np.concatenate([u for u, _ in pairs]),
                                               np.concatenate([i for _, i in pairs]), 1 + layout.skip))
        problems.notes += [note] if note else []
    problems.raise_if_any()
    if not chunks:
        raise DataError("the ratings file has a header but no rows")
    return pd.concat(chunks, ignore_index=True)


TEXT_CHUNK_ROWS = 1_000_000
WHAT = {"user": "user id", "item": "item id", "rating": "rating", "timestamp": "timestamp"}




def validated(values: dict[str, np.ndarray], text, first_line: int, scale: RatingScale | None,
               problems: Problems) -> pd.DataFrame | None:
    """Check parsed columns (float arrays, NaN where unparseable), adding what is wrong to
    `problems`, and return the typed frame (None when this part had problems). `text(role, row)`
    gives a row's original field, to quote in the message."""
    before = problems.count
    scale = scale or detect_scale(values["rating"])

    def fail(role: str, mask: np.ndarray, problem: str, kind: str = "fields that are missing or not valid") -> None:
        rows = np.flatnonzero(mask)

        def message(n: int) -> str:
            shown = str(text(role, int(rows[n]))).strip()
            line = int(rows[n]) + first_line
            return f"line {line}: {WHAT[role]} is missing" if not shown else \
                f"line {line}: {WHAT[role]} {shown!r} {problem}"
        problems.add(rows + first_line, message, VALUE, kind)

    bad_row = np.zeros(len(values["rating"]), dtype=bool)
    for role, array in values.items():
        bad = ~np.isfinite(array)
        if bad.any():
            fail(role, bad, "is not a number" if role != "timestamp" else "is neither a number nor an ISO date")
        bad_row |= bad
    checks = []
    for role in ("user", "item"):
        checks.append((role, values[role] > MAX_ID, f"is absurdly large (ids must be below {MAX_ID:.0e})"))
    for role in [r for r in ("user", "item", "timestamp") if r in values]:
        array = values[role]
        checks.append((role, array != np.floor(array), "is not a whole number"))
        checks.append((role, array < 0, "is negative"))
    rating = values["rating"]
    checks.append(("rating", (rating < scale.low) | (rating > scale.high), f"is outside the scale {scale.describe()}"))
    steps = (rating - scale.low) / scale.step
    checks.append(("rating", np.abs(steps - np.round(steps)) > 1e-6, f"is not on the scale {scale.describe()}"))
    for role, mask, problem in checks:
        mask = mask & ~bad_row  # one problem per field: the first that applies
        if mask.any():
            fail(role, mask, problem, *(["ratings off the scale"] if "scale" in problem else []))
            bad_row |= mask
    if problems.count > before:
        return None
    frame = pd.DataFrame({"user": values["user"].astype(np.int64), "item": values["item"].astype(np.int64),
                          "rating": rating.astype(np.float32)})
    if "timestamp" in values:
        frame["timestamp"] = values["timestamp"].astype(np.int64)
    return frame




def drop_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The latest rating of each (user, item) pair (by timestamp, then by line), in file order.
    Sorted as index arrays, not as copies of the table: 20M rows cost a few index arrays."""
    n = len(frame)
    users, items = frame["user"].to_numpy(), frame["item"].to_numpy()
    keys = (np.arange(n),) + ((frame["timestamp"].to_numpy(),) if "timestamp" in frame else ()) + (items, users)
    order = np.lexsort(keys)  # by user, then item, then time, then line: the last of each pair is the latest
    pair_users, pair_items = users[order], items[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = (pair_users[1:] != pair_users[:-1]) | (pair_items[1:] != pair_items[:-1])
    dropped = n - int(last.sum())
    if not dropped:
        return frame, []
    kept = frame.iloc[np.sort(order[last])].reset_index(drop=True)
    return kept, [f"{dropped} duplicate (user, item) rating(s) found; kept the latest of each"]


