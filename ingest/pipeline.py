"""The ingest run: sources in, TEI documents and a manifest out.

Each document passes through its own error boundary: a source that cannot be read,
encoded or validated is reported and left out, and every other document is still
written. A document is written only when it is valid; the manifest is written last and
lists what was accepted and what was rejected, and why.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import pickle
import sqlite3
import sys
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from lxml import etree

from . import cache as disk
from .config import BuildInfo, CorpusConfig, build_info, load_config
from .describe import human_date, make_title
from .digests import DigestIndex
from .encode import document_id, encode
from .entities import Register, find_orgs, find_people
from .errors import (
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    IngestError,
    Issue,
    OutputError,
    SchemaError,
)
from .manifest import MANIFEST_NAME
from .model import Extraction, Party, PartyKind, Record, SourceDocument
from .serialize import stage_file, sync_files, sync_folder, to_bytes, write_atomic_chunks
from .sources import MAX_SOURCE_BYTES, read_source
from .validate import PROJECT_RNG, PROJECT_SCH, ProjectSchema, TeiAllSchema, Verdict, find_tei_all, schema_dir

__all__ = ["EXIT_CANNOT_RUN", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "make_record", "run"]

SOURCE_SUFFIXES = (".txt",)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source to ingest: its path and the form shown to the user.

    The path is kept as a string: a run holds one of these per source, and a ``Path``
    object costs several times the memory of its text.
    """

    location: str
    display: str

    @property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A document encoded, validated and written."""

    record: Record
    tei_name: str
    data: bytes
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A source that produced no document, and why."""

    display: str
    issues: tuple[Issue, ...]
    source: SourceDocument | None = None


@dataclass(frozen=True, slots=True)
class Encoded:
    """A document ready to be written: its bytes, its manifest entry and its row of the run's table.

    Workers send this back, and the record cache keeps it: everything the writing process
    needs, already encoded as text, so that it builds no objects per document.
    """

    tei_name: str
    data: bytes
    sha256: str
    entry: str  # the manifest entry, compact JSON (checkpoints)
    pretty: str  # the same, indented as the finished manifest writes it
    row: tuple[str, ...]
    type: str
    language: str
    doc_id: str
    title: str

    @classmethod
    def of(cls, a: Accepted) -> Encoded:
        from .ledger import compact_json, pretty_json
        from .manifest import document_entry

        entry = document_entry(a)
        return cls(a.tei_name, a.data, entry["tei"]["sha256"], compact_json(entry), pretty_json(entry),
                   summary_row(a), entry["type"], entry["language"], entry["id"], entry["title"])


@dataclass
class RunResult:
    """Everything a run produced, in source order.

    The documents written are in ``ledger`` (on disk, see ``ingest.ledger``), so that a
    run's memory does not grow with the corpus; ``rows`` reads their rows of the table back.
    """

    written: int = 0
    ledger: Any = None
    rejected: list[Rejected] = field(default_factory=list)
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    reused: int = 0  # documents taken from an earlier run, unchanged
    removed: list[str] = field(default_factory=list)  # outputs of sources that are gone
    deleted: list[dict[str, object]] = field(default_factory=list)  # tombstones: once listed, listed no more

    @property
    def exit_code(self) -> int:
        """Return 0 when every source was written and valid, else 1."""
        return EXIT_FAILED if self.rejected else EXIT_OK


