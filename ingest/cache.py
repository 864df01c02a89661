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
import os
import sqlite3
from pathlib import Path

from . import __version__

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
