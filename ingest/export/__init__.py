"""Exchange formats derived from a written corpus: ``tei-ingest export FORMAT -o DIR``.

Each format is a view of the manifest and the TEI files, never a second source of
truth: the corpus is read back and its fixity checked first (:func:`ingest.corpus.open_corpus`),
then every format writes its files sorted, dated from the build date
(``SOURCE_DATE_EPOCH``, else ``[build] source_date_epoch``, else the manifest's build
date), and atomically, so that a re-run gives the same bytes and a reader never sees
half an export.

=========  =====================  =============================================
format     written to DIR/        taken over by
=========  =====================  =============================================
bagit      ``bag/``               BagIt 1.0 (RFC 8493) with an RO-Crate in ``data/``
cmif       ``cmif.xml``           correspSearch (CMIF 1.1): the letters' correspDesc
oai        ``oai-pmh.xml``        an OAI-PMH Static Repository (oai_dc and TEI headers)
dc         ``dc/<stem>.xml``      Dublin Core (oai_dc) records, one per document
=========  =====================  =============================================
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from ..config import BuildInfo, CorpusConfig, build_info
from ..errors import ConfigError, CorpusError, Issue, OutputError

if TYPE_CHECKING:  # the corpus reader is imported when an export runs, not when the command line starts
    from ..corpus import Corpus

#: Every format, in the order ``all`` writes them, with what it is.
FORMATS: dict[str, str] = {
    "bagit": "BagIt 1.0 bag of the corpus (TEI files and manifest) with an RO-Crate: DIR/bag/",
    "cmif": "Correspondence Metadata Interchange Format 1.1 of the letters: DIR/cmif.xml",
    "oai": "OAI-PMH Static Repository (oai_dc and tei headers): DIR/oai-pmh.xml",
    "dc": "Dublin Core records (oai_dc), one per document: DIR/dc/<stem>.xml",
}


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What every format is made from: the verified corpus, the configuration, the build date."""

    corpus: Corpus
    config: CorpusConfig
    build: BuildInfo


class _Writer(Protocol):
    def __call__(self, ctx: ExportContext, out_dir: Path) -> list[Path]: ...


def export_build(env: Mapping[str, str], config: CorpusConfig, manifest_date: str) -> BuildInfo:
    """Return the export's build date: SOURCE_DATE_EPOCH, the configured epoch, else the manifest's."""
    if env.get("SOURCE_DATE_EPOCH", "").strip() or config.source_date_epoch is not None:
        return build_info(env, config, [])
    try:
        when = dt.datetime.strptime(manifest_date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ConfigError(Issue("config.epoch", "manifest.json", f"build_date {manifest_date!r} is not "
                                "YYYY-MM-DDThh:mm:ssZ; set SOURCE_DATE_EPOCH")) from None
    return build_info({"SOURCE_DATE_EPOCH": str(int(when.timestamp()))}, config, [])


def make_context(corpus_dir: Path, config: CorpusConfig, env: Mapping[str, str]) -> ExportContext:
    """Read and verify the corpus; return what the formats are made from."""
    from ..corpus import open_corpus

    corpus = open_corpus(corpus_dir)
    return ExportContext(corpus, config, export_build(env, config, corpus.info["build_date"]))


def writer(name: str) -> _Writer:
    """Return the ``write(ctx, out_dir)`` function of a format."""
    if name not in FORMATS:
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name}")
    return module.write  # type: ignore[no-any-return]


def export(names: list[str], ctx: ExportContext, out_dir: Path) -> list[Path]:
    """Write the given formats into ``out_dir``; return what was written."""
    written: list[Path] = []
    for name in names:
        written.extend(writer(name)(ctx, out_dir))
    return written


def write_file(path: Path, data: bytes) -> Path:
    """Write one file of an export atomically (the folder is created); return its path."""
    from ..serialize import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(Issue("output.write", path.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    return path


def write_chunks(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write one file of an export atomically from its chunks, never holding it whole; return its path."""
    from ..serialize import write_atomic_chunks

    try:
        write_atomic_chunks(path, chunks)
    except OSError as exc:
        raise OutputError(Issue("output.write", path.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    return path


@dataclass(frozen=True, slots=True)
class FileCopy:
    """A file of an export that is a copy of a corpus file: its size and sha256, checked as it is copied."""

    source: Path
    size: int
    sha256: str

    def copy_to(self, fh: BinaryIO) -> None:
        """Copy the file into ``fh``; raise :class:`CorpusError` if it is no longer what it was."""
        digest = hashlib.sha256()
        size = 0
        try:
            src = self.source.open("rb")
        except OSError as exc:
            raise CorpusError(Issue("fixity.unreadable", self.source.as_posix(),
                                    f"cannot be read: {exc.strerror}")) from None
        with src:
            while True:
                try:
                    block = src.read(_BLOCK)
                except OSError as exc:
                    raise CorpusError(Issue("fixity.unreadable", self.source.as_posix(),
                                            f"cannot be read: {exc.strerror}")) from None
                if not block:
                    break
                digest.update(block)
                size += len(block)
                fh.write(block)
        if size != self.size or digest.hexdigest() != self.sha256:
            raise CorpusError(Issue("fixity.changed", self.source.as_posix(),
                                    "changed while the export was being written; run the export again"))

    def same_as(self, path: Path) -> bool:
        """Return True when ``path`` holds the bytes this copy would write."""
        if path.stat().st_size != self.size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                digest.update(block)
        return digest.hexdigest() == self.sha256


_BLOCK = 1 << 20


def write_folder(target: Path, files: Mapping[str, bytes | FileCopy]) -> Path:
    """Write ``files`` (relative POSIX paths) as the folder ``target``, replacing it whole.

    A file is given as its bytes, or as a :class:`FileCopy` of a corpus file, copied a
    block at a time. The new folder is built beside the old one and renamed into place,
    so a reader sees the old folder or the new one, never a mixture; nothing is rewritten
    when the folder already holds exactly these files.
    """
    for rel in files:
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            raise ValueError(f"{rel!r} is not a path inside the folder")
    if _holds_exactly(target, files):
        return target
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(Issue("output.write", parent.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    old = parent / f".{target.name}.old-{os.getpid()}"
    try:
        os.chmod(tmp, 0o755)
        for rel in sorted(files):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                content = files[rel]
                if isinstance(content, FileCopy):
                    content.copy_to(fh)
                else:
                    fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(path, 0o644)
        if target.exists():
            os.rename(target, old)
        os.rename(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.rename(old, target)
        if not isinstance(exc, OSError):
            raise
        raise OutputError(Issue("output.write", target.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
    return target


def _holds_exactly(target: Path, files: Mapping[str, bytes | FileCopy]) -> bool:
    if not target.is_dir():
        return False
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file() or p.is_symlink()}
    if present != set(files):
        return False
    try:
        return all(data.same_as(target / rel) if isinstance(data, FileCopy) else (target / rel).read_bytes() == data
                   for rel, data in files.items())
    except OSError:
        return False
