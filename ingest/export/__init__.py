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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from ..config import BuildInfo, CorpusConfig, build_info
from ..errors import ConfigError, CorpusError, Issue, OutputError
from ..formats import FORMATS

if TYPE_CHECKING:  # the corpus reader is imported when an export runs, not when the command line starts
    from ..corpus import Corpus


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


def write_chunks(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write one file of an export atomically from its chunks, never holding it whole; return its path."""
    from ..serialize import write_atomic_chunks

    try:
        write_atomic_chunks(path, chunks)
    except OSError as exc:
        raise OutputError(Issue("output.write", path.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    return path


class StagedFolder:
    """A folder being written beside its final place: files are added one at a time."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.names: set[str] = set()

    def _open(self, rel: str) -> BinaryIO:
        if not rel or rel.startswith("/") or ".." in rel.split("/") or rel in self.names:
            raise ValueError(f"{rel!r} is not a path inside the folder, or is given twice")
        self.names.add(rel)
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")

    def add(self, rel: str, data: bytes) -> None:
        """Write one file of the folder (a relative POSIX path) with these bytes."""
        self.write(rel, [data])

    def write(self, rel: str, chunks: Iterable[bytes], algorithms: Iterable[str] = ()) -> tuple[int, dict[str, str]]:
        """Write one file from its chunks, never held whole; return its size and digests (``algorithms``)."""
        digests = {a: hashlib.new(a) for a in algorithms}
        size = 0
        with self._open(rel) as fh:
            for chunk in chunks:
                for d in digests.values():
                    d.update(chunk)
                size += len(chunk)
                fh.write(chunk)
            _finish(fh)
        os.chmod(self.tmp / rel, 0o644)
        return size, {a: d.hexdigest() for a, d in digests.items()}

    def copy(self, rel: str, source: Path, size: int, sha256: str, changed: str,
             algorithms: Iterable[str] = ()) -> dict[str, str]:
        """Copy a corpus file into the folder, a block at a time; return its digests (``algorithms``).

        The copy must have the size and sha256 given (the manifest's); if not, the file
        changed since the corpus was checked and :class:`CorpusError` says so (``changed``).
        """
        shown = source.as_posix()
        try:
            src = source.open("rb")
        except OSError as exc:
            raise CorpusError(Issue("fixity.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
        with src:
            copied, digests = self.write(rel, _blocks(src, shown), {"sha256", *algorithms})
        if copied != size or digests["sha256"] != sha256:
            raise CorpusError(Issue("fixity.changed", shown, changed))
        return digests


def _blocks(src: BinaryIO, shown: str) -> Iterator[bytes]:
    """Yield a file's bytes a block at a time; a read that fails is a :class:`CorpusError`."""
    while True:
        try:
            block = src.read(_BLOCK)
        except OSError as exc:
            raise CorpusError(Issue("fixity.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
        if not block:
            return
        yield block


def _finish(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())


_BLOCK = 1 << 20


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[StagedFolder]:
    """Build the folder ``target`` file by file, then put it in place whole.

    The new folder is built beside the old one and renamed into place when the block
    ends, so a reader sees the old folder or the new one, never a mixture; when the old
    folder already holds exactly the same files it is left untouched (and the new one
    removed). If the block fails, the old folder stays as it was.
    """
    parent = target.parent
    created = [p for p in (parent, *parent.parents) if not p.exists()]  # removed again if the block fails
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(Issue("output.write", parent.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    old = parent / f".{target.name}.old-{os.getpid()}"
    try:
        os.chmod(tmp, 0o755)
        folder = StagedFolder(tmp)
        yield folder
        if _same_files(tmp, target, folder.names):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if target.exists():
            os.rename(target, old)
        os.rename(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.rename(old, target)
        for folder_made in created:
            with contextlib.suppress(OSError):
                folder_made.rmdir()
        if not isinstance(exc, OSError):
            raise
        raise OutputError(Issue("output.write", target.as_posix(), f"cannot be written ({exc.strerror or exc})")) \
            from None
    with contextlib.suppress(OSError):
        shutil.rmtree(old)


def write_folder(target: Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> Path:
    """Write ``files`` (relative POSIX paths, with their bytes) as the folder ``target``, replacing it whole.

    ``files`` may be a generator: each file is written as it comes (see :func:`staged_folder`).
    """
    with staged_folder(target) as folder:
        for rel, data in (files.items() if isinstance(files, Mapping) else files):
            folder.add(rel, data)
    return target


def _same_files(new: Path, target: Path, names: set[str]) -> bool:
    """Return True when the folder ``target`` holds exactly the files of ``new``, byte for byte."""
    if not target.is_dir():
        return False
    try:
        present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file() or p.is_symlink()}
        return present == names and all(_same_bytes(new / rel, target / rel) for rel in sorted(names))
    except OSError:
        return False


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(_BLOCK)
            if block != fb.read(_BLOCK):
                return False
            if not block:
                return True
