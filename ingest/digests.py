"""The sha256 of the files an ingest run reads, kept with their status so an unchanged file is not read again.

A re-run over a large corpus spends most of its time opening and hashing files that have
not changed: every source (to find its cached record) and every output the manifest lists
(to confirm it is still what the manifest says). Like git's index, this keeps, for each
file, the digest it had together with its status (size, modification and change times in
nanoseconds, inode, device). When the status is the same the digest is taken as known and
the file is not read. The change time (ctime) cannot be set back by a program: writing a
file, even one that restores its size and modification time, gives it a new one.

A digest is only trusted when the file's last change was at least ``cache.RACY_NS`` before the
digest was taken. A file changed again within its file system's timestamp granularity
after being read could otherwise keep the same status with other bytes (git calls this
"racy"); such a file is read again next time.

A file the run writes itself (``wrote``) has the digest of the bytes written, and its
status is taken just after it is renamed into place. When the run ends (``close``) each
such file whose status is still that one is vouched for as of then, as git vouches for
the files it checks out when it writes its index: a later change would have given it
another change time. Files written in the run's last ``cache.RACY_NS`` are read again by the
next run. What this cannot see is another program writing the same number of bytes into
the file in the instant between the rename and the status (the output folder is locked
against other runs of tei-ingest).

The index is a SQLite database in the disk cache (``ingest.cache``), one per output folder,
so it is scratch: deleting it costs one full read. ``TEI_INGEST_CACHE=off`` disables it,
and ``tei-ingest ingest --checksum`` reads every file whatever its status. ``tei-ingest
verify`` never uses it: it reads and hashes every file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sqlite3
import stat
import time
from array import array
from pathlib import Path

from . import cache

#: Bytes read at a time when a file is hashed.
BLOCK = 1 << 20

_TABLE = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, ctime INTEGER,
                                  ino INTEGER, dev INTEGER, sha256 TEXT, taken INTEGER, run INTEGER);
"""

