"""What every export shares: the build date it is stamped with, and whole-folder atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.config import CorpusConfig
from ingest.errors import ConfigError, OutputError
from ingest.export import export_build, write_folder


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
