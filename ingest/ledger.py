"""The working state of an ingest run, kept on disk so that memory does not grow with the corpus.

A run over a hundred thousand documents cannot hold their manifest entries in memory: as
Python objects they take several kilobytes each. The ledger keeps them in a private
SQLite database in the temporary folder (deleted when the run's result is released):

* ``listed``: the documents the folder's manifest lists as they are on disk (read from
  the manifest the run found, then updated batch by batch);
* ``pending``: the files of the batch being written or removed, each with the entry of
  its new state and of its old one (the manifest's journal);
* ``written``: the documents of this run, with their entry as the finished manifest
  indents it and their row of the end-of-run table;
* ``before`` and ``deleted``: every document the old manifest listed, and its tombstones;
* ``current``: the output names of this run's sources (and the keys that would clash).

Entries are stored as the JSON text they take in the manifest, so checkpoints and the
finished manifest are streamed from the database (``manifest.manifest_chunks``) and never
built as one object. The old manifest is read with ijson, one entry at a time.

A finished run saves its documents, with the sha256 of the manifest they make, in the
disk cache (``save``); the next run attaches that state as ``saved``. When the manifest it
finds is that one, it fills ``listed`` from the state instead of parsing the manifest, and
takes each document whose source gives the same record key as it is (``take_unchanged``):
its ``written`` row then holds only its name, and ``whole`` reads the rest in the state.
When a run took every document so and its manifest's head is the same, the manifest
already on disk is the one it would write (``same_manifest``).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .digests import DigestIndex
from .manifest import MANIFEST_NAME

#: SQLite page cache of the ledger (KiB): enough for the indexes, small beside the run.
CACHE_KIB = 16_384

_TABLES = """
CREATE TABLE listed (name TEXT PRIMARY KEY, sha256 TEXT, bytes INTEGER, type TEXT, language TEXT,
                     json TEXT NOT NULL, key TEXT);
CREATE TABLE pending (name TEXT PRIMARY KEY, document TEXT, previous TEXT);
CREATE TABLE before (name TEXT PRIMARY KEY, id TEXT, title TEXT);
CREATE TABLE deleted (name TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE written (seq INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, bytes INTEGER, type TEXT,
                      language TEXT, pretty TEXT, row BLOB, sha256 TEXT, json TEXT, key TEXT, id TEXT, title TEXT);
CREATE TABLE current (key TEXT PRIMARY KEY, name TEXT NOT NULL, display TEXT NOT NULL);
CREATE INDEX current_name ON current (name);
"""

#: The state a finished run saves for the next one (``Ledger.save``).
_SAVED = """
CREATE TABLE meta (manifest TEXT NOT NULL, head TEXT NOT NULL);
CREATE TABLE documents (name TEXT PRIMARY KEY, sha256 TEXT, bytes INTEGER, type TEXT, language TEXT,
                        json TEXT NOT NULL, key TEXT NOT NULL, pretty TEXT NOT NULL, row BLOB NOT NULL, id TEXT,
                        title TEXT);
CREATE TABLE deleted (name TEXT PRIMARY KEY, json TEXT NOT NULL);
"""


def scratch_database(cache_kib: int, *, shared: bool = False) -> sqlite3.Connection:
    """Open a private temporary SQLite database: in memory up to its cache, then on disk, deleted on close.

    ``shared``: usable from other threads than the one that opened it.
    """
    db = sqlite3.connect("", isolation_level=None, check_same_thread=not shared)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{cache_kib}", "temp_store=FILE"):
        db.execute(f"PRAGMA {pragma}")
    return db


def compact_json(value: Any) -> str:
    """Return a value as the manifest's checkpoints write it: compact, keys sorted."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def pretty_json(value: Any) -> str:
    """Return a document entry as the finished manifest writes it, indented as an item of ``documents``."""
    return "    " + json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).replace("\n", "\n    ")