def _display(path: Path) -> str:
    """Return a path as shown in messages and the manifest: relative when under the cwd."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path.as_posix()
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def collect_sources(paths: Iterable[Path]) -> tuple[list[SourceRef], list[Rejected]]:
    """Expand the command-line sources: files as given, folders as their ``*.txt`` entries."""
    found: list[SourceRef] = []
    bad: list[Rejected] = []
    for p in paths:
        if p.is_dir():
            try:
                entries = sorted(os.listdir(p))
            except OSError as exc:
                bad.append(Rejected(_display(p), (Issue("source.unreadable", _display(p),
                    f"folder cannot be listed ({exc.strerror}); check its permissions"),)))
                continue
            folder, shown = str(p), _display(p)
            for name in entries:
                if name.startswith(".") or not name.lower().endswith(SOURCE_SUFFIXES):
                    continue
                found.append(SourceRef(name if folder == "." else os.path.join(folder, name),
                                       name if shown == "." else f"{shown}/{name}"))
        elif p.exists() or p.is_symlink():
            found.append(SourceRef(str(p), _display(p)))
        else:
            bad.append(Rejected(_display(p), (Issue("source.missing", _display(p),
                "does not exist; check the path"),)))
    return found, bad


def _stem(location: str) -> str:
    """Return the stem of a path as ``Path.stem`` does, without building a Path."""
    name = os.path.basename(location.rstrip("/"))
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def output_name(stem: str) -> str:
    """Return the output file name of a source stem."""
    return f"{stem}.xml"


def _collision_key(name: str) -> str:
    """Return the key under which two output names would be the same file somewhere."""
    return unicodedata.normalize("NFC", name).casefold()


def make_record(source: SourceDocument, register: Register | None = None) -> Record:
    """Run the extractors on a source and return the record to encode."""
    # imported here: a run whose documents all come from its record cache never needs them
    from .extract.metadata import extract
    from .extract.structure import parse_structure
    from .gazetteer import find_places

    structure = parse_structure(source.text)
    structure, extraction = extract(structure)
    places = find_places(structure.blocks, (extraction.place,) if extraction.place else ())
    if extraction.place:
        extraction = replace(extraction, place=places[0])
    x = extraction
    extraction = replace(
        x,
        places=places,
        people=find_people(structure.blocks, x.senders + x.addressees + x.authors),
        orgs=find_orgs(structure.blocks),
    )
    if register is not None and register.entries:
        extraction = _with_authorities(extraction, register)
    title = make_title(extraction, fallback=source.stem)
    return Record(
        id=document_id(source.stem),
        source=source,
        structure=structure,
        extraction=extraction,
        title=title,
    )


def _with_authorities(x: Extraction, register: Register) -> Extraction:
    """Return the extraction with the register's authority ids on the parties it lists."""

    def linked(parties: tuple[Party, ...]) -> tuple[Party, ...]:
        def refs(p: Party) -> tuple[str, ...]:
            if p.kind is PartyKind.ORG:
                return register.refs_for(p.name, p.org, p.label, kind="org")
            return register.refs_for(p.name, p.label, kind="person")

        return tuple(replace(p, refs=refs(p)) for p in parties)

    return replace(x, senders=linked(x.senders), addressees=linked(x.addressees), authors=linked(x.authors),
                   people=linked(x.people), orgs=linked(x.orgs))


class Validators:
    """The schemas every document is checked against."""

    def __init__(self, config: CorpusConfig, tei_all: Path | None, require_tei_all: bool) -> None:
        folder = schema_dir()
        self.project = ProjectSchema(folder)
        self.tei_all: TeiAllSchema | None = None
        path = tei_all or find_tei_all(config.tei_all)
        if path is not None and path.is_file():
            self.tei_all = TeiAllSchema(path, vocabulary=folder / PROJECT_RNG)
        elif require_tei_all:
            where = str(path) if path else "(not configured)"
            raise SchemaError(Issue("schema.missing", where,
                "the official tei_all.rng is not there; set [schemas] tei_all in tei-ingest.toml, "
                "TEI_ALL_RNG, or pass --tei-all PATH"))
        self.folder = folder
        self.register = Register.load(Path(config.authorities) if config.authorities else None)

    def prepare(self) -> None:
        """Compile and read the schemas now (they are otherwise prepared on first use).

        A run does this before it encodes its first document, so that a schema that cannot
        be read stops the run (exit 3) instead of failing every document.
        """
        self.project.prepare()
        if self.tei_all is not None:
            self.tei_all.prepare()

    def check(self, doc: etree._ElementTree, path: str) -> tuple[Verdict, ...]:
        """Return the verdicts of every schema on a document."""
        out = [self.project.check(doc, path)]
        if self.tei_all is not None:
            out.append(self.tei_all.check(doc, path))
        return tuple(out)


