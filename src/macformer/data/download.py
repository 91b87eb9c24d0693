"""Fetching and unpacking the LRA release archive.

Downloads resume from a `.part` file (HTTP Range) and are checked against the size
the server announced before they take their final name. Extraction refuses members
with absolute paths, `..`, links or device files, so an archive cannot write
outside its target folder.
"""

from __future__ import annotations

import json
import os
import tarfile
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

CHUNK = 1 << 20


class DownloadError(OSError):
    pass


class ArchiveError(ValueError):
    """An archive that cannot be unpacked; the message names it and says what to do."""


class UnsafeArchiveError(ArchiveError):
    pass


def download(url: str, dest, progress: bool = True, timeout: float = 60) -> Path:
    """Fetch `url` to `dest`, resuming `dest.part`; return `dest`. The expected size
    is recorded in `dest.size` on the first response so a resumed download is checked
    against the same number."""
    dest = Path(dest)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part, size_file = dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".size")
    expected = json.loads(size_file.read_text())["bytes"] if size_file.is_file() else None
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and expected is not None and have == expected:  # already complete
            os.replace(part, dest)
            return dest
        raise DownloadError(f"could not download {url}: {error}") from error
    except OSError as error:
        raise DownloadError(f"could not download {url}: {error}") from error
    with response:
        resumed = response.status == 206
        if not resumed:
            have = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        if expected is None and total is not None:
            expected = total
            size_file.write_text(json.dumps({"url": url, "bytes": total}) + "\n")
        elif expected is not None and total is not None and total != expected:
            raise DownloadError(f"{url} now reports {total} bytes, expected {expected}; delete {part} and {size_file} to start over")
        with open(part, "ab" if resumed else "wb") as out, tqdm(
            total=expected, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress
        ) as bar:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
    got = part.stat().st_size
    if expected is not None and got != expected:
        raise DownloadError(f"{part} has {got} bytes, expected {expected}; run again to resume")
    os.replace(part, dest)
    return dest


def check_member(member: tarfile.TarInfo):
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts:
        raise UnsafeArchiveError(f"refusing archive member {member.name!r}: absolute path or '..'")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"refusing archive member {member.name!r}: not a plain file or folder")


def safe_extract(archive, target, progress: bool = True) -> Path:
    """Unpack a (gzipped) tar into `target`, member by member, streaming. A refused
    member or a damaged archive raises an ArchiveError naming the archive."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    try:
        with tarfile.open(archive, mode="r|*") as tar, tqdm(
                unit="file", desc=f"unpack {Path(archive).name}", disable=not progress) as bar:
            for member in tar:
                check_member(member)
                destination = (root / member.name).resolve()
                if root != destination and root not in destination.parents:
                    raise UnsafeArchiveError(f"refusing archive member {member.name!r}: outside {root}")
                tar.extract(member, root, filter="data")
                bar.update(1)
    except UnsafeArchiveError as error:
        raise UnsafeArchiveError(f"{archive}: {error}; this is not a clean LRA release: delete it "
                                 f"and download it again ({target} may hold part of it)") from None
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise ArchiveError(f"{archive}: cannot be unpacked ({type(error).__name__}: {error}); it is truncated "
                           f"or not the LRA archive: delete it and download it again") from None
    return target