class DigestIndex:
    """Digests of files by their status; ``trust=False`` reads every file (and still records what it read).

    A run looks files up folder by folder in name order (its sources, then its outputs), so
    rows are read a window at a time: the next ``WINDOW`` paths from the one asked for, in
    one query, instead of one query a file. Memory hardly grows with the corpus (the window,
    and 8 bytes a file). The run's changes are one transaction, committed by ``close``,
    which also forgets the files this run did not look at (removed sources and outputs).
    """

    #: Rows read at a time (see ``_row``).
    WINDOW = 1024

    def __init__(self, db: sqlite3.Connection | None, trust: bool = True) -> None:
        self.db = db
        self.trust = trust and db is not None
        self.run = time.time_ns()
        self._seen = array("q")  # rows this run found still true (marked by close, when some must go)
        # Paths are keyed absolute; the run does not change its working folder.
        self._cwd = os.getcwd()
        # The window: the rows of every path from _start (inclusive) to _end (inclusive; None: no end).
        self._rows: dict[str, tuple[int, ...]] = {}
        self._start: str | None = None
        self._end: str | None = None
        if db is not None:
            db.execute("BEGIN")

    @classmethod
    def for_folder(cls, out_dir: Path, trust: bool = True) -> DigestIndex:
        """Open the index kept for an output folder (none, every file read, when the cache is off or unwritable)."""
        root = cache.cache_dir()
        db = None if root is None else cache.database(
            root / "digests" / f"{cache.folder_key(out_dir)}.sqlite", _TABLE,
            "SELECT rowid, size, mtime, ctime, ino, dev, sha256, taken, run FROM files LIMIT 1")
        try:
            return cls(db, trust)
        except sqlite3.Error:  # could not begin: locked by another run
            if db is not None:
                db.close()
            return cls(None, trust)

    def sha256(self, path: str, limit: int | None = None) -> str | None:
        """Return the hex sha256 of a file, or None when it is larger than limit; OSError when unreadable."""
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a device or a pipe (/dev/zero behind a link) would be read for ever
            raise OSError(errno.EINVAL, "not a regular file", path)
        if limit is not None and st.st_size > limit:
            return None
        status = cache.file_status(st)
        key = self._key(path) if self.db is not None else ""
        if self.db is not None:
            row = self._row(key)
            if (self.trust and row is not None and tuple(row[1:6]) == status
                    and cache.digest_holds(st, row[7])):
                if row[8] != self.run:
                    self._seen.append(row[0])
                return str(row[6])
        taken = time.time_ns()
        digest = hashlib.sha256()
        with open(path, "rb") as fh:  # in blocks: a manifest of a large corpus is hundreds of megabytes
            while block := fh.read(BLOCK):
                digest.update(block)
            after = cache.file_status(os.fstat(fh.fileno()))
        sha = digest.hexdigest()
        if self.db is not None and after == status:  # not changed while read: this status has these bytes
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (key, *status, sha, taken, self.run))
            self._changed(key)
        return sha

    def wrote(self, path: str, sha256: str) -> None:
        """Record a file this run has just put in place with these bytes (vouched for by ``close``)."""
        if self.db is None:
            return
        key = self._key(path)
        with contextlib.suppress(OSError, sqlite3.Error):
            status = cache.file_status(os.stat(path))
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                            (key, *status, sha256, self.run))
        self._changed(key)

    def _key(self, path: str) -> str:
        """Return the absolute path a file is keyed by (``os.path.abspath``'s, without asking for the cwd each time)."""
        if path.startswith("/") and "/." not in path and "//" not in path:
            return path  # already absolute and normal
        return os.path.normpath(os.path.join(self._cwd, path))

    def _settle(self, db: sqlite3.Connection) -> None:
        """Vouch, as of now, for the files this run wrote whose status has not changed since."""
        now = time.time_ns()
        settled = []
        for rowid, path, *status in db.execute(
                "SELECT rowid, path, size, mtime, ctime, ino, dev FROM files WHERE run = ? AND taken = 0", (self.run,)):
            with contextlib.suppress(OSError):
                if cache.file_status(os.stat(path)) == tuple(status):
                    settled.append((now, rowid))
        db.executemany("UPDATE files SET taken = ? WHERE rowid = ?", settled)

    def _row(self, key: str) -> tuple[int, ...] | None:
        """Return a file's row: (rowid, status, sha256, taken, run), or None.

        The row comes from the window when the window spans the path; otherwise the window
        moves to the ``WINDOW`` paths from this one on. (SQLite orders text by its UTF-8
        bytes, which is the order of Python's comparison of the same strings.)
        """
        assert self.db is not None
        if self._start is not None and self._start <= key and (self._end is None or key <= self._end):
            return self._rows.get(key)
        try:
            rows = self.db.execute(
                "SELECT path, rowid, size, mtime, ctime, ino, dev, sha256, taken, run FROM files "
                "WHERE path >= ? ORDER BY path LIMIT ?", (key, self.WINDOW)).fetchall()
        except sqlite3.Error:
            self._start = None
            return None
        self._rows = {row[0]: row[1:] for row in rows}
        self._start = key
        self._end = rows[-1][0] if len(rows) == self.WINDOW else None
        return self._rows.get(key)

    def _changed(self, key: str) -> None:
        """Keep the window true after a path's row was written: it no longer spans that path or any before it."""
        if self._start is not None and self._start <= key and (self._end is None or key <= self._end):
            self._start = key + "\0"  # the least path after it (a path holds no NUL)

    def close(self, complete: bool = True) -> None:
        """Store what this run read and release the database.

        ``complete``: the run looked at every file of the corpus, so those it did not look at
        (removed sources and outputs) are forgotten.
        """
        db, self.db = self.db, None
        if db is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._settle(db)
            stale = db.execute("SELECT count(*) FROM files WHERE run != ?", (self.run,)).fetchone()[0]
            if complete and stale > len(set(self._seen)):  # some files were not looked at: forget them
                db.executemany("UPDATE files SET run = ? WHERE rowid = ?", ((self.run, r) for r in self._seen))
                db.execute("DELETE FROM files WHERE run != ?", (self.run,))
            db.execute("COMMIT")
        with contextlib.suppress(sqlite3.Error):
            db.close()