def encode_source(
    ref: SourceRef, config: CorpusConfig, build: BuildInfo, validators: Validators, out_dir: Path,
    max_bytes: int = MAX_SOURCE_BYTES,
) -> Accepted:
    """Read, encode and validate one source; raise IngestError when it fails."""
    source = read_source(ref.path, ref.display, max_bytes=max_bytes)
    record = make_record(source, validators.register)
    rel = os.path.relpath(validators.folder, out_dir.resolve()) if out_dir else str(validators.folder)
    rel = Path(rel).as_posix()
    schemas = (
        (f"{rel}/{PROJECT_RNG}", "http://relaxng.org/ns/structure/1.0"),
        (f"{rel}/{PROJECT_SCH}", "http://purl.oclc.org/dsdl/schematron"),
    )
    tree = encode(record, config, build, schemas)
    data = to_bytes(tree)
    reparsed = etree.ElementTree(etree.fromstring(data, None))
    name = output_name(source.stem)
    verdicts = validators.check(reparsed, name)
    failed = [i for v in verdicts for i in v.issues]
    if failed:
        raise IngestError(*(Issue("tei.invalid", ref.display,
            f"the encoded TEI is not valid ({i.code}): {i.message}", i.line) for i in failed[:5]))
    return Accepted(record, name, data, verdicts)


def run(
    sources: list[Path],
    out_dir: Path,
    *,
    config_path: Path | None = None,
    tei_all: Path | None = None,
    require_tei_all: bool = False,
    env: Mapping[str, str] | None = None,
    err: TextIO = sys.stderr,
    progress: Callable[[str], None] | None = None,
    max_bytes: int = MAX_SOURCE_BYTES,
    jobs: int = 1,
    scheduler: str | None = None,
    checksum: bool = False,
) -> RunResult:
    """Ingest sources into out_dir; raise IngestError when the run cannot start.

    The output folder is locked for the run: a second run on the same folder at the same
    time is refused (exit 3) instead of interleaving its files with this one's. With
    ``jobs`` above 1 the documents are encoded and validated in that many worker
    processes, and with ``scheduler`` (a dask.distributed address) on that cluster's
    workers; they are written by this process, in source order, so the output is the same.
    A file whose status has not changed since a run read it is not read again
    (``ingest.digests``); ``checksum`` reads every one.
    """
    env = os.environ if env is None else env
    config, _ = load_config(config_path)
    refs, result_rejected = collect_sources(sources)
    build = build_info(env, config, (r.path for r in refs))
    validators = Validators(config, tei_all, require_tei_all)
    _check_output_dir(out_dir)
    lock = _lock(out_dir)
    try:
        task = _Task(config, build, tei_all, require_tei_all, out_dir, max_bytes, checksum)
        return _run_locked(refs, result_rejected, out_dir, task, validators, progress, Executor(jobs, scheduler))
    finally:
        os.close(lock)


def _lock(out_dir: Path) -> int:
    """Take the output folder's lock (flock on the folder itself), or refuse the run."""
    import fcntl

    fd = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputError(Issue("output.busy", _display(out_dir),
            "another tei-ingest run is writing this folder: wait for it to finish, then run again")) from None
    return fd


#: Documents encoded before their files are written together (one checkpoint per batch).
BATCH = 32
#: A checkpoint rewrites the whole manifest, so batches grow with the corpus (an eighth of
#: what is listed, at least BATCH) up to this many. A batch holds its documents' manifest
#: entries (about 1.5 KB each); their files wait on disk, as temporary files.
MAX_BATCH = 8192


