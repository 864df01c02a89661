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
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .errors import CorpusError, Issue
from .manifest import DIGESTS, MANIFEST_NAME, check_manifest

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


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check ``folder/manifest.json``; raise :class:`CorpusError` when it is unusable."""
    path = folder / MANIFEST_NAME
    shown = path.as_posix()
    if not folder.is_dir():
        raise CorpusError(Issue("corpus.missing", folder.as_posix(), "is not a folder; give the folder "
                                "`tei-ingest ingest -o DIR` wrote"))
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CorpusError(Issue("manifest.missing", shown, "does not exist; run `tei-ingest ingest` first")) from None
    except OSError as exc:
        raise CorpusError(Issue("manifest.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
    except ValueError as exc:
        raise CorpusError(Issue("manifest.invalid", shown, f"is not JSON: {exc}")) from None
    problems = check_manifest(manifest)
    if problems:
        raise CorpusError(*(Issue("manifest.schema", shown, p) for p in problems[:20]))
    return manifest  # type: ignore[no-any-return]


def _listed_name(entry: dict[str, Any]) -> str:
    name = str(entry["tei"]["path"])
    # The manifest names files inside the folder; anything else is refused, never followed.
    if not name or "/" in name or "\\" in name or name.startswith(".") or name == MANIFEST_NAME:
        raise CorpusError(Issue("manifest.path", name, "is not a file name inside the corpus folder"))
    return name


def check_fixity(folder: Path, manifest: dict[str, Any]) -> Fixity:
    """Compare the folder with its manifest: sizes and every digest of every listed file.

    The files an interrupted run left under ``pending`` are checked against both states
    the journal gives for them (written, or as before); in neither, they are changed.
    """
    listed: dict[str, dict[str, Any]] = {}
    for entry in manifest["documents"]:
        listed[_listed_name(entry)] = entry["tei"]
    journal: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for item in manifest.get("pending", []):
        new, old = item["document"], item["previous"]
        name = _listed_name(new or old)
        journal[name] = (new["tei"] if new else None, old["tei"] if old else None)
    changed: list[tuple[str, str]] = []
    missing: list[str] = []
    pending: list[tuple[str, str]] = []
    for name in sorted(listed):
        data = _read(folder / name)
        if data is None:
            missing.append(name)
        elif isinstance(data, str):
            changed.append((name, data))
        else:
            why = _differs(data, listed[name])
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
    manifest: dict[str, Any]
    _trees: OrderedDict[str, etree._ElementTree] = field(default_factory=OrderedDict, repr=False)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Return the manifest entries of the documents, sorted by file name."""
        return sorted(self.manifest["documents"], key=lambda e: e["tei"]["path"])

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
