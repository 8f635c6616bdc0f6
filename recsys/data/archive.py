"""Safe reading and extraction of zip archives (no absolute or `..` paths, capped size)."""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from recsys.errors import DataError

DEFAULT_MAX_UNPACKED = 4 * 1024**3
DEFAULT_MAX_MEMBERS = 10_000


def open_zip(source: Path | IO[bytes]) -> zipfile.ZipFile:
    """Open a zip (path or file object), turning 'not a zip' and truncation into a `DataError`."""
    label = Path(source).name if isinstance(source, (str, Path)) else "the upload"
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError(f"{label} is not a readable zip archive ({error})") from None
    return archive


def checked_members(archive: zipfile.ZipFile, max_unpacked: int = DEFAULT_MAX_UNPACKED,
                    max_members: int = DEFAULT_MAX_MEMBERS) -> list[zipfile.ZipInfo]:
    """The archive's file members, after refusing unsafe names and oversized content."""
    members = archive.infolist()
    if len(members) > max_members:
        raise DataError(f"zip holds {len(members)} entries, more than the limit of {max_members}")
    total = 0
    for info in members:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
            raise DataError(f"zip entry {info.filename!r} has an unsafe path (absolute or '..')")
        total += info.file_size
    if total > max_unpacked:
        raise DataError(f"zip would unpack to {total / 1024**2:.0f} MiB, more than the limit of "
                        f"{max_unpacked / 1024**2:.0f} MiB")
    return [m for m in members if not m.is_dir()]


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read one member, refusing more than `limit` bytes even if the header lies."""
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as error:
        raise DataError(f"zip entry {info.filename!r} cannot be read: the archive is damaged "
                        f"or truncated ({error})") from None
    if len(data) > limit:
        raise DataError(f"zip entry {info.filename!r} unpacks to more than "
                        f"{limit / 1024**2:.0f} MiB, the limit")
    return data


def extract_safely(zip_path: Path, destination: Path, max_unpacked: int = DEFAULT_MAX_UNPACKED) -> None:
    """Extract into `destination` atomically: unpack to a temporary sibling, then rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open_zip(zip_path) as archive:
        members = checked_members(archive, max_unpacked)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
        try:
            budget = max_unpacked
            for info in members:
                target = staging / PurePosixPath(info.filename.replace("\\", "/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                data = read_member(archive, info, budget)
                budget -= len(data)
                target.write_bytes(data)
            os.replace(staging, destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
