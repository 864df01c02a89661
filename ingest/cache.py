"""A disk cache for derived forms of schemas, keyed by the sha256 of the schema file.

Reducing ``tei_all.rng`` to the names a batch uses takes tens of milliseconds of Python;
the result depends only on the schema's bytes, the names and this program's version, so
it is kept under ``$TEI_INGEST_CACHE`` (default ``$XDG_CACHE_HOME/tei-ingest``, else
``~/.cache/tei-ingest``). ``TEI_INGEST_CACHE=off`` disables it. Entries are written
atomically; a cache that cannot be written is simply not used. Deleting the folder is
always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    import sqlite3

CACHE_ENV = "TEI_INGEST_CACHE"


def cache_dir() -> Path | None:
    """Return the cache folder of this version, or None when caching is off."""
    return _cache_dir(os.environ.get(CACHE_ENV), os.environ.get("XDG_CACHE_HOME"))


@functools.lru_cache(maxsize=8)
def _cache_dir(configured: str | None, xdg: str | None) -> Path | None:
    if configured is not None and configured.strip().lower() in ("", "off", "0", "no", "false"):
        return None
    base = Path(configured) if configured else (Path(xdg) if xdg else Path.home() / ".cache") / "tei-ingest"
    return base / __version__


def folder_key(folder: Path) -> str:
    """Return the name the cache gives what it keeps for one output folder."""
    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:32]


def database(path: Path, schema: str, probe: str) -> sqlite3.Connection | None:
    """Open a SQLite database of the cache (write-ahead log), creating its tables with schema.

    probe is a query that must run on the expected layout: a database that cannot be read
    (damaged, or of another layout) is deleted and started again. None when it cannot be
    opened at all (a read-only cache, or one locked by another run).
    """
    import sqlite3  # here: the commands that only read schemas from the cache start without it

    for attempt in range(2):
        db = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, timeout=5)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
                db.execute(f"PRAGMA {pragma}")
            db.executescript(schema)
            db.execute(probe).fetchall()
            return db
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            if attempt == 0 and not any(w in str(exc) for w in ("locked", "busy")):
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        os.unlink(f"{path}{suffix}")
    return None


#: A digest is trusted only for a file last changed at least this long before it was taken
#: (2 s: the coarsest timestamps in use, FAT's).
RACY_NS = 2_000_000_000

#: A file's status: size, modification and change times in nanoseconds, inode, device.
Status = tuple[int, int, int, int, int]

_DIGESTS: dict[tuple[str, Status], str] = {}


def file_status(st: os.stat_result) -> Status:
    """Return the status a digest is kept with (``file_sha256`` here, ``ingest.digests`` for a corpus)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def digest_holds(st: os.stat_result, taken: int) -> bool:
    """Return True when a digest taken at ``taken`` (ns) can stand for a file of this status:
    the file last changed at least ``RACY_NS`` before it."""
    return taken >= max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS


def file_sha256(path: Path) -> tuple[str, bytes | None]:
    """Return the sha256 of a file, and its bytes when they were read for it.

    The schemas key their cache entries by this digest, and hashing tei_all.rng costs
    about a tenth of checking one document against it. So the digest is kept in the cache
    with the file's status (size, modification and change times in nanoseconds, inode,
    device), as ``ingest.digests`` keeps those of a corpus: while the status is the same,
    and the file last changed at least ``RACY_NS`` before the digest was taken, the file is
    not read again. Within one process it is hashed once. OSError when it cannot be read.
    The entries live in ``file-digests/``, apart from ``digests/``, whose entries (one per
    output folder) ingest runs prune.
    """
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        status = file_status(st)
        key = (str(path), status)
        found = _DIGESTS.get(key)
        if found is not None:
            return found, None
        entry = hashlib.sha256(os.path.abspath(path).encode()).hexdigest() + ".marshal"
        kept = read("file-digests", entry)
        if kept is not None:
            with contextlib.suppress(ValueError, TypeError, EOFError):
                was, taken, digest = marshal.loads(kept)
                if tuple(was) == status and digest_holds(st, taken):
                    _DIGESTS[key] = digest
                    return digest, None
        taken = time.time_ns()
        data = fh.read()
    digest = _DIGESTS[key] = hashlib.sha256(data).hexdigest()
    write(marshal.dumps((status, taken, digest)), "file-digests", entry)
    return digest, data


def read(*parts: str) -> bytes | None:
    """Return a cached entry, or None."""
    root = cache_dir()
    if root is None:
        return None
    try:
        with open(os.path.join(root, *parts), "rb") as fh:
            return fh.read()
    except OSError:
        return None


def exists(*parts: str) -> bool:
    """Return True when an entry is cached."""
    root = cache_dir()
    return root is not None and os.path.isfile(os.path.join(root, *parts))


def write(data: bytes, *parts: str) -> None:
    """Store an entry atomically; failures (read-only home, full disk) are ignored."""
    root = cache_dir()
    if root is None:
        return
    target = root.joinpath(*parts)
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return
