"""A written corpus read back: its manifest, its TEI files and their fixity.

This is what ``verify``, ``export`` and ``serve`` start from. The manifest is the
record of what the corpus holds; every file it lists is checked against its size,
sha256 and sha512 before anything is derived from it, so an export never carries a
file that changed since it was written. TEI files are parsed with the hardened parser
(no network, no DTD, no entity declarations).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from .errors import CorpusError, Issue
from .ledger import compact_json, scratch_database
from .manifest import DIGESTS, MANIFEST_NAME, check_document_entry, check_manifest

TEI_NS = "http://www.tei-c.org/ns/1.0"
NS = {"tei": TEI_NS}


@dataclass(frozen=True, slots=True)
class Fixity:
    """The result of checking a corpus folder against its manifest."""

    checked: int
    changed: tuple[tuple[str, str], ...] = ()  # (file, what differs)
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()  # (file, its state) of an interrupted run's journal

    @property
    def ok(self) -> bool:
        """Return True when every listed file is there, unchanged, nothing else is, and no run was interrupted."""
        return not (self.changed or self.missing or self.unexpected or self.pending)

    def issues(self, folder: str) -> list[Issue]:
        """Return one issue per problem, naming the file."""
        out = [Issue("fixity.changed", f"{folder}/{name}", why) for name, why in self.changed]
        out += [Issue("fixity.missing", f"{folder}/{name}", "is listed in the manifest but not there")
                for name in self.missing]
        out += [Issue("fixity.unexpected", f"{folder}/{name}", "is there but not listed in the manifest")
                for name in self.unexpected]
        out += [Issue("fixity.pending", f"{folder}/{name}", f"was being written by a run that was interrupted "
                      f"({state}); run `tei-ingest ingest` again to complete the corpus")
                for name, state in self.pending]
        return out


class Manifest:
    """A corpus manifest read once, as a stream: its head in memory, its entries on disk.

    The document entries (about 1.7 KB of JSON each) go to a private temporary database
    (in memory up to a few MB, then in SQLite's temporary folder, deleted when the
    manifest is closed or collected) and come back one at a time, sorted by TEI file
    name, so that a corpus of 100,000 documents is read in bounded memory. Everything
    else (the corpus description, totals, rejections, tombstones, journal) is small and
    kept as parsed. ``manifest[key]`` and ``manifest.get(key)`` read the head.
    """

    def __init__(self, head: dict[str, Any], db: sqlite3.Connection, count: int, sha256: str, size: int) -> None:
        self.head = head
        self._db = db
        #: how many document entries the manifest has
        self.count = count
        #: the sha256 and the size of the file's bytes, as they were read
        self.sha256 = sha256
        self.size = size

    def __getitem__(self, key: str) -> Any:
        return self.head[key]

    def __contains__(self, key: object) -> bool:
        return key in self.head

    def get(self, key: str, default: Any = None) -> Any:
        """Return a part of the manifest other than its documents."""
        return self.head.get(key, default)

    def documents(self) -> Iterator[dict[str, Any]]:
        """Yield the document entries, sorted by TEI file name (in the manifest's order among equals)."""
        cursor = self._db.execute("SELECT json FROM documents ORDER BY path, seq")
        while rows := cursor.fetchmany(256):
            for (text,) in rows:
                yield json.loads(text)

    def close(self) -> None:
        """Release the database (its file is deleted)."""
        self._db.close()


class Documents:
    """The document entries of a manifest, sorted by TEI file name: iterated afresh each time."""

    def __init__(self, manifest: Manifest) -> None:
        self._manifest = manifest

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._manifest.documents()

    def __len__(self) -> int:
        return self._manifest.count

    def __bool__(self) -> bool:
        return self._manifest.count > 0


class _Hashing:
    """A file read through, with the sha256 and the size of what was read."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


_MAX_PROBLEMS = 20


def read_manifest(folder: Path) -> Manifest:
    """Read and check ``folder/manifest.json``; raise :class:`CorpusError` when it is unusable.

    The schema checks the head and then each entry as it is read (the verdict is the
    whole manifest's: the schema constrains each entry on its own).
    """
    import ijson  # type: ignore[import-untyped]

    path = folder / MANIFEST_NAME
    shown = path.as_posix()
    if not folder.is_dir():
        raise CorpusError(Issue("corpus.missing", folder.as_posix(), "is not a folder; give the folder "
                                "`tei-ingest ingest -o DIR` wrote"))
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise CorpusError(Issue("manifest.missing", shown, "does not exist; run `tei-ingest ingest` first")) from None
    except OSError as exc:
        raise CorpusError(Issue("manifest.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
    db = scratch_database(8192, shared=True)  # the data provider answers from several threads
    db.execute("CREATE TABLE documents (path TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL)")
    problems: list[str] = []
    try:
        with fh:
            reader = _Hashing(fh)
            try:
                head, count = _stream(ijson.parse(reader, use_float=True), db, problems)
            except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeError, ValueError) as exc:
                raise CorpusError(Issue("manifest.invalid", shown, f"is not JSON: {exc}")) from None
            except OSError as exc:
                raise CorpusError(Issue("manifest.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
        if head is None:  # not an object: the schema says what is wrong with it
            problems[:0] = check_manifest(json.loads(path.read_bytes()))
        else:  # its documents, when a list, are an empty one here: each entry was checked as it came
            problems[:0] = check_manifest(head)
        if problems:
            raise CorpusError(*(Issue("manifest.schema", shown, p) for p in problems[:_MAX_PROBLEMS]))
        twice = [name for (name,) in db.execute(
            "SELECT path FROM documents GROUP BY path HAVING count(*) > 1 ORDER BY path LIMIT 20")]
        if twice:
            raise CorpusError(*(Issue("manifest.duplicate", shown, f"lists {name} more than once in its documents")
                                for name in twice))
    except BaseException:
        db.close()
        raise
    assert head is not None
    head.pop("documents", None)
    return Manifest(head, db, count, reader.digest.hexdigest(), reader.size)


def _stream(events: Iterator[tuple[str, str, Any]], db: sqlite3.Connection,
            problems: list[str]) -> tuple[dict[str, Any] | None, int]:
    """Read a manifest's parse events: return its head and how many entries went to the database.

    The head is None when the manifest is not a JSON object.
    """
    first = next(events, None)
    if first is None or first[1] != "start_map":
        for _ in events:  # the rest must parse, or it is not JSON
            pass
        return None, 0
    head: dict[str, Any] = {}
    count = 0
    db.execute("BEGIN")
    for prefix, event, value in events:
        if event == "end_map" and prefix == "":
            break
        key = value  # a map_key of the top-level object
        if key == "documents":
            kind = next(events)
            if kind[1] != "start_array":
                head[key] = _build(kind, events)
                continue
            head[key] = []
            for item in _items(events):
                where = f"documents/{count}"
                if len(problems) < _MAX_PROBLEMS:
                    problems.extend(check_document_entry(item, where))
                tei = item.get("tei") if isinstance(item, dict) else None
                name = tei.get("path") if isinstance(tei, dict) else None
                db.execute("INSERT INTO documents VALUES (?, ?, ?)", (str(name), count, compact_json(item)))
                count += 1
        else:
            head[key] = _build(next(events), events)
    for _ in events:  # nothing may follow the object but white space
        pass
    db.execute("COMMIT")
    return head, count


def _items(events: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    """Yield the items of the array whose start_array was just read."""
    for event in events:
        if event[1] == "end_array":
            return
        yield _build(event, events)


def _build(first: tuple[str, str, Any], events: Iterator[tuple[str, str, Any]]) -> Any:
    """Return the JSON value that starts with the event ``first``."""
    import ijson

    builder = ijson.ObjectBuilder()
    depth = 0
    event: tuple[str, str, Any] | None = first
    while event is not None:
        _, kind, value = event
        builder.event(kind, value)
        if kind in ("start_map", "start_array"):
            depth += 1
        elif kind in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return builder.value
        event = next(events)
    return builder.value


def _listed_name(entry: dict[str, Any]) -> str:
    name = str(entry["tei"]["path"])
    # The manifest names files inside the folder; anything else is refused, never followed.
    if not name or "/" in name or "\\" in name or name.startswith(".") or name == MANIFEST_NAME:
        raise CorpusError(Issue("manifest.path", name, "is not a file name inside the corpus folder"))
    return name


def check_fixity(folder: Path, manifest: Manifest) -> Fixity:
    """Compare the folder with its manifest: sizes and every digest of every listed file.

    The files an interrupted run left under ``pending`` are checked against both states
    the journal gives for them (written, or as before); in neither, they are changed.
    """
    journal: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for item in manifest.get("pending", []):
        new, old = item["document"], item["previous"]
        name = _listed_name(new or old)
        journal[name] = (new["tei"] if new else None, old["tei"] if old else None)
    changed: list[tuple[str, str]] = []
    missing: list[str] = []
    pending: list[tuple[str, str]] = []
    listed: set[str] = set()
    for entry in manifest.documents():  # sorted by name
        name = _listed_name(entry)
        listed.add(name)
        data = _read(folder / name)
        if data is None:
            missing.append(name)
        elif isinstance(data, str):
            changed.append((name, data))
        else:
            why = _differs(data, entry["tei"])
            if why:
                changed.append((name, why))
    for name in sorted(journal):
        new_state, old_state = journal[name]
        data = _read(folder / name)
        if isinstance(data, str):
            changed.append((name, data))
        elif data is None:
            if new_state is not None and old_state is not None:
                changed.append((name, "is not there, though the interrupted run's journal says it was being replaced"))
            else:
                pending.append((name, "not written yet" if new_state else "removed"))
        elif new_state is not None and not _differs(data, new_state):
            pending.append((name, "written"))
        elif old_state is not None and not _differs(data, old_state):
            pending.append((name, "not replaced yet" if new_state else "not removed yet"))
        else:
            changed.append((name, "matches neither state the interrupted run's journal gives for it"))
    unexpected = sorted(
        rel for rel in _files(folder) if rel != MANIFEST_NAME and rel not in listed and rel not in journal
    )
    return Fixity(len(listed), tuple(sorted(changed)), tuple(missing), tuple(unexpected), tuple(pending))


def _read(path: Path) -> bytes | str | None:
    """Return a file's bytes, None when it is not there, or why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"


def _differs(data: bytes, want: dict[str, Any]) -> str:
    """Return how the bytes differ from a manifest's description of a file (empty: they do not)."""
    if len(data) != want["bytes"]:
        return f"is {len(data)} bytes, the manifest says {want['bytes']}"
    for algorithm in DIGESTS:
        if algorithm in want and hashlib.new(algorithm, data).hexdigest() != want[algorithm]:
            return f"its {algorithm} differs from the manifest's"
    return ""


def _files(folder: Path) -> Iterator[str]:
    """Yield every file below the folder, as a relative POSIX path (links are not followed)."""
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        rel_top = Path(top).relative_to(folder)
        for name in sorted(files):
            yield (rel_top / name).as_posix()


#: How many parsed TEI documents a :class:`Corpus` keeps (the most recently used).
TREES_KEPT = 32


@dataclass
class Corpus:
    """A corpus folder whose files match its manifest."""

    folder: Path
    manifest: Manifest
    _trees: OrderedDict[str, etree._ElementTree] = field(default_factory=OrderedDict, repr=False)

    @property
    def documents(self) -> Documents:
        """Return the manifest entries of the documents, sorted by file name (read afresh at each pass)."""
        return Documents(self.manifest)

    @property
    def info(self) -> dict[str, Any]:
        """Return the manifest's description of the corpus."""
        return self.manifest["corpus"]  # type: ignore[no-any-return]

    def tei_path(self, entry: dict[str, Any]) -> Path:
        """Return the path of a document's TEI file."""
        return self.folder / _listed_name(entry)

    def tei_bytes(self, entry: dict[str, Any]) -> bytes:
        """Return the bytes of a document's TEI file."""
        return self.tei_path(entry).read_bytes()

    def tree(self, entry: dict[str, Any]) -> etree._ElementTree:
        """Return a document's TEI, parsed safely.

        The last :data:`TREES_KEPT` trees are kept, so that the formats, which read one
        document at a time, ask for it twice without parsing it twice, while a corpus of
        any size is never held in memory whole.
        """
        name = _listed_name(entry)
        tree = self._trees.get(name)
        if tree is None:
            tree = self._trees[name] = parse_tei(self.tei_bytes(entry), (self.folder / name).as_posix())
            if len(self._trees) > TREES_KEPT:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(name)
        return tree

    def header(self, entry: dict[str, Any]) -> etree._Element:
        """Return a document's ``teiHeader``."""
        root = self.tree(entry).getroot()
        header = root.find(f"{{{TEI_NS}}}teiHeader")
        if header is None:
            raise CorpusError(Issue("tei.header", self.tei_path(entry).as_posix(), "has no teiHeader"))
        return header


def parse_tei(data: bytes, shown: str) -> etree._ElementTree:
    """Parse a TEI file of the corpus with the hardened parser; refuse entity declarations."""
    from .validate import parser_message, safe_parser

    if b"<!ENTITY" in data:
        raise CorpusError(Issue("xml.entities", shown, "declares entities in a DTD; entity declarations are refused "
                                "(they can expand without bound or read other files)"))
    try:
        return etree.ElementTree(etree.fromstring(data, safe_parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise CorpusError(Issue("xml.malformed", shown, parser_message(exc.msg), line)) from None


def open_corpus(folder: Path) -> Corpus:
    """Read a corpus folder and check its fixity; raise :class:`CorpusError` when it does not match."""
    manifest = read_manifest(folder)
    fixity = check_fixity(folder, manifest)
    if fixity.changed or fixity.missing or fixity.pending:
        issues = fixity.issues(folder.as_posix())
        raise CorpusError(*issues, Issue("fixity.failed", folder.as_posix(),
                                         "does not match its manifest; run `tei-ingest ingest` again, "
                                         "or `tei-ingest verify` for the full report"))
    return Corpus(folder, manifest)
