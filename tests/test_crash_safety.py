"""Crash safety: a run killed with SIGKILL at random points leaves a corpus that does not lie.

After each kill: every TEI file in the folder is complete and valid, and the manifest
describes exactly what is there (the files it lists, with their digests, and the few an
interrupted run was writing, each in one of the two states its journal gives). A last
run finishes the job: the folder is then byte for byte what a clean run writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from ingest.manifest import check_manifest
from ingest.validate import ProjectSchema

from .conftest import EPOCH, ROOT

LETTER = """Lyon, le {day} mars 1921

Monsieur le Directeur,

Je vous remercie de votre lettre n° {n} et je vous confirme que la réunion du comité aura
lieu comme prévu au siège de l'association, avec {extra}.

Veuillez agréer, Monsieur le Directeur, l'expression de mes sentiments distingués.

Jean Dupont
"""

DOCUMENTS = 2000


def _sources(folder: Path, variant: int, count: int = DOCUMENTS) -> None:
    for n in range(count):
        who = ("les membres du bureau", "le trésorier")[variant % 2]
        text = LETTER.format(day=1 + n % 28, n=n, extra=f"{who} (séance {variant})" if variant > 1 else who)
        (folder / f"lettre-{n:04d}.txt").write_text(text, encoding="utf-8")


def _run(src: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    return subprocess.Popen([sys.executable, "-m", "ingest", "ingest", str(src), "-o", str(out), "-q",
                             "--config", str(ROOT / "tei-ingest.toml")],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _check_consistent(out: Path, project: ProjectSchema) -> None:
    """Every TEI file is complete and valid, and the manifest describes exactly what is there.

    Exactly: every listed file is there with its digest; every file the interrupted run's
    journal lists as pending is in one of the two states it gives (absent only where one
    state is absence); and no other file is there. Hidden ``.*.tmp`` files are the
    temporaries of an atomic write, never part of the corpus (the next run removes them).
    """
    files = {p.name: p.read_bytes() for p in out.iterdir()
             if p.name != "manifest.json" and not (p.name.startswith(".") and p.name.endswith(".tmp"))}
    for name, data in files.items():
        doc = etree.ElementTree(etree.fromstring(data))  # complete: it parses
        assert project.check(doc, name).valid, name
    manifest_file = out / "manifest.json"
    if not manifest_file.exists():
        assert files == {}, "files were written before any manifest"
        return
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    assert check_manifest(manifest) == []
    described = set()
    for entry in manifest["documents"]:
        name = entry["tei"]["path"]
        assert name in files, f"the manifest lists {name}, which is not there"
        assert hashlib.sha256(files[name]).hexdigest() == entry["tei"]["sha256"], name
        described.add(name)
    for item in manifest.get("pending", []):
        states = [e["tei"]["sha256"] if e else None for e in (item["document"], item["previous"])]
        name = (item["document"] or item["previous"])["tei"]["path"]
        assert name not in described, f"{name} is both listed and pending"
        now = hashlib.sha256(files[name]).hexdigest() if name in files else None
        assert now in states, f"{name} is in neither state the journal gives for it"
        described.add(name)
    assert set(files) <= described, f"not described by the manifest: {sorted(set(files) - described)}"


def test_killed_runs_leave_a_consistent_corpus_and_a_rerun_finishes(tmp_path: Path) -> None:
    src, out, clean = tmp_path / "src", tmp_path / "out", tmp_path / "clean"
    src.mkdir()
    project = ProjectSchema()
    rng = random.Random(20261123)
    # how long a full run takes here, to kill inside it
    _sources(src, 0)
    t = time.monotonic()
    assert _run(src, clean).wait() == 0
    full = time.monotonic() - t
    kills = 0
    for variant in range(6):
        # every run changes every document (no earlier record fits: each run encodes them all,
        # as long as the clean run timed above), so files are replaced while the run is killed
        _sources(src, variant)
        proc = _run(src, out)
        time.sleep(rng.uniform(0.15, 0.95) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        _check_consistent(out, project)
    assert kills >= 3
    _sources(src, 0)
    assert _run(src, out).wait() == 0
    _check_consistent(out, project)
    listed = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    expected = {p.name: p.read_bytes() for p in clean.iterdir() if not p.name.startswith(".")}
    assert listed == expected
    assert not list(out.glob(".*.tmp"))


class _Crash(BaseException):
    """A crash at a chosen write, like a kill: nothing after it runs."""


def test_a_crash_at_any_write_leaves_a_consistent_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same invariant, deterministically: the run is stopped at its k-th change to the disk, for every k.

    Every change a run makes to the folder is a rename (``os.replace``: a file, a
    checkpoint, the manifest) or a removal (``os.unlink``); the run is stopped just before
    the k-th of them, for every k until a run goes through.
    """
    import ingest.pipeline as pipeline
    from ingest.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.setattr(pipeline, "BATCH", 4)
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    project = ProjectSchema()
    args = ["ingest", str(src), "-o", str(out), "-q", "--config", str(ROOT / "tei-ingest.toml")]
    _sources(src, 0, 10)
    assert main(args) == 0
    real_replace, real_unlink = os.replace, os.unlink
    finished = 0
    for k in range(1, 80):
        _sources(src, k, 10)  # every other run replaces every file
        if k % 3 == 0:  # and every third removes sources, whose outputs are then removed
            for n in range(7, 10):
                (src / f"lettre-{n:04d}.txt").unlink()
        calls = [0]

        def counted(real, k: int = k, calls: list[int] = calls):  # type: ignore[no-untyped-def]
            def change(*args: object, **kwargs: object) -> object:
                calls[0] += 1
                if calls[0] == k:
                    raise _Crash
                return real(*args, **kwargs)
            return change

        monkeypatch.setattr(os, "replace", counted(real_replace))
        monkeypatch.setattr(os, "unlink", counted(real_unlink))
        try:
            main(args)
            finished += 1
        except _Crash:
            pass
        monkeypatch.setattr(os, "replace", real_replace)
        monkeypatch.setattr(os, "unlink", real_unlink)
        _check_consistent(out, project)
    assert finished >= 10  # the last runs made fewer changes than k: every point of a run was crashed