@dataclass(frozen=True, slots=True)
class Staged:
    """A document of the batch being written: ``tmp`` is its temporary file, None when it is already there."""

    name: str
    tmp: str | None
    entry: str  # compact JSON
    sha256: str
    bytes: int
    type: str
    language: str
    listed: bool = False  # listed already, with this very entry: nothing to record

    @classmethod
    def kept(cls, name: str) -> Staged:
        """A document taken as it is (``Ledger.take_unchanged``): listed already, nothing to write or record."""
        return cls(name, None, "", "", 0, "", "", True)


@dataclass(frozen=True, slots=True)
class Saved:
    """What the saved state keeps of a document beside its manifest entry and row (see ``Ledger.save``)."""

    sha256: str
    entry: str  # compact JSON
    key: str  # the record it was written from
    doc_id: str
    title: str


@dataclass(frozen=True, slots=True)
class Totals:
    """What a list of documents adds up to, for the manifest's ``totals``."""

    documents: int
    bytes: int
    languages: dict[str, int]
    types: dict[str, int]


class Ledger:
    """The run's manifest entries and table rows, on disk (see the module's description)."""

    def __init__(self, out_dir: Path, digests: DigestIndex | None = None, saved: Path | None = None) -> None:
        self.out_dir = out_dir
        self.folder = os.path.abspath(out_dir)
        self.digests = digests or DigestIndex(None)
        #: where the finished run's documents are saved for the next run (see ``save``)
        self.saved = saved
        # It is scratch (a run that stops loses it, and starts again from the manifest), so it
        # is written in one transaction that is never committed: no statement pays for its own.
        self.db = scratch_database(CACHE_KIB)
        self.db.executescript(_TABLES)
        self._attach_saved()
        self.db.execute("BEGIN")
        self._load(out_dir / MANIFEST_NAME)
        #: how many documents are listed as there
        self.size = int(self.db.execute("SELECT count(*) FROM listed").fetchone()[0])

    def close(self) -> None:
        """Release the database (its file is deleted), and the digest index if the run did not finish."""
        self.digests.close(complete=False)
        self.db.close()

    # -- the manifest the run found ---------------------------------------------------------

    def _load(self, path: Path) -> None:
        """Read the folder's manifest: what it lists (and was writing), and its tombstones.

        An entry counts as listed only when its file is there with the entry's digest. A
        manifest that cannot be read or parsed lists nothing.
        """
        import ijson  # type: ignore[import-untyped]

        #: the saved state is the manifest's: documents can be taken from it
        self._saved_usable = self._load_saved(path)
        if self._saved_usable:
            return
        try:
            fh = path.open("rb")
        except OSError:
            return
        with fh:
            self.db.execute("SAVEPOINT load")
            try:
                for entry in ijson.items(fh, "documents.item", use_float=True):
                    self._found(entry)
                # an interrupted run's journal: each pending file is in its new state, its old one, or absent
                for item in self._items(fh, "pending"):
                    if isinstance(item, dict):
                        for entry in (item.get("previous"), item.get("document")):
                            if entry:
                                self._found(entry)
                for tomb in self._items(fh, "deleted"):
                    if isinstance(tomb, dict) and isinstance(tomb.get("tei_path"), str):
                        self.db.execute("INSERT OR REPLACE INTO deleted VALUES (?, ?)",
                                        (tomb["tei_path"], compact_json(tomb)))
            except (ijson.JSONError, ValueError, UnicodeError, OSError, sqlite3.Error):
                self.db.execute("ROLLBACK TO load")
            self.db.execute("RELEASE load")

    def _attach_saved(self) -> None:
        """Attach the state the last finished run saved as ``saved`` (an empty one when there is none)."""
        db = self.db
        if not self._attach_saved_file():
            db.execute("ATTACH DATABASE ':memory:' AS saved")
            db.executescript(_SAVED.replace("CREATE TABLE ", "CREATE TABLE saved."))
        self._create_whole()

    def _attach_saved_file(self) -> bool:
        """Attach the saved state's file as ``saved``; return False (nothing attached) when there is none to read."""
        db = self.db
        if self.saved is None or not self.saved.is_file():
            return False
        try:
            db.execute("ATTACH DATABASE ? AS saved", (str(self.saved),))
            db.execute("SELECT manifest, head FROM saved.meta").fetchall()
            db.execute("SELECT name, sha256, bytes, type, language, json, key, pretty, row, id, title "
                       "FROM saved.documents LIMIT 1").fetchall()
            db.execute("SELECT name, json FROM saved.deleted LIMIT 1").fetchall()
            return True
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("DETACH DATABASE saved")
            return False

    def _create_whole(self) -> None:
        """Create ``whole``: the written documents, those taken from the saved state (no ``pretty``) as it has them."""
        columns = ", ".join(f"coalesce(w.{c}, s.{c}) AS {c}" for c in (
            "sha256", "bytes", "type", "language", "json", "key", "pretty", "row", "id", "title"))
        self.db.execute(f"CREATE TEMP VIEW whole AS SELECT w.seq, w.name, {columns} "
                        "FROM written AS w LEFT JOIN saved.documents AS s ON w.pretty IS NULL AND s.name = w.name")

    def _load_saved(self, manifest: Path) -> bool:
        """Take what the manifest lists from the state its run saved, when the manifest is the one it wrote.

        The saved state holds each document's entry as the manifest gives it, so this lists
        exactly what reading the manifest would (each file still checked against its
        digest), without parsing it; it also holds what the run's record gave for each
        document, so an unchanged source needs neither its record nor a new encoding.
        """
        db = self.db
        try:
            meta = db.execute("SELECT manifest FROM saved.meta").fetchall()
            if len(meta) != 1 or meta[0][0] != self.digests.sha256(str(manifest)):
                return False
        except (OSError, sqlite3.Error):
            return False
        db.execute("SAVEPOINT saved")
        try:
            db.execute("INSERT INTO before SELECT name, id, title FROM saved.documents")
            there = [(name,) for name, sha256, nbytes in db.execute("SELECT name, sha256, bytes FROM saved.documents")
                     if self._exact(name, {"bytes": nbytes, "sha256": sha256}) is not None]
            db.executemany("INSERT INTO listed SELECT name, sha256, bytes, type, language, json, key "
                           "FROM saved.documents WHERE name = ?", there)
            db.execute("INSERT INTO deleted SELECT name, json FROM saved.deleted")
        except sqlite3.Error:
            db.execute("ROLLBACK TO saved")
            db.execute("RELEASE saved")
            return False
        db.execute("RELEASE saved")
        return True

    def save(self, manifest_sha256: str, head: str, tombstones: Iterable[dict[str, Any]]) -> None:
        """Save this run's documents for the next run, with the sha256 of the manifest they make and its head.

        The state is written to a temporary database and renamed over the old one, so it is
        whole or absent; it is scratch (in the disk cache): a state that cannot be written
        only costs the next run a reading of the manifest. When the run took most of its
        documents from the state it found, the new one is a copy of that file with this
        run's changes, instead of every document written again.
        """
        if self.saved is None or self._saved_still_true(manifest_sha256):
            return
        tmp = self.saved.with_name(f".{self.saved.name}.{os.getpid()}.tmp")
        try:
            self.saved.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                tmp.unlink()
            patch = self._mostly_taken()
            if patch:  # nothing writes the state meanwhile: this run holds a read transaction on it
                import shutil

                shutil.copyfile(self.saved, tmp)
            out = sqlite3.connect(tmp, isolation_level=None)
            with contextlib.closing(out):
                if not patch:
                    out.executescript(_SAVED)
                out.execute("BEGIN")
                if patch:  # keep the documents taken as they are; the others go or are written anew below
                    out.executemany("DELETE FROM documents WHERE name = ?", self.db.execute(
                        "SELECT name FROM saved.documents WHERE name NOT IN (SELECT name FROM written "
                        "WHERE pretty IS NULL)"))
                    for table in ("meta", "deleted"):
                        out.execute(f"DELETE FROM {table}")
                out.execute("INSERT INTO meta VALUES (?, ?)", (manifest_sha256, head))
                out.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.db.execute(
                    "SELECT name, sha256, bytes, type, language, json, key, pretty, row, id, title FROM "
                    f"{'written WHERE pretty IS NOT NULL AND' if patch else 'whole WHERE'} "
                    "json IS NOT NULL AND key IS NOT NULL"))
                out.executemany("INSERT OR REPLACE INTO deleted VALUES (?, ?)",
                                ((str(t["tei_path"]), compact_json(t)) for t in tombstones))
                out.execute("COMMIT")
            os.replace(tmp, self.saved)
        except (OSError, sqlite3.Error):
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                self.saved.unlink()  # an old state would not match the new manifest anyway

    def _mostly_taken(self) -> bool:
        """Return True when this run took more than half the saved state's documents as they are."""
        if not self._saved_usable or self.saved is None or not self.saved.is_file():
            return False
        taken = self.db.execute("SELECT count(*) FROM written WHERE pretty IS NULL").fetchone()[0]
        return bool(2 * taken > self.db.execute("SELECT count(*) FROM saved.documents").fetchone()[0])

    def _saved_still_true(self, manifest_sha256: str) -> bool:
        """Return True when the saved state describes this run already: same manifest, every document taken from it."""
        return (self._all_taken()
                and self.db.execute("SELECT 1 FROM saved.meta WHERE manifest = ?", (manifest_sha256,)).fetchone()
                is not None)

    def _all_taken(self) -> bool:
        """Return True when this run's documents are exactly the saved state's, each taken from it as it is."""
        db = self.db
        return (self._saved_usable
                and db.execute("SELECT 1 FROM written WHERE pretty IS NOT NULL LIMIT 1").fetchone() is None
                and db.execute("SELECT count(*) FROM written").fetchone()[0]
                == db.execute("SELECT count(*) FROM saved.documents").fetchone()[0])

    def same_manifest(self, head: str) -> str | None:
        """Return the sha256 of the folder's manifest when it is already the one this run would write; else None.

        It is when the run took every document of the saved state as it is and nothing
        else (so the documents are the same, in the same order), the head is the same, and
        the manifest is still the file whose sha256 the state was saved with. Writing it again
        would only read it back to find the same bytes.
        """
        if not self._all_taken():
            return None
        row = self.db.execute("SELECT manifest FROM saved.meta WHERE head = ?", (head,)).fetchone()
        if row is None:
            return None
        try:
            return str(row[0]) if self.digests.sha256(os.path.join(self.folder, MANIFEST_NAME)) == row[0] else None
        except OSError:
            return None

    @staticmethod
    def _items(fh: BinaryIO, key: str) -> Iterator[Any]:
        """Yield the items of a top-level list of the manifest (a pass over the file, skipped when
        the key's name is nowhere in it: most manifests have no journal and no tombstones)."""
        import ijson

        if not _mentions(fh, f'"{key}"'.encode()):
            return
        fh.seek(0)
        yield from ijson.items(fh, f"{key}.item", use_float=True)

    def _found(self, entry: object) -> None:
        if not isinstance(entry, dict):
            return
        tei = entry.get("tei")
        name = tei.get("path") if isinstance(tei, dict) else None
        if name is None:
            return
        self.db.execute("INSERT OR REPLACE INTO before VALUES (?, ?, ?)",
                        (str(name), _text(entry.get("id")) or "", _text(entry.get("title")) or ""))
        sha = self._exact(name, tei)  # type: ignore[arg-type]
        if sha is not None:
            self.db.execute("INSERT OR REPLACE INTO listed (name, sha256, bytes, type, language, json) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (
                name, sha, _int(tei.get("bytes")), _text(entry.get("type")),  # type: ignore[union-attr]
                _text(entry.get("language")), compact_json(entry)))

    def _exact(self, name: object, tei: dict[str, Any]) -> str | None:
        """Return the sha256 of an entry's file when the file is there with the entry's digest."""
        if not isinstance(name, str) or "/" in name or name.startswith(".") or not name:
            return None
        try:
            path = os.path.join(self.folder, name)
            size = tei.get("bytes")
            digest = self.digests.sha256(path, limit=size if isinstance(size, int) else None)
            if digest is None:  # larger than the entry says
                return None
        except (OSError, ValueError):
            return None
        return digest if digest == tei.get("sha256") else None

    # -- the documents listed as there, and the journal -------------------------------------

    def listed_entry(self, name: str) -> tuple[str, str] | None:
        """Return (sha256, compact entry) of a listed file, or None when it is not listed."""
        row = self.db.execute("SELECT sha256, json FROM listed WHERE name = ?", (name,)).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def begin(self, batch: Iterable[Staged], removed: Iterable[str] = ()) -> bool:
        """Move the files about to be replaced or removed to ``pending``; return True when there are any."""
        db = self.db
        for s in batch:
            if s.tmp is None:
                continue  # the file is already there with these bytes: it is not rewritten
            db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?)", (s.name, s.entry, self._take(s.name)))
        for name in removed:
            previous = self._take(name)
            if previous is not None:
                db.execute("INSERT OR REPLACE INTO pending VALUES (?, NULL, ?)", (name, previous))
        return self.has_pending()

    def _take(self, name: str) -> str | None:
        row = self.db.execute("SELECT json FROM listed WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM listed WHERE name = ?", (name,))
        self.size -= 1
        return str(row[0])

    def finish(self, batch: Iterable[Staged]) -> None:
        """List the batch's files as there (they are in place) and clear the journal."""
        db = self.db
        changed = [s for s in batch if not s.listed]
        for s in changed:
            self.size += db.execute("SELECT 1 FROM listed WHERE name = ?", (s.name,)).fetchone() is None
        db.executemany("INSERT OR REPLACE INTO listed (name, sha256, bytes, type, language, json) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [(s.name, s.sha256, s.bytes, s.type, s.language, s.entry)
                                                     for s in changed])
        db.execute("DELETE FROM pending")

    def has_pending(self) -> bool:
        return self.db.execute("SELECT 1 FROM pending LIMIT 1").fetchone() is not None

    def listed(self) -> Iterator[str]:
        """Yield the entries listed as there, by file name, as compact JSON."""
        for (text,) in self.db.execute("SELECT json FROM listed ORDER BY name"):
            yield text

    def pending(self) -> Iterator[str]:
        """Yield the journal's items, by file name, as compact JSON."""
        for document, previous in self.db.execute("SELECT document, previous FROM pending ORDER BY name"):
            yield f'{{"document":{document or "null"},"previous":{previous or "null"}}}'

    def listed_totals(self) -> Totals:
        return self._totals("listed")

    def earlier_tombstones(self) -> list[dict[str, Any]]:
        """Return the tombstones the old manifest kept."""
        return [json.loads(text) for (text,) in self.db.execute("SELECT json FROM deleted ORDER BY name")]

    # -- this run's sources and documents ---------------------------------------------------

    def claim(self, key: str, name: str, display: str) -> str | None:
        """Record a source's output name; return the source already holding its clash key, if any."""
        if self.db.execute("INSERT OR IGNORE INTO current VALUES (?, ?, ?)", (key, name, display)).rowcount:
            return None
        return str(self.db.execute("SELECT display FROM current WHERE key = ?", (key,)).fetchone()[0])

    def add_current(self, name: str) -> None:
        """Record the output name of a source that clashed (its name still counts as the corpus's)."""
        self.db.execute("INSERT OR IGNORE INTO current VALUES (?, ?, '')", ("\0" + name, name))

    def gone(self) -> list[tuple[str, str]]:
        """Return the listed files (name, sha256) that no source of this run writes."""
        return [(str(n), str(s)) for n, s in self.db.execute(
            "SELECT name, sha256 FROM listed WHERE name NOT IN (SELECT name FROM current) ORDER BY name")]

    def add_written(self, seq: int, name: str, nbytes: int, doc_type: str, language: str, pretty: str,
                    row: tuple[str, ...], saved: Saved | None = None) -> None:
        """Record the document of this run's source number seq: its entry for the finished manifest and its row of
        the table.

        ``saved``: what the next run needs to take the document as it is (see ``save``).
        """
        more = (saved.sha256, saved.entry, saved.key, saved.doc_id, saved.title) if saved else (None,) * 5
        self.db.execute("INSERT INTO written (seq, name, bytes, type, language, pretty, row, sha256, json, key, id, "
                        "title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (seq, name, nbytes, doc_type, language, pretty, pickle.dumps(row, protocol=5), *more))

    def take_unchanged(self, seq: int, name: str, key: str) -> bool:
        """Take the document of source number seq as the saved state has it, when its file is listed as there,
        written from the record of key; return False (nothing taken) otherwise.

        Only its name is recorded in ``written``: ``whole`` gives the rest from the saved state.
        """
        return self._saved_usable and self.db.execute(
            "INSERT INTO written (seq, name) SELECT ?, name FROM listed WHERE name = ? AND key = ?",
            (seq, name, key)).rowcount > 0

    def written(self) -> Iterator[str]:
        """Yield this run's entries, by file name, indented as the finished manifest writes them."""
        for (text,) in self.db.execute("SELECT pretty FROM whole ORDER BY name"):
            yield text

    def written_totals(self) -> Totals:
        return self._totals("whole")

    def rows(self) -> Iterator[tuple[str, ...]]:
        """Yield this run's rows of the end-of-run table, in source order."""
        for (data,) in self.db.execute("SELECT row FROM whole ORDER BY seq"):
            yield tuple(pickle.loads(data))

    def tombstones(self, timestamp: str) -> list[dict[str, Any]]:
        """Return the corpus's tombstones: every document listed once and not written now.

        A tombstone keeps the date of the run that first left the document out; a document
        that is written again loses its tombstone.
        """
        db = self.db
        out: dict[str, dict[str, Any]] = {}
        for name, text in db.execute("SELECT name, json FROM deleted WHERE name NOT IN (SELECT name FROM written)"):
            out[name] = json.loads(text)
        for name, doc_id, title in db.execute(
                "SELECT name, id, title FROM before WHERE name NOT IN (SELECT name FROM written)"):
            if name not in out:
                out[name] = {"id": doc_id, "tei_path": name, "title": title, "deleted": timestamp}
        return [out[name] for name in sorted(out)]

    def _totals(self, table: str) -> Totals:
        count = nbytes = 0
        languages: dict[str, int] = {}
        types: dict[str, int] = {}
        for language, doc_type, n, size in self.db.execute(
                f"SELECT language, type, count(*), coalesce(sum(bytes), 0) FROM {table} GROUP BY language, type"):
            count += n
            nbytes += size
            if language is not None:
                languages[language] = languages.get(language, 0) + n
            if doc_type is not None:
                types[doc_type] = types.get(doc_type, 0) + n
        return Totals(count, nbytes, dict(sorted(languages.items())), dict(sorted(types.items())))

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.close()


def _mentions(fh: BinaryIO, needle: bytes, block: int = 1 << 20) -> bool:
    """Return True when the file holds needle (read in blocks: a mapped file would count as memory)."""
    fh.seek(0)
    tail = b""
    while True:
        chunk = fh.read(block)
        if not chunk:
            return False
        window = tail + chunk
        if needle in window:
            return True
        tail = window[-(len(needle) - 1):] if len(needle) > 1 else b""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
