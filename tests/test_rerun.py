"""A re-run reads only what changed: file digests kept by status, and the state a finished run saves.

``ingest.digests`` trusts a digest only for a file whose size, times and inode are those it
had when it was read, and which had not changed for ``RACY_NS`` before; the tests set that
window to zero where they need a file written a moment ago to count as settled.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import ingest.cache as disk
import ingest.digests as digests
from ingest.cli import main
from ingest.digests import DigestIndex

from .conftest import EPOCH, ROOT
from .test_cli import GOOD_LETTER


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TEI_INGEST_CACHE", str(folder))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    return folder


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count a file as settled as soon as it is written (no racy window)."""
    monkeypatch.setattr(disk, "RACY_NS", 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the digest index reads (their names)."""
    seen: list[str] = []

    def spy(path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path).name)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(digests, "open", spy, raising=False)
    return seen


def _same_size_other_bytes(path: Path) -> None:
    """Overwrite a file with other bytes of the same size, and put its modification time back."""
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data[:-2] + (b"!!" if data[-2:] != b"!!" else b"??"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, cache: Path, settled: None, reads: list[str]) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"first version\n")
    index = DigestIndex.for_folder(tmp_path)
    first = index.sha256(str(f))
    index.close()
    assert reads == ["a.txt"]
    index = DigestIndex.for_folder(tmp_path)
    assert index.sha256(str(f)) == first
    assert reads == ["a.txt"]  # known by its status
    index.close()


def test_a_file_changed_with_its_size_and_time_put_back_is_read_again(tmp_path: Path, cache: Path,
                                                                       settled: None) -> None:
    """The change time gives it away: a program can set a file's modification time, not its ctime."""
    import hashlib

    f = tmp_path / "a.txt"
    f.write_bytes(b"first version\n")
    index = DigestIndex.for_folder(tmp_path)
    first = index.sha256(str(f))
    index.close()
    _same_size_other_bytes(f)
    index = DigestIndex.for_folder(tmp_path)
    assert index.sha256(str(f)) == hashlib.sha256(f.read_bytes()).hexdigest() != first
    index.close()


def test_a_file_read_just_after_it_changed_is_read_again_next_time(tmp_path: Path, cache: Path,
                                                                    reads: list[str]) -> None:
    """Within the racy window a later change could keep the same status: the digest is not trusted."""
    f = tmp_path / "a.txt"
    f.write_bytes(b"written a moment ago\n")
    for _ in range(2):
        index = DigestIndex.for_folder(tmp_path)
        index.sha256(str(f))
        index.close()
    assert reads == ["a.txt", "a.txt"]


@pytest.mark.parametrize("changed", [False, True])
def test_a_file_the_run_wrote_is_vouched_for_if_unchanged_when_it_ends(tmp_path: Path, cache: Path, settled: None,
                                                                       reads: list[str], changed: bool) -> None:
    import hashlib

    f = tmp_path / "a.xml"
    f.write_bytes(b"what the run wrote\n")
    index = DigestIndex.for_folder(tmp_path)
    index.wrote(str(f), hashlib.sha256(b"what the run wrote\n").hexdigest())
    if changed:
        _same_size_other_bytes(f)  # by another program, before the run ends
    index.close()
    index = DigestIndex.for_folder(tmp_path)
    assert index.sha256(str(f)) == hashlib.sha256(f.read_bytes()).hexdigest()
    index.close()
    assert reads == (["a.xml"] if changed else [])


def test_checksum_reads_every_file(tmp_path: Path, cache: Path, settled: None, reads: list[str]) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"some text\n")
    for trust in (True, True, False):
        index = DigestIndex.for_folder(tmp_path, trust=trust)
        index.sha256(str(f))
        index.close()
    assert reads == ["a.txt", "a.txt"]  # the first time, and with trust=False


def test_files_no_run_looks_at_are_forgotten(tmp_path: Path, cache: Path, settled: None, reads: list[str]) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"a\n")
    b.write_bytes(b"b\n")
    index = DigestIndex.for_folder(tmp_path)
    index.sha256(str(a))
    index.sha256(str(b))
    index.close()
    index = DigestIndex.for_folder(tmp_path)
    index.sha256(str(a))  # b is not looked at: it is no longer part of what this folder reads
    index.close()
    index = DigestIndex.for_folder(tmp_path)
    index.sha256(str(b))
    index.close()
    assert reads == ["a.txt", "b.txt", "b.txt"]