def test_every_file_is_on_disk_before_it_is_renamed_into_place(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are staged without a flush each and flushed batch by batch: never renamed before their flush.

    A rename that reaches the disk before the data it names would leave an empty or
    partial file after a power cut, where the journal promises the old or the new one.
    """
    import ingest.pipeline as pipeline
    from ingest.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.setattr(pipeline, "BATCH", 4)
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _sources(src, 0, 10)
    real_fsync, real_replace = os.fsync, os.replace
    flushed: set[tuple[int, int]] = set()  # (device, inode) of every file flushed
    renamed: list[str] = []

    def fsync(fd: int) -> None:
        real_fsync(fd)
        st = os.fstat(fd)
        flushed.add((st.st_dev, st.st_ino))

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if Path(target).parent == out:  # the corpus (the disk cache may lose a file: it is rebuilt)
            st = os.stat(source)
            assert (st.st_dev, st.st_ino) in flushed, f"{source} renamed to {target} before it was flushed"
            renamed.append(os.path.basename(target))
        real_replace(source, target)

    from ingest import serialize

    real_syncfs = serialize._syncfs()
    synced = [0]

    def syncfs(fd: int) -> int:  # flushes the whole file system: every file there now is on disk
        done = real_syncfs(fd) if real_syncfs is not None else 0
        if done == 0:
            synced[0] += 1
            device = os.fstat(fd).st_dev
            for folder in (out, tmp_path):
                for entry in os.scandir(folder):
                    st = entry.stat(follow_symlinks=False)
                    if st.st_dev == device:
                        flushed.add((st.st_dev, st.st_ino))
        return done

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(serialize, "_syncfs", lambda: syncfs)
    assert main(["ingest", str(src), "-o", str(out), "-q", "--config", str(ROOT / "tei-ingest.toml")]) == 0
    assert sum(name.endswith(".xml") for name in renamed) == 10
    assert synced[0] >= 3  # batches of 4 of 10 files


def test_a_batch_is_flushed_with_one_syncfs_a_file_system_or_a_fsync_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import serialize

    files = [serialize.stage_file(tmp_path / f"{n}.xml", b"<x/>", sync=False) for n in range(3)]
    calls: list[str] = []
    answer = [0]

    def syncfs(fd: int) -> int:
        calls.append("syncfs")
        return answer[0]

    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(serialize, "_syncfs", lambda: syncfs)
    monkeypatch.setattr(serialize.os, "fsync", fsync)
    serialize.sync_files(iter(files))
    assert calls == ["syncfs"]  # one folder, one file system
    calls.clear()
    serialize.sync_files(files[:1])
    assert calls == ["fsync"]  # a file alone
    calls.clear()
    answer[0] = -1  # syncfs failed: each file is flushed
    serialize.sync_files(files)
    assert calls == ["syncfs", "fsync", "fsync", "fsync"]
    calls.clear()
    monkeypatch.setattr(serialize, "_syncfs", lambda: None)  # not Linux
    serialize.sync_files(files)
    assert calls == ["fsync"] * 3