@functools.cache
def _code_digest() -> str:
    """Return a digest of this program's own code: a change to it invalidates every cached record."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        h.update(path.relative_to(Path(__file__).resolve().parent).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class _Task:
    """The per-document work of a run, as a value a worker process can be given.

    A worker builds its own validators once (``_worker_validators``) from these settings;
    every document then passes through the same error boundary as in a one-process run.
    """

    config: CorpusConfig
    build: BuildInfo
    tei_all: Path | None
    require_tei_all: bool
    out_dir: Path
    max_bytes: int
    checksum: bool = False  # read every file, whatever its status

    def run_one(self, ref: SourceRef, validators: Validators) -> Encoded | Rejected:
        """Encode one source, or say why it could not be: one document never stops the corpus."""
        try:
            return Encoded.of(encode_source(ref, self.config, self.build, validators, self.out_dir,
                                            self.max_bytes))
        except IngestError as exc:
            return Rejected(ref.display, exc.issues)
        except RecursionError:
            return Rejected(ref.display, (Issue("internal", ref.display, "the text is nested too deeply to encode"),))
        except Exception as exc:  # noqa: BLE001 - one document never stops the corpus
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return Rejected(ref.display, (Issue("internal", ref.display,
                f"internal error {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno}); "
                "please report it with the source file"),))

    def run_chunk(self, refs: list[SourceRef]) -> list[Encoded | Rejected]:
        """Encode a chunk of sources in a worker process."""
        return [self.run_one(ref, _worker_validators(self)) for ref in refs]


_WORKER: dict[str, Validators] = {}


def _worker_key(task: _Task) -> str:
    return repr((task.config, task.tei_all, task.require_tei_all))


def _worker_validators(task: _Task) -> Validators:
    """Return this worker process's validators, built on first use."""
    key = _worker_key(task)
    if key not in _WORKER:
        _WORKER.clear()
        _WORKER[key] = Validators(task.config, task.tei_all, task.require_tei_all)
        _WORKER[key].prepare()
    return _WORKER[key]


#: Sources given to a worker at once: large enough to amortise the hand-over, small enough
#: that the results come back steadily.
CHUNK = 8


@dataclass(frozen=True, slots=True)
class Executor:
    """Where the per-document work runs: here, in local worker processes, or on a Dask cluster."""

    jobs: int = 1
    scheduler: str | None = None  # the address of a dask.distributed scheduler


def iter_outcomes(task: _Task, refs: list[SourceRef], executor: Executor,
                  validators: Validators) -> Iterator[Encoded | Rejected]:
    """Yield the outcome of every source, in order, from this process, local workers or a Dask cluster.

    At most a few chunks per worker are in flight, so memory does not grow with the corpus.
    """
    if executor.scheduler is not None:
        yield from _iter_dask(task, refs, executor.scheduler)
        return
    jobs = executor.jobs
    if jobs <= 1 or len(refs) <= CHUNK:
        for ref in refs:
            yield task.run_one(ref, validators)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=_start_method(task, validators)) as pool:
        yield from _in_order(lambda chunk: pool.submit(task.run_chunk, chunk), refs, 4 * jobs)


def _start_method(task: _Task, validators: Validators) -> Any:
    """Return how to start worker processes: forked from this one where that is safe, else spawned.

    A forked worker starts with this process's modules imported and its validators built,
    which a spawned one spends about a second on. Forking is safe on Linux while this
    process runs a single thread (the command line does); a library caller with threads
    gets spawned workers, fresh interpreters.
    """
    import multiprocessing
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        _WORKER.clear()
        _WORKER[_worker_key(task)] = validators
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _in_order(submit: Callable[[list[SourceRef]], Any], refs: list[SourceRef], window: int,
              collect: Callable[[Any], list[Encoded | Rejected]] = lambda future: future.result(),
              ) -> Iterator[Encoded | Rejected]:
    """Yield the outcomes of chunks of sources handed to workers, in order, ``window`` chunks in flight.

    ``submit`` hands a chunk over and returns its future (concurrent.futures or Dask);
    ``collect`` waits for one and returns its outcomes.
    """
    from collections import deque

    chunks = (refs[i:i + CHUNK] for i in range(0, len(refs), CHUNK))
    flight = deque(submit(chunk) for chunk in itertools.islice(chunks, window))
    while flight:
        done = collect(flight.popleft())
        nxt = next(chunks, None)
        if nxt is not None:
            flight.append(submit(nxt))
        yield from done


#: How long to keep trying to reach a Dask scheduler before the run gives up (exit 3).
DASK_CONNECT_TIMEOUT = "20s"