def test_rows_read_a_window_at_a_time_give_every_file_its_own_digest(
        tmp_path: Path, cache: Path, settled: None, reads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of three rows over files looked up in and out of order, some rewritten or new between two runs."""
    import hashlib

    monkeypatch.setattr(DigestIndex, "WINDOW", 3)
    files = [tmp_path / f"f{i:02d}.txt" for i in range(11)]
    for i, f in enumerate(files):
        f.write_bytes(f"file {i}\n".encode())
    index = DigestIndex.for_folder(tmp_path)
    for f in files[::2]:  # every other file: the others are not known to the next run
        index.sha256(str(f))
    index.close()
    reads.clear()
    for f in files[3:6]:
        f.write_bytes(f.read_bytes() + b"changed\n")
    index = DigestIndex.for_folder(tmp_path)
    order = files + files[::-1] + [files[7], files[1], files[9], files[4]]
    got = [index.sha256(str(f)) for f in order]
    index.wrote(str(files[8]), hashlib.sha256(files[8].read_bytes()).hexdigest())
    got.append(index.sha256(str(files[8])))
    index.close()
    assert got == [hashlib.sha256(f.read_bytes()).hexdigest() for f in [*order, files[8]]]
    # read once each: those the first run did not read, those changed since, and the one written
    # (a file the run wrote is vouched for only when the run ends)
    assert sorted(set(reads)) == sorted(reads) == [
        "f01.txt", "f03.txt", "f04.txt", "f05.txt", "f07.txt", "f08.txt", "f09.txt"]


@pytest.mark.parametrize("size", [0, 6, 7, 8, 100])
def test_a_file_is_hashed_in_blocks(tmp_path: Path, cache: Path, settled: None, size: int,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    monkeypatch.setattr(digests, "BLOCK", 7)
    f = tmp_path / "a.txt"
    f.write_bytes(bytes(range(size)))
    index = DigestIndex.for_folder(tmp_path)
    assert index.sha256(str(f)) == hashlib.sha256(bytes(range(size))).hexdigest()
    index.close()


def test_paths_are_keyed_absolute_and_normal_however_they_are_given(
        tmp_path: Path, cache: Path, settled: None, reads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "a.txt"
    f.write_bytes(b"text\n")
    monkeypatch.chdir(tmp_path)
    index = DigestIndex.for_folder(tmp_path)
    index.sha256("sub/a.txt")
    index.close()
    for given in (str(f), f"{tmp_path}/sub/../sub/./a.txt", "./sub//a.txt"):
        index = DigestIndex.for_folder(tmp_path)
        assert index.sha256(given) == index.sha256(str(f))
        index.close()
    assert reads == ["a.txt"]


def test_a_damaged_index_is_started_again(tmp_path: Path, cache: Path, settled: None) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"text\n")
    index = DigestIndex.for_folder(tmp_path)
    index.sha256(str(f))
    index.close()
    (db,) = (cache / "0.1.0" / "digests").glob("*.sqlite")
    db.write_bytes(b"not a database" * 100)
    index = DigestIndex.for_folder(tmp_path)
    assert index.db is not None
    assert index.sha256(str(f)) is not None
    index.close()


# -- whole runs ---------------------------------------------------------------------------


def _run(src: Path, out: Path, *more: str) -> int:
    return main(["ingest", str(src), "-o", str(out), "-q", "--config", str(ROOT / "tei-ingest.toml"), *more])


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i in range(3):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    return src, out


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the times a run parses the manifest it found."""
    import ijson  # type: ignore[import-untyped]

    seen: list[str] = []
    real = ijson.items

    def items(fh: Any, prefix: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(prefix)
        return real(fh, prefix, *args, **kwargs)

    monkeypatch.setattr(ijson, "items", items)
    return seen


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Count the manifests a run makes (checkpoints, compact, and finished ones)."""
    import ingest.manifest

    seen: list[bool] = []
    real = ingest.manifest.manifest_chunks

    def chunks(*args: Any, **kwargs: Any) -> Any:
        seen.append(bool(kwargs.get("compact")))
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest.manifest, "manifest_chunks", chunks)
    return seen


def test_a_rerun_with_nothing_changed_reads_neither_sources_nor_outputs(
        corpus: tuple[Path, Path], cache: Path, settled: None, reads: list[str], parsed: list[str],
        made: list[bool]) -> None:
    src, out = corpus
    assert _run(src, out) == 0
    assert sorted(reads) == ["l0.txt", "l1.txt", "l2.txt"]  # what it wrote, it knows
    assert made == [True, False]  # the checkpoint of the batch, then the finished manifest
    first = _files(out)
    status = os.stat(out / "manifest.json")
    reads.clear()
    parsed.clear()
    made.clear()
    assert _run(src, out) == 0
    assert reads == [] and parsed == []
    assert made == []  # the manifest there is the one the run would make: it is not made again
    assert _files(out) == first
    assert _run(src, out, "--checksum") == 0
    # the manifest twice: is it the one the saved state was made from, and is it still at the end
    assert sorted(reads) == sorted(["l0.txt", "l1.txt", "l2.txt", "manifest.json", "manifest.json",
                                    "l0.xml", "l1.xml", "l2.xml"])
    assert made == []
    assert _files(out) == first
    after = os.stat(out / "manifest.json")
    assert (after.st_ino, after.st_mtime_ns) == (status.st_ino, status.st_mtime_ns)


def test_what_a_run_wrote_in_its_last_seconds_is_read_again(corpus: tuple[Path, Path], cache: Path,
                                                             reads: list[str], parsed: list[str]) -> None:
    src, out = corpus
    assert _run(src, out) == 0
    reads.clear()
    parsed.clear()
    assert _run(src, out) == 0  # the files are less than RACY_NS old: read, but the saved state still serves
    # the manifest at the start (is it the saved state's?) and at the end (is it still?)
    assert sorted(reads) == ["l0.txt", "l0.xml", "l1.txt", "l1.xml", "l2.txt", "l2.xml", "manifest.json",
                             "manifest.json"]
    assert parsed == []


@pytest.mark.parametrize("runs", [1, 2])
def test_an_output_changed_behind_the_runs_back_is_written_again(corpus: tuple[Path, Path], cache: Path,
                                                                 settled: None, runs: int) -> None:
    """Whether the run wrote the file (it vouches for it at its end) or read it, a change is seen."""
    src, out = corpus
    for _ in range(runs):
        assert _run(src, out) == 0
    first = _files(out)
    _same_size_other_bytes(out / "l1.xml")
    assert _run(src, out) == 0
    assert _files(out) == first


def test_the_saved_state_serves_only_the_manifest_it_was_saved_with(
        corpus: tuple[Path, Path], cache: Path, settled: None, parsed: list[str]) -> None:
    src, out = corpus
    assert _run(src, out) == 0
    first = _files(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"] = manifest["documents"][1:]  # edited by hand: l0 is not listed
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    parsed.clear()
    assert _run(src, out) == 0
    assert "documents.item" in parsed  # the manifest found was read, not the state
    assert _files(out) == first
    parsed.clear()
    assert _run(src, out) == 0
    assert parsed == []


def test_a_damaged_saved_state_costs_a_reading_of_the_manifest(
        corpus: tuple[Path, Path], cache: Path, settled: None, parsed: list[str]) -> None:
    src, out = corpus
    assert _run(src, out) == 0
    first = _files(out)
    (state,) = (cache / "0.1.0" / "ledgers").glob("*.sqlite")
    state.write_bytes(b"\0" * 4096)
    parsed.clear()
    assert _run(src, out) == 0
    assert "documents.item" in parsed
    assert _files(out) == first
    parsed.clear()
    assert _run(src, out) == 0  # the state was saved again
    assert parsed == []


def test_a_changed_and_a_removed_source_beside_unchanged_ones(corpus: tuple[Path, Path], cache: Path,
                                                              settled: None, reads: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The unchanged documents come from the saved state; the manifest is the one a run from scratch writes."""
    src, out = corpus
    for _ in range(2):
        assert _run(src, out) == 0
    (src / "l1.txt").write_text(GOOD_LETTER.replace("12 février", "20 février"), encoding="utf-8")
    (src / "l2.txt").unlink()
    reads.clear()
    assert _run(src, out) == 0
    assert "l0.txt" not in reads and "l1.txt" in reads
    fresh = out.parent / "fresh"
    monkeypatch.setenv("TEI_INGEST_CACHE", str(cache.parent / "other-cache"))
    assert _run(src, fresh) == 0
    mine, theirs = _files(out), _files(fresh)
    assert mine.keys() == theirs.keys() == {"l0.xml", "l1.xml", "manifest.json"}
    assert mine["l0.xml"] == theirs["l0.xml"] and mine["l1.xml"] == theirs["l1.xml"]
    ours = json.loads(mine["manifest.json"])
    scratch = json.loads(theirs["manifest.json"])
    assert ours["documents"] == scratch["documents"]
    assert [t["tei_path"] for t in ours["deleted"]] == ["l2.xml"]


@pytest.mark.parametrize("changed", [1, 4])
def test_the_saved_state_after_a_few_changes_or_many_serves_the_next_run(
        tmp_path: Path, cache: Path, settled: None, reads: list[str], parsed: list[str], made: list[bool],
        changed: int) -> None:
    """With most documents taken as they are, the state is the old one patched; with most changed, written anew."""
    import hashlib
    import sqlite3

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i in range(6):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    for _ in range(2):
        assert _run(src, out) == 0
    for i in range(changed):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 11} février"), encoding="utf-8")
    (src / "l5.txt").unlink()
    (src / "new.txt").write_text(GOOD_LETTER, encoding="utf-8")
    assert _run(src, out) == 0
    (state,) = (cache / "0.1.0" / "ledgers").glob("*.sqlite")
    with contextlib.closing(sqlite3.connect(state)) as db:
        rows = dict(db.execute("SELECT name, sha256 FROM documents"))
        (manifest,) = db.execute("SELECT manifest FROM meta").fetchall()
        tombs = [name for (name,) in db.execute("SELECT name FROM deleted")]
    assert rows == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*.xml")}
    assert set(rows) == {"l0.xml", "l1.xml", "l2.xml", "l3.xml", "l4.xml", "new.xml"}
    assert manifest[0] == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert tombs == ["l5.xml"]
    first = _files(out)
    reads.clear()
    parsed.clear()
    made.clear()
    assert _run(src, out) == 0
    assert reads == parsed == made == []
    assert _files(out) == first


def test_the_manifest_is_made_again_when_only_its_head_changes(
        corpus: tuple[Path, Path], cache: Path, settled: None, made: list[bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document taken as it is, but a source that fails comes and goes: the rejections are the head's."""
    src, out = corpus
    for _ in range(2):
        assert _run(src, out) == 0
    first = _files(out)
    (src / "broken.txt").write_bytes(b"\xff\xfe not text \x00\x00")
    made.clear()
    assert _run(src, out) == 1
    assert made == [False]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [r["source"]["path"] for r in manifest["rejected"]] == [f"{src}/broken.txt"]
    assert [d["tei"]["path"] for d in manifest["documents"]] == ["l0.xml", "l1.xml", "l2.xml"]
    fresh = out.parent / "fresh"
    monkeypatch.setenv("TEI_INGEST_CACHE", str(cache.parent / "other-cache"))
    assert _run(src, fresh) == 1
    assert _files(out) == _files(fresh)
    monkeypatch.setenv("TEI_INGEST_CACHE", str(cache))
    (src / "broken.txt").unlink()
    made.clear()
    assert _run(src, out) == 0
    assert made == [False]
    assert _files(out) == first


def test_what_is_kept_for_folders_no_run_has_used_for_a_month_is_removed(corpus: tuple[Path, Path],
                                                                          cache: Path) -> None:
    import time

    src, out = corpus
    assert _run(src, out) == 0
    kept: dict[str, set[str]] = {}
    for kind in ("digests", "ledgers"):
        folder = cache / "0.1.0" / kind
        kept[kind] = {p.name for p in folder.iterdir()}
        assert kept[kind]
        for name, days in (("stale.sqlite", 31), ("recent.sqlite", 29)):
            (folder / name).write_bytes(b"")
            old = time.time() - days * 86400
            os.utime(folder / name, (old, old))
        for mine in kept[kind]:
            os.utime(folder / mine, (time.time() - 40 * 86400,) * 2)  # in use again by the next run: kept
    assert _run(src, out) == 0
    for kind in ("digests", "ledgers"):
        names = {p.name for p in (cache / "0.1.0" / kind).iterdir()}
        assert "stale.sqlite" not in names and "recent.sqlite" in names
        assert {n for n in kept[kind] if n.endswith(".sqlite")} <= names
