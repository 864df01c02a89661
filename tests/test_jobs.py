"""`ingest --jobs N`: documents encoded in worker processes, written in order: the same output."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.cli import main

from .conftest import EPOCH, ROOT, seed_copies


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """Thirty sources: the seeds six times over, with an empty one among them."""
    return seed_copies(tmp_path / "src", 6, ("3-empty.txt", b""))


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_jobs_write_the_same_bytes_and_report_the_same_failures(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    """Workers forked from the command (its one thread) or spawned (a caller with threads): the same bytes."""
    import threading

    import ingest.pipeline as pipeline

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.setenv("TEI_INGEST_CACHE", "off")  # every document encoded, none taken from a record
    monkeypatch.setattr(threading, "active_count", lambda: 1 if start == "fork" else 2)
    used: list[str] = []
    real = pipeline._start_method

    def start_method(*args: object) -> object:
        context = real(*args)  # type: ignore[arg-type]
        used.append(context.get_start_method())
        return context

    monkeypatch.setattr(pipeline, "_start_method", start_method)
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"out-{jobs}"
        assert main(["ingest", str(sources), "-o", str(out), "-q", "--jobs", str(jobs),
                     "--config", str(ROOT / "tei-ingest.toml")]) == 1
        err = capsys.readouterr().err
        empty = f"error: {sources}/3-empty.txt: [source.empty] is empty (0 bytes): nothing to encode"
        assert err.splitlines() == [empty]
        outputs[jobs] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(outputs[1]) == 31  # thirty documents and the manifest
    assert outputs[1] == outputs[2]
    assert used == [start]


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ingest", str(tmp_path), "-o", str(tmp_path / "o"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
