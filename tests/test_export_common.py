"""What every export shares: the build date it is stamped with, and whole-folder atomic writes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import CorpusConfig
from ingest.errors import ConfigError, CorpusError, OutputError
from ingest.export import export_build, staged_folder, write_folder


def test_build_date_from_epoch_then_config_then_manifest() -> None:
    manifest_date = "2026-11-23T00:00:00Z"
    assert export_build({"SOURCE_DATE_EPOCH": "0"}, CorpusConfig(), manifest_date).timestamp == "1970-01-01T00:00:00Z"
    configured = CorpusConfig(source_date_epoch=86400)
    assert export_build({}, configured, manifest_date).timestamp == "1970-01-02T00:00:00Z"
    assert export_build({}, CorpusConfig(), manifest_date).timestamp == manifest_date
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        export_build({}, CorpusConfig(), "23/11/2026")


def test_write_folder_replaces_the_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "bag"
    write_folder(target, {"a.txt": b"1", "data/b.txt": b"2"})
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == ["a.txt",
                                                                                                 "data/b.txt"]
    write_folder(target, {"a.txt": b"3"})
    assert [p.name for p in target.rglob("*")] == ["a.txt"]  # nothing of the old folder is left
    assert (target / "a.txt").read_bytes() == b"3"
    assert [p.name for p in tmp_path.iterdir()] == ["bag"]  # no temporary or old folder beside it


def test_write_folder_leaves_an_identical_folder_alone(tmp_path: Path) -> None:
    target = tmp_path / "dc"
    write_folder(target, {"x.xml": b"<x/>"})
    before = os.stat(target).st_ino, os.stat(target / "x.xml").st_mtime_ns
    write_folder(target, {"x.xml": b"<x/>"})
    assert (os.stat(target).st_ino, os.stat(target / "x.xml").st_mtime_ns) == before


def test_write_folder_failure_keeps_the_old_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "bag"
    write_folder(target, {"a.txt": b"old"})
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OutputError, match="No space left on device"):
        write_folder(target, {"a.txt": b"new", "b.txt": b"new"})
    monkeypatch.undo()
    assert (target / "a.txt").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["bag"]


def test_write_folder_refuses_paths_outside(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a path inside"):
        write_folder(tmp_path / "out", {"../escape.txt": b"x"})
    assert list(tmp_path.iterdir()) == []


def test_write_folder_takes_its_files_one_at_a_time(tmp_path: Path) -> None:
    target = tmp_path / "dc"
    made: list[str] = []

    def files() -> Iterator[tuple[str, bytes]]:
        for name in ("b.xml", "a.xml"):
            made.append(name)
            yield name, name.encode()

    write_folder(target, files())
    assert made == ["b.xml", "a.xml"]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == {"a.xml": b"a.xml", "b.xml": b"b.xml"}
    with pytest.raises(ValueError, match="given twice"):
        write_folder(target, iter([("a.xml", b"1"), ("a.xml", b"2")]))
    assert (target / "a.xml").read_bytes() == b"a.xml"


def test_a_copied_file_is_checked_against_its_digest(tmp_path: Path) -> None:
    source = tmp_path / "letter.xml"
    source.write_bytes(b"<TEI/>\n")
    sha256 = hashlib.sha256(b"<TEI/>\n").hexdigest()
    target = tmp_path / "out" / "bag"
    with staged_folder(target) as folder:
        digests = folder.copy("data/letter.xml", source, 7, sha256, "changed", ["sha512"])
    assert digests == {"sha256": sha256, "sha512": hashlib.sha512(b"<TEI/>\n").hexdigest()}
    assert (target / "data" / "letter.xml").read_bytes() == b"<TEI/>\n"
    source.write_bytes(b"<TEI/> \n")  # one byte more than the manifest says
    with pytest.raises(CorpusError) as caught, staged_folder(target) as folder:
        folder.copy("data/letter.xml", source, 7, sha256, "changed while copied")
    assert [(i.code, i.message) for i in caught.value.issues] == [("fixity.changed", "changed while copied")]
    assert (target / "data" / "letter.xml").read_bytes() == b"<TEI/>\n"  # the old folder stays
    assert sorted(p.name for p in target.parent.iterdir()) == ["bag"]


def test_a_failed_folder_leaves_no_folder_it_made(tmp_path: Path) -> None:
    with pytest.raises(ValueError), staged_folder(tmp_path / "new" / "deeper" / "bag") as folder:
        folder.add("../out.txt", b"x")
    assert list(tmp_path.iterdir()) == []
