"""`ingest --executor dask`: the per-document work on a dask.distributed cluster, the same bytes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.cli import main

from .conftest import EPOCH, ROOT, SEEDS, seed_copies

distributed = pytest.importorskip("distributed", reason="dask.distributed is a test dependency: make test installs it")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Start a LocalCluster of two worker processes on 127.0.0.1; return its scheduler's address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=50) as local:
        yield local.scheduler_address


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """Twenty sources: the seeds four times over, and a blank one."""
    return seed_copies(tmp_path / "src", 4, ("2-blank.txt", b"   \n"))


def _ingest(sources: Path, out: Path, *extra: str) -> int:
    return main(["ingest", str(sources), "-o", str(out), "-q", "--config", str(ROOT / "tei-ingest.toml"), *extra])


def test_a_dask_cluster_writes_what_a_local_run_writes(cluster: str, sources: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.setenv("TEI_INGEST_CACHE", "off")  # every document goes to the cluster
    assert cluster.startswith("tcp://127.0.0.1:")
    assert _ingest(sources, tmp_path / "local") == 1
    local_err = capsys.readouterr().err
    assert _ingest(sources, tmp_path / "dask", "--executor", "dask", "--scheduler", cluster) == 1
    assert capsys.readouterr().err == local_err
    assert "[source.empty]" in local_err
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").iterdir()}
    remote = {p.name: p.read_bytes() for p in (tmp_path / "dask").iterdir()}
    assert len(local) == 4 * len(SEEDS) + 1
    assert remote == local


def test_an_unreachable_scheduler_is_exit_3(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.pipeline

    monkeypatch.setenv("TEI_INGEST_CACHE", "off")
    monkeypatch.setattr(ingest.pipeline, "DASK_CONNECT_TIMEOUT", "2s")
    with socket.socket() as s:  # a port on this machine that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _ingest(sources, tmp_path / "out", "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}") == 3
    assert "[executor.dask]" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()  # nothing was written


def test_dask_and_scheduler_go_together(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _ingest(sources, tmp_path / "out", "--executor", "dask") == 2
    assert _ingest(sources, tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1") == 2
    assert "go together" in capsys.readouterr().err