def _iter_dask(task: _Task, refs: list[SourceRef], scheduler: str) -> Iterator[Encoded | Rejected]:
    """Yield the outcome of every source, in order, computed on the workers of a Dask cluster.

    The workers run the same code on the same paths: they need tei-ingest installed and the
    sources, the configuration and the schemas where this process sees them (a shared file
    system, as clusters have). The results come back here and are written by this process.
    """
    if not refs:
        return
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(Issue("executor.dask", scheduler, "dask.distributed is not installed: "
                                "pip install 'tei-ingest[dask]'")) from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ConfigError(Issue("executor.dask", scheduler, f"cannot reach the Dask scheduler ({exc}); "
                                "check the address (tcp://HOST:PORT) and that the scheduler runs")) from None
    def collect(future: Any) -> list[Encoded | Rejected]:
        try:
            return future.result()  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - a lost worker stops the run; what is written stays true
            raise OutputError(Issue("executor.dask", scheduler, f"a Dask worker failed ({type(exc).__name__}: "
                                    f"{exc}); the files already written are complete: run again")) from None

    with client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        yield from _in_order(lambda chunk: client.submit(task.run_chunk, chunk, pure=False), refs, 4 * workers,
                             collect)


class _Records:
    """Documents encoded by earlier runs, reused when nothing that shapes them has changed.

    The key of a document is the sha256 of everything its TEI depends on: the source's
    bytes and name, this program's code, the configuration, the register, the schemas, the
    build date and the output folder. A hit gives back the encoded and validated document
    without reading it again; a miss encodes it and stores the result. Records live in the
    disk cache (``ingest.cache``), in a SQLite database in a folder per run key (what all
    documents of a run share), committed every ``COMMIT_EVERY`` records so that a run
    stopped part way keeps what it encoded; deleting them only costs time. A run marks its
    folder as used, and removes the folders no run has used for ``RECORDS_MAX_AGE_DAYS``:
    records of an older version of the program or of a configuration no longer in use,
    which nothing would ever read again.
    """

    COMMIT_EVERY = 64

    def __init__(self, config: CorpusConfig, build: BuildInfo, validators: Validators, out_dir: Path,
                 schemas: dict[str, dict[str, str]], max_bytes: int) -> None:
        register = sorted(repr(e) for e in validators.register.entries)
        self.run_key = hashlib.sha256(repr((
            _code_digest(), repr(config), repr(build), sorted(schemas.items()), register,
            str(out_dir.resolve()), max_bytes)).encode()).hexdigest()
        self.folder = self.run_key[:32]
        _prune("records", self.folder)
        self.db = self._open()
        self._unsaved = 0

    def _open(self) -> sqlite3.Connection | None:
        """Open this run key's database; None without a usable cache."""
        root = disk.cache_dir()
        if root is None:
            return None
        return disk.database(root / "records" / self.folder / "records.sqlite",
                             "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, data BLOB NOT NULL);",
                             "SELECT key, data FROM records LIMIT 1")

    def key(self, ref: SourceRef, max_bytes: int, digests: DigestIndex) -> str | None:
        try:
            digest = digests.sha256(ref.location, limit=max_bytes)
        except OSError:
            return None
        if digest is None:
            return None
        return hashlib.sha256(f"{self.run_key}\n{ref.display}\n{digest}".encode()).hexdigest()

    def has(self, key: str | None) -> bool:
        if key is None or self.db is None:
            return False
        try:
            return self.db.execute("SELECT 1 FROM records WHERE key = ?", (key,)).fetchone() is not None
        except sqlite3.Error:
            return False

    def get(self, key: str | None) -> Encoded | None:
        if key is None or self.db is None:
            return None
        try:
            row = self.db.execute("SELECT data FROM records WHERE key = ?", (key,)).fetchone()
            found = pickle.loads(row[0]) if row else None
        except Exception:  # noqa: BLE001 - a damaged record is a miss
            return None
        return found if isinstance(found, Encoded) else None

    def put(self, key: str | None, accepted: Encoded) -> None:
        if key is None or self.db is None:
            return
        try:
            if not self.db.in_transaction:
                self.db.execute("BEGIN")
            self.db.execute("INSERT OR REPLACE INTO records VALUES (?, ?)",
                            (key, pickle.dumps(accepted, protocol=pickle.HIGHEST_PROTOCOL)))
            self._unsaved += 1
            if self._unsaved >= self.COMMIT_EVERY:
                self.save()
        except sqlite3.Error:
            return

    def save(self) -> None:
        """Commit the records stored since the last save."""
        if self.db is not None and self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("COMMIT")
        self._unsaved = 0

    def close(self) -> None:
        self.save()
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None


