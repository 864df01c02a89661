"""Incremental runs: nothing changed costs almost nothing; one change re-encodes one document;
a removed source takes its output and its manifest entry with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ingest.pipeline as pipeline
from ingest.cli import main

from .conftest import EPOCH, ROOT
from .test_cli import GOOD_LETTER


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the documents actually encoded."""
    seen: list[str] = []
    real = pipeline.encode_source

    def encode_source(ref, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(ref.path.name)
        return real(ref, *args, **kwargs)

    monkeypatch.setattr(pipeline, "encode_source", encode_source)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    return seen


def _run(src: Path, out: Path, config: Path = ROOT / "tei-ingest.toml") -> int:
    return main(["ingest", str(src), "-o", str(out), "-q", "--config", str(config)])


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def test_only_what_changed_is_encoded_again(tmp_path: Path, counted: list[str]) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i in range(4):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    assert _run(src, out) == 0
    assert sorted(counted) == ["l0.txt", "l1.txt", "l2.txt", "l3.txt"]
    first = _files(out)
    counted.clear()
    assert _run(src, out) == 0
    assert counted == []  # nothing changed: nothing encoded
    assert _files(out) == first
    (src / "l2.txt").write_text(GOOD_LETTER.replace("12 février", "20 février"), encoding="utf-8")
    assert _run(src, out) == 0
    assert counted == ["l2.txt"]
    now = _files(out)
    assert {n for n in now if now[n] != first[n]} == {"l2.xml", "manifest.json"}
    counted.clear()
    (src / "l1.txt").unlink()
    assert _run(src, out) == 0
    assert counted == []
    assert "l1.xml" not in _files(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [d["tei"]["path"] for d in manifest["documents"]] == ["l0.xml", "l2.xml", "l3.xml"]


def test_a_changed_configuration_encodes_everything_again(tmp_path: Path, counted: list[str]) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    assert _run(src, out) == 0
    config = tmp_path / "tei-ingest.toml"
    config.write_text((ROOT / "tei-ingest.toml").read_text(encoding="utf-8")
                      .replace('tei_all = "../shared', f'tei_all = "{ROOT.parent}/shared')
                      .replace('authorities = "authorities.toml"', f'authorities = "{ROOT}/authorities.toml"')
                      .replace('title = "', 'title = "Changed: ', 1), encoding="utf-8")
    counted.clear()
    assert _run(src, out, config) == 0
    assert counted == ["a.txt"]


def test_an_edited_output_is_not_removed(tmp_path: Path, counted: list[str]) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (src / "b.txt").write_text(GOOD_LETTER.replace("12 février", "13 février"), encoding="utf-8")
    assert _run(src, out) == 0
    (out / "b.xml").write_bytes((out / "b.xml").read_bytes() + b"<!-- edited by hand -->\n")
    (src / "b.txt").unlink()
    assert _run(src, out) == 0
    assert (out / "b.xml").exists()  # not what tei-ingest wrote: left alone


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_a_removed_source_leaves_a_tombstone_that_lasts(tmp_path: Path, counted: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What a harvester needs to hear of a deletion: which document, and since when."""
    from ingest.manifest import check_manifest

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i in range(3):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    assert _run(src, out) == 0
    assert "deleted" not in _manifest(out)
    title = next(d["title"] for d in _manifest(out)["documents"] if d["tei"]["path"] == "l1.xml")
    kept = (src / "l1.txt").read_bytes()
    (src / "l1.txt").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 86400))
    assert _run(src, out) == 0
    tomb = {"id": "doc-l1", "tei_path": "l1.xml", "title": title, "deleted": "2026-11-24T00:00:00Z"}
    assert _manifest(out)["deleted"] == [tomb]
    assert check_manifest(_manifest(out)) == []
    assert not (out / "l1.xml").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 2 * 86400))
    assert _run(src, out) == 0
    assert _manifest(out)["deleted"] == [tomb]  # the date it left, not the date of this run
    (src / "l1.txt").write_bytes(kept)
    assert _run(src, out) == 0
    assert "deleted" not in _manifest(out)  # it came back
    assert "l1.xml" in {d["tei"]["path"] for d in _manifest(out)["documents"]}


def test_a_removal_an_interrupted_run_was_making_still_leaves_a_tombstone(tmp_path: Path,
                                                                         counted: list[str]) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i in range(2):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    assert _run(src, out) == 0
    manifest = _manifest(out)
    (gone,) = [d for d in manifest["documents"] if d["tei"]["path"] == "l0.xml"]
    # what a run killed while removing l0 leaves: the file gone, the journal saying so
    manifest["documents"] = [d for d in manifest["documents"] if d is not gone]
    manifest["pending"] = [{"document": None, "previous": gone}]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (out / "l0.xml").unlink()
    (src / "l0.txt").unlink()
    assert _run(src, out) == 0
    after = _manifest(out)
    assert [t["tei_path"] for t in after["deleted"]] == ["l0.xml"]
    assert "pending" not in after


def test_a_run_served_from_its_records_prepares_no_schema(tmp_path: Path, counted: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to encode, nothing to validate: the schemas are not compiled, the bytes are the same."""
    from ingest.validate import ProjectSchema, TeiAllSchema

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    assert _run(src, out) == 0
    first = _files(out)
    prepared: list[str] = []
    for schema in (ProjectSchema, TeiAllSchema):
        real = schema.prepare
        monkeypatch.setattr(schema, "prepare", lambda self, real=real: (prepared.append(self.name), real(self)))
    counted.clear()
    assert _run(src, out) == 0
    assert counted == [] and prepared == []
    assert _files(out) == first
    (src / "b.txt").write_text(GOOD_LETTER.replace("12 février", "13 février"), encoding="utf-8")
    assert _run(src, out) == 0
    assert counted == ["b.txt"] and "project" in prepared


def test_a_schema_that_cannot_be_read_stops_the_run_before_any_document(
        tmp_path: Path, counted: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The schemas are prepared before the first document: a broken tei_all is exit 3, not every document failed."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    broken = tmp_path / "tei_all.rng"
    broken.write_text("<grammar xmlns='http://relaxng.org/ns/structure/1.0'><start>", encoding="utf-8")
    code = main(["ingest", str(src), "-o", str(out), "-q", "--tei-all", str(broken),
                 "--config", str(ROOT / "tei-ingest.toml")])
    assert code == 3
    assert "tei_all.rng" in capsys.readouterr().err
    assert counted == []
    assert not (out / "a.xml").exists()


def test_records_no_run_has_used_for_a_month_are_removed(tmp_path: Path, counted: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The record cache does not grow without bound: folders of run keys left unused are pruned."""
    import os
    import time

    cache = tmp_path / "cache"
    monkeypatch.setenv("TEI_INGEST_CACHE", str(cache))
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    assert _run(src, out) == 0
    (records,) = cache.glob("*/records")
    (current,) = records.iterdir()
    for folder, days in ((records / "stale", 31), (records / "recent", 29)):
        (folder / "ab").mkdir(parents=True)
        (folder / "ab" / "x.pickle").write_bytes(b"old")
        old = time.time() - days * 86400
        os.utime(folder, (old, old))
    os.utime(current, (time.time() - 40 * 86400,) * 2)  # in use again by the next run: kept
    counted.clear()
    assert _run(src, out) == 0
    assert counted == []  # its records were still there
    assert sorted(p.name for p in records.iterdir()) == sorted([current.name, "recent"])
    assert current.stat().st_mtime > time.time() - 60
