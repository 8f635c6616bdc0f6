"""A corpus of malformed rating files, generated from real ml-latest-small rows.

Each `BadInput` is one way a user's file can be wrong, with the words the package's error must
use to name the problem. The payloads are built on demand (some are large) and kept per session.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable

Rows = list[str]  # header + real ratings.csv lines


@dataclass(frozen=True)
class BadInput:
    """One malformed file: how to build it from real rows and what the error must say."""

    name: str
    build: Callable[[Rows], bytes]
    message: str
    filename: str = "ratings.csv"
    scale: str = "half-stars"  # a key of recsys.data.upload.SCALES
    in_dashboard: bool = True  # False where Streamlit's own upload limit answers first


def csv(lines: Rows) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _edit(line: int, text: str) -> Callable[[Rows], bytes]:
    """Replace data line `line` (1-based file line, header is line 1) by `text`."""
    return lambda rows: csv(rows[: line - 1] + [text] + rows[line:])


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(unpacked: int = 2 * 1024**3, claimed: int | None = None) -> bytes:
    """A zip whose one member inflates to `unpacked` bytes of zeros (about 2 MB on disk).
    `claimed` rewrites the sizes the headers state, to test a zip that lies about its content."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 24)
    # After a full flush the compressor's state is reset, so every block compresses to the same bytes.
    chunk = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(unpacked // len(block)):
        crc = zlib.crc32(block, crc)
    body = chunk * (unpacked // len(block)) + compressor.flush()
    size = unpacked if claimed is None else claimed
    name = b"ratings.csv"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    return local + body + central + end


def million_rows(rows: Rows, last_line: str | None = None) -> bytes:
    """Real ml-latest-small ratings repeated with shifted user ids to pass a million rows."""
    body = [line.split(",", 1) for line in rows[1:]]
    copies = -(-1_000_000 // len(body))
    lines = [rows[0]] + [f"{int(user) + 1000 * copy},{rest}" for copy in range(copies) for user, rest in body]
    if last_line is not None:
        lines[-1] = last_line
    return csv(lines)


def corpus(short: Rows, full: Rows) -> list[BadInput]:
    """Every malformed input. `short` is the header + 200 real rows; `full` all of ratings.csv."""
    copies = -(-1_000_000 // (len(full) - 1))
    last_line = copies * (len(full) - 1) + 1
    cases = [
        BadInput("empty", lambda rows: b"", "is empty"),
        BadInput("blank lines only", lambda rows: b"\n \n\t\n", "is empty"),
        BadInput("header only", lambda rows: csv(rows[:1]), "header but no rows"),
        BadInput("missing rating column", lambda rows: csv([",".join(r.split(",")[:2]) for r in rows]),
                 r"missing required column\(s\) rating"),
        BadInput("misnamed columns", lambda rows: csv(["a,b,c,d"] + rows[1:]), "found columns: a, b, c, d"),
        BadInput("header shorter than rows", lambda rows: csv(["userId,movieId,stars"] + rows[1:]),
                 "line 2 has 4 fields but the header has 3"),
        BadInput("wrong delimiter (spaces)", lambda rows: csv([r.replace(",", " ") for r in rows]),
                 "single column"),
        BadInput("mixed delimiters", lambda rows: csv(rows[:1] + [r.replace(",", ";") for r in rows[1:]]),
                 r"line 2: user id '1;1;4\.0;964982703' is not a number"),
        BadInput("ragged row", _edit(7, "1,50,4.0,964982931,extra,fields"), "line 7 has 6 fields"),
        BadInput("unterminated quote", _edit(4, '1,"50,4.0,964982931'), "not a well-formed table"),
        BadInput("non-numeric rating", _edit(6, "1,50,abc,964982931"), "line 6: rating 'abc' is not a number"),
        BadInput("NaN rating", _edit(6, "1,50,nan,964982931"), "line 6: rating 'nan' is not a number"),
        BadInput("missing rating", _edit(4, "1,50,,964982931"), "line 4: rating is missing"),
        BadInput("rating above the scale", _edit(4, "1,50,7,964982931"), "line 4: rating '7' is outside the scale"),
        BadInput("rating below the scale", _edit(5, "1,50,-1,964982931"), "line 5: rating '-1' is outside the scale"),
        BadInput("rating off the half-star grid", _edit(4, "1,50,3.7,964982931"),
                 "line 4: rating '3.7' is not on the scale 0.5-5"),
        BadInput("fractional rating on the integer scale", _edit(3, "1,50,4.5,964982931"),
                 "line 3: rating '4.5' is not on the scale 1-5", scale="whole-stars"),
        BadInput("negative user id", _edit(4, "-5,50,3,964982931"), "line 4: user id '-5' is negative"),
        BadInput("30-digit movie id", _edit(4, "1,123456789012345678901234567890,3,964982931"), "absurdly large"),
        BadInput("fractional user id", _edit(4, "1.5,50,3,964982931"), "line 4: user id '1.5' is not a whole number"),
        BadInput("missing user id", _edit(9, ",50,3,964982931"), "line 9: user id is missing"),
        BadInput("negative timestamp", _edit(4, "1,50,3,-964982931"), "line 4: timestamp '-964982931' is negative"),
        BadInput("binary garbage", lambda rows: b"\x00\x01\x02binary\x00garbage\xff" * 64, "binary"),
        BadInput("latin-1 text", lambda rows: csv(rows[:1]).replace(b"timestamp", b"timestamp,comment")
                 + "1,1,4.0,964982703,caf\xe9\n".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 on line 2\)"),
        BadInput("UTF-16 text", lambda rows: "\n".join(rows).encode("utf-16"), "UTF-16"),
        BadInput("a single rating", lambda rows: csv(rows[:2]), "holds only 1 rating"),
        # hostile shapes: small files that used to cost minutes and gigabytes to judge
        BadInput("200,000 extra header columns", lambda rows: csv([rows[0] + ",c" * 200_000] + rows[1:200]),
                 "first line is longer than 4,096 characters"),
        BadInput("2,000 short header columns", lambda rows: csv([rows[0] + ",x" * 1_996] + rows[1:200]),
                 "header has 2,000 columns"),
        BadInput("rows of 200,000 fields", lambda rows: csv(rows[:3] + [r + ",7" * 200_000 for r in rows[3:20]]),
                 "line 4 has 200,004 fields but the header has 4"),
        BadInput("a 10 MiB line with no newline", lambda rows: b"userId" + b",x" * (5 << 20),
                 "first line is longer than 4,096 characters"),
        BadInput("a million rows with a bad last line", lambda rows: million_rows(full, "1,1,9,964982703"),
                 f"line {last_line}: rating '9' is outside the scale"),
        BadInput("larger than the upload limit", lambda rows: b"userId,movieId,rating\n" + b"1,1,4\n" * (36 * 1024**2),
                 "larger than the limit of 200 MiB", in_dashboard=False),
        BadInput("zip that is not a zip", lambda rows: b"PK\x03\x04" + b"\x00" * 64, "not a readable zip",
                 filename="ratings.zip"),
        BadInput("truncated zip", lambda rows: _zip({"ratings.csv": csv(full)})[:50_000],
                 "not a readable zip", filename="ratings.zip"),
        BadInput("zip with an absolute path", lambda rows: _zip({"/etc/ratings.csv": csv(rows)}),
                 "unsafe path", filename="ratings.zip"),
        BadInput("zip with a .. path", lambda rows: _zip({"../../ratings.csv": csv(rows)}),
                 "unsafe path", filename="ratings.zip"),
        BadInput("zip with several candidate files", lambda rows: _zip({"a.csv": csv(rows), "b.csv": csv(rows)}),
                 "several candidate files", filename="ratings.zip"),
        BadInput("zip with no ratings file", lambda rows: _zip({"README.md": b"no ratings here"}),
                 "holds no ratings file", filename="ratings.zip"),
        BadInput("zip holding a malformed csv", lambda rows: _zip({"ratings.csv": csv(rows[:1])}),
                 "header but no rows", filename="ratings.zip"),
        BadInput("zip that unpacks to 2 GiB", lambda rows: zip_bomb(), "would unpack to 2048 MiB",
                 filename="ratings.zip"),
        BadInput("zip that claims 100 bytes but unpacks to 2 GiB", lambda rows: zip_bomb(claimed=100),
                 "damaged or truncated", filename="ratings.zip"),
    ]
    assert short[0].startswith("userId"), short[0]
    return cases