#: Record folders no run has used for this long are removed.
RECORDS_MAX_AGE_DAYS = 30


def _prune(kind: str, current: str) -> None:
    """Mark this run's entry of a cache folder as used now; remove those unused for RECORDS_MAX_AGE_DAYS.

    The entries are the record folders of run keys (``records``), and the digest indexes
    and saved states of output folders (``digests``, ``ledgers``: files named from the folder).
    """
    import shutil
    import time

    root = disk.cache_dir()
    if root is None:
        return
    folder = root / kind
    with contextlib.suppress(OSError):
        if kind == "records":
            (folder / current).mkdir(parents=True, exist_ok=True)
        if os.path.exists(folder / current):
            os.utime(folder / current)
    cutoff = time.time() - RECORDS_MAX_AGE_DAYS * 86400
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.name.split("-")[0] == current or entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete the temporary files of an interrupted run (they are never part of the corpus)."""
    for tmp in out_dir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _output_error(path: Path, exc: OSError, more: str = "") -> OutputError:
    return OutputError(Issue("output.write", _display(path), f"cannot be written ({exc.strerror or exc}){more}"))


_PARTIAL = "; the files already written are complete and the manifest lists only what is there"


def _run_locked(refs: list[SourceRef], result_rejected: list[Rejected], out_dir: Path, task: _Task,
                validators: Validators, progress: Callable[[str], None] | None, executor: Executor) -> RunResult:
    """Encode what needs it, write it batch by batch with the manifest's journal, then the manifest.

    The manifest stays true to the folder while the files in it are replaced: a folder of
    many files cannot change in one atomic step, so the manifest keeps a journal. Each
    batch's files are first written to temporary files and flushed to disk together; a checkpoint then lists each file
    that changes under ``pending``, with the entry of its new state and of its old one
    (none: not there), and lists the files of earlier batches as ``documents``; then they
    are renamed into place. A run killed at any point leaves a manifest that describes
    exactly what is there: every listed file with its digest, and every pending file in
    one of the two states given for it. The next run reads the journal back, and the
    finished manifest has none. A batch that changes no file writes no checkpoint. The run's state is in the ledger
    (``ingest.ledger``), on disk, and every manifest is streamed from it.
    """
    from .ledger import Ledger, Saved, Staged, compact_json
    from .manifest import manifest_chunks, manifest_head, rejected_entry, totals

    config, build, max_bytes = task.config, task.build, task.max_bytes
    _remove_stale_temporaries(out_dir)
    result = RunResult(rejected=list(result_rejected))
    result.schemas = _schema_info(validators)
    manifest_path = out_dir / MANIFEST_NAME
    root, folder_key = disk.cache_dir(), disk.folder_key(out_dir)
    for kind in ("digests", "ledgers"):
        _prune(kind, f"{folder_key}.sqlite")
    ledger = result.ledger = Ledger(out_dir, DigestIndex.for_folder(out_dir, trust=not task.checksum),
                                    root / "ledgers" / f"{folder_key}.sqlite" if root else None)
    earlier_tombstones = ledger.earlier_tombstones()
    records = _Records(config, build, validators, out_dir, result.schemas, max_bytes)
    batch: list[Staged] = []
    rejected: list[dict[str, object]] = []  # entries of this run's rejections, for the checkpoints
    rejected_before = len(result.rejected)

    def checkpoint() -> None:
        head = manifest_head(sorted(rejected, key=lambda r: str(r["source"]["path"])),
                             config, build, result.schemas, totals(ledger.listed_totals(), len(rejected)),
                             earlier_tombstones)
        chunks = manifest_chunks(head, ledger.listed(), ledger.pending() if ledger.has_pending() else None,
                                 compact=True)
        try:
            write_atomic_chunks(manifest_path, chunks)
        except OSError as exc:
            raise _output_error(manifest_path, exc) from None

    def commit() -> None:
        nonlocal rejected_before
        try:  # the batch's files are on disk before the journal names them and before any rename
            sync_files(s.tmp for s in batch if s.tmp is not None)
        except OSError as exc:
            raise _output_error(out_dir, exc, _PARTIAL) from None
        if ledger.begin(batch):
            checkpoint()
        for s in batch:
            if s.tmp is not None:
                try:
                    os.replace(s.tmp, out_dir / s.name)
                except OSError as exc:
                    raise _output_error(out_dir / s.name, exc, _PARTIAL) from None
                ledger.digests.wrote(str(out_dir / s.name), s.sha256)
            if progress:
                progress(s.name)
        sync_folder(out_dir)  # the renames are on disk before the checkpoint lists the files
        rejected.extend(rejected_entry(r) for r in result.rejected[rejected_before:])
        rejected_before = len(result.rejected)
        # the files are in place: the next checkpoint (or the finished manifest) lists them as
        # documents; until then the journal says they are in one of two states, which is true
        ledger.finish(batch)
        batch.clear()
        records.save()

    def stage(seq: int, item: Encoded, record_key: str | None) -> None:
        tmp = None
        listed = ledger.listed_entry(item.tei_name)
        if listed is None or listed[0] != item.sha256:
            try:
                tmp = stage_file(out_dir / item.tei_name, item.data, sync=False)  # flushed with its batch
            except OSError as exc:
                raise _output_error(out_dir / item.tei_name, exc, _PARTIAL) from None
        batch.append(Staged(item.tei_name, tmp, item.entry, item.sha256, len(item.data), item.type, item.language,
                            listed is not None and tmp is None and listed[1] == item.entry))
        ledger.add_written(seq, item.tei_name, len(item.data), item.type, item.language, item.pretty, item.row,
                           Saved(item.sha256, item.entry, record_key, item.doc_id, item.title) if record_key else None)
        result.written += 1

    # Which sources need encoding is decided here, in order; the encoding itself runs in
    # this process or in `jobs` worker processes, and its results come back in source order.
    # Each source is one of: unchanged (its output is listed, written from this very record:
    # taken as it is, here), recorded (its record is cached) or to encode. A document's place
    # in ``todo`` is its place in the end-of-run table.
    todo: list[tuple[SourceRef, str, str | None, int]] = []
    for ref in refs:
        name = output_name(_stem(ref.location))
        clash = ledger.claim(_collision_key(name), name, ref.display)
        if clash is not None:
            ledger.add_current(name)
            result.rejected.append(Rejected(ref.display, (Issue("output.collision", ref.display,
                f"its output name would overwrite the output of {clash} on some file systems "
                "(names differ only in case or Unicode form); rename one of them"),)))
            continue
        record_key = records.key(ref, max_bytes, ledger.digests)
        if record_key is not None and ledger.take_unchanged(len(todo), name, record_key):
            todo.append((ref, name, None, _UNCHANGED))
        else:
            todo.append((ref, name, record_key, _RECORDED if records.has(record_key) else _TO_ENCODE))
    misses = [ref for ref, _, _, state in todo if state == _TO_ENCODE]
    if misses:
        validators.prepare()
    try:
        encoded = iter_outcomes(task, misses, executor, validators)
        for seq, (ref, name, record_key, state) in enumerate(todo):
            cached = records.get(record_key) if state == _RECORDED else None
            if state == _UNCHANGED:
                result.reused += 1
                result.written += 1
                batch.append(Staged.kept(name))
            elif cached is not None:
                result.reused += 1
                stage(seq, cached, record_key)
            else:
                outcome = next(encoded) if state == _TO_ENCODE else task.run_one(ref, validators)
                if isinstance(outcome, Rejected):
                    result.rejected.append(outcome)
                else:
                    records.put(record_key, outcome)
                    stage(seq, outcome, record_key)
            if len(batch) >= min(max(BATCH, ledger.size // 8), MAX_BATCH):
                commit()
        commit()
    finally:
        records.close()
    # outputs of sources that are gone: removed, if they are still exactly what was written
    gone = ledger.gone()
    if ledger.begin([], [name for name, _ in gone]):
        checkpoint()
    for name, sha256 in gone:
        with contextlib.suppress(OSError):
            path = out_dir / name
            if hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
                os.unlink(path)
                result.removed.append(name)
    result.deleted = ledger.tombstones(build.timestamp)
    head = manifest_head([rejected_entry(r) for r in sorted(result.rejected, key=lambda r: r.display)],
                         config, build, result.schemas, totals(ledger.written_totals(), len(result.rejected)),
                         result.deleted)
    head_text = compact_json(head)
    manifest_sha256 = ledger.same_manifest(head_text)
    if manifest_sha256 is None:
        digest = hashlib.sha256()
        try:
            write_atomic_chunks(manifest_path, _hashed(manifest_chunks(head, ledger.written()), digest))
        except OSError as exc:
            raise _output_error(manifest_path, exc) from None
        manifest_sha256 = digest.hexdigest()
        ledger.digests.wrote(str(manifest_path), manifest_sha256)
    ledger.digests.close()
    ledger.save(manifest_sha256, head_text, result.deleted)
    return result


#: What a run does with a source (see ``_run_locked``).
_UNCHANGED, _RECORDED, _TO_ENCODE = range(3)


def _hashed(chunks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    """Pass the chunks on, adding each to digest."""
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def _schema_info(validators: Validators) -> dict[str, dict[str, str]]:
    """Describe the schemas used, by name and sha256 (kept in the cache by file status: ``cache.file_sha256``)."""
    paths = [("project", validators.project.rng_path), ("project-schematron", validators.project.sch_path)]
    if validators.tei_all is not None:
        paths.append(("tei_all", validators.tei_all.path))
    return {name: {"file": path.name, "sha256": disk.file_sha256(path)[0]} for name, path in paths}


def _check_output_dir(out_dir: Path) -> None:
    """Make sure the output folder exists and can be written to."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(Issue("output.unwritable", _display(out_dir),
            f"cannot be created ({exc.strerror or exc})")) from None
    if not out_dir.is_dir():
        raise OutputError(Issue("output.unwritable", _display(out_dir), "is not a folder"))
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(Issue("output.unwritable", _display(out_dir),
            "is not writable; choose another output folder or fix its permissions"))


def summary_row(a: Accepted) -> tuple[str, ...]:
    """Return a written document's row of the end-of-run table."""
    x = a.record.extraction
    if x.doc_type.is_correspondence:
        who = _cut(" & ".join(p.label for p in x.senders) or "?", 30) + " → " + _cut(
            " & ".join(p.label for p in x.addressees) or "?", 30)
    else:
        who = " & ".join(p.label for p in x.authors) or "–"
    langs = " ".join(f"{s.code} {s.percent}%" for s in x.languages)
    date = (x.date.iso or "?") if x.date else "–"
    if x.date and not x.date.when:
        date = human_date(x.date).replace("undated, ", "")
    valid = "+".join(v.schema for v in a.verdicts if v.valid)
    return (a.tei_name, x.doc_type.value, date, _cut(who, 60), langs, valid)


def summary_rows(result: RunResult) -> Iterator[tuple[str, ...]]:
    """Yield the rows of the end-of-run table: the header, the documents written, the failures."""
    yield ("document", "type", "date", "sender → addressee", "languages", "valid")
    if result.ledger is not None:
        yield from result.ledger.rows()
    for r in result.rejected:
        yield (Path(r.display).name, "–", "–", "–", "–", "FAILED")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_lines(result: RunResult) -> Iterator[str]:
    """Yield the end-of-run table as aligned plain-text lines, one row at a time."""
    widths = [0] * 6
    for row in summary_rows(result):  # a first pass for the widths: the rows are on disk, not in memory
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for n, row in enumerate(summary_rows(result)):
        yield "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        if n == 0:
            yield "  ".join("-" * w for w in widths)

