"""The manifest as a fixity record: its JSON Schema, every digest recomputed, and `tei-ingest verify`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ingest.cli import main

from .conftest import ROOT, ExportCorpus


@pytest.fixture
def corpus(export_corpus: ExportCorpus, tmp_path: Path) -> Path:
    """Return a copy of the export corpus that a test may damage."""
    return Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_validates_and_every_digest_is_right(corpus: Path) -> None:
    """Recompute the digests here with hashlib, not with the project's reader."""
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
    manifest = _manifest(corpus)
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(manifest)) == []
    assert manifest["corpus"]["digest_algorithms"] == ["sha256", "sha512"]
    on_disk = sorted(p.name for p in corpus.iterdir() if p.name != "manifest.json")
    assert sorted(d["tei"]["path"] for d in manifest["documents"]) == on_disk
    for d in manifest["documents"]:
        data = (corpus / d["tei"]["path"]).read_bytes()
        assert d["tei"]["bytes"] == len(data)
        assert d["tei"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert d["tei"]["sha512"] == hashlib.sha512(data).hexdigest()
        assert d["tei"]["media_type"] == "application/tei+xml"
        assert d["tei"]["puid"] == "fmt/1476"
    assert manifest["totals"]["accepted"] == len(on_disk) == 8
    # The schema can fail: a digest of the wrong length is refused.
    manifest["documents"][0]["tei"]["sha256"] = "0" * 63
    assert list(Draft202012Validator(schema).iter_errors(manifest))


def test_verify_intact(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(corpus)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "8 files listed: 8 unchanged, 0 changed, 0 missing; 0 unexpected" in captured.err


def test_verify_reports_changed_missing_and_unexpected(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    letter = corpus / "lettre_dupont_1921.xml"
    data = bytearray(letter.read_bytes())
    at = data.index(b"Dupont")
    data[at] = ord("d")  # same size: only a digest can tell
    letter.write_bytes(bytes(data))
    (corpus / "letter_hartley_1899.xml").write_bytes(b"<TEI/>")  # another size
    (corpus / "lettre_sans_date.xml").unlink()
    (corpus / "stray.xml").write_text("<x/>", encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "note.txt").write_text("x", encoding="utf-8")
    assert main(["verify", str(corpus)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines == [
        f"{corpus}/letter_hartley_1899.xml: [fixity.changed] is 6 bytes, the manifest says "
        f"{(_entry(corpus, 'letter_hartley_1899.xml'))['tei']['bytes']}",
        f"{corpus}/lettre_dupont_1921.xml: [fixity.changed] its sha256 differs from the manifest's",
        f"{corpus}/lettre_sans_date.xml: [fixity.missing] is listed in the manifest but not there",
        f"{corpus}/stray.xml: [fixity.unexpected] is there but not listed in the manifest",
        f"{corpus}/sub/note.txt: [fixity.unexpected] is there but not listed in the manifest",
    ]
    assert "8 files listed: 5 unchanged, 2 changed, 1 missing; 2 unexpected" in out.err


def _entry(folder: Path, name: str) -> dict:
    return next(d for d in _manifest(folder)["documents"] if d["tei"]["path"] == name)


def test_verify_json(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (corpus / "lettre_sans_date.xml").unlink()
    assert main(["verify", "--format", "json", str(corpus)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {"corpus": str(corpus), "checked": 8, "ok": False, "changed": [],
                      "missing": ["lettre_sans_date.xml"], "unexpected": [], "pending": []}


@pytest.mark.parametrize(("damage", "code"), [
    ("delete", "manifest.missing"),
    ("garble", "manifest.invalid"),
    ("schema", "manifest.schema"),
    ("traversal", "manifest.schema"),
    ("subfolder", "manifest.path"),
])
def test_verify_unusable_manifest_is_exit_3(corpus: Path, capsys: pytest.CaptureFixture[str],
                                            damage: str, code: str) -> None:
    path = corpus / "manifest.json"
    if damage == "delete":
        path.unlink()
    elif damage == "garble":
        path.write_bytes(path.read_bytes()[:100])
    else:
        manifest = _manifest(corpus)
        if damage == "schema":
            del manifest["documents"][0]["tei"]["sha512"]
        elif damage == "traversal":
            manifest["documents"][0]["tei"]["path"] = "../../etc/passwd"
        else:  # the schema allows it; the reader still refuses to leave the folder's top level
            manifest["documents"][0]["tei"]["path"] = "sub/x.xml"
        path.write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["verify", str(corpus)]) == 3
    assert f"[{code}]" in capsys.readouterr().err


def test_export_refuses_a_corpus_that_changed(corpus: Path, export_corpus: ExportCorpus, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """An export never carries a file that differs from its manifest."""
    (corpus / "lettre_dupont_1921.xml").write_bytes(b"<TEI/>")
    out = tmp_path / "out"
    assert main(["export", "all", "--corpus", str(corpus), "--config", str(export_corpus.config_path),
                 "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "[fixity.changed]" in err and "[fixity.failed]" in err
    assert not out.exists()


def test_verify_reads_the_journal_of_an_interrupted_run(corpus: Path, export_corpus: ExportCorpus,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest left by a killed run lists the files it was writing with both their states."""
    manifest = _manifest(corpus)
    entries = {d["tei"]["path"]: d for d in manifest["documents"]}
    written, unwritten, replaced, removed, wrong = (
        "lettre_dupont_1921.xml", "lettre_sans_date.xml", "letter_hartley_1899.xml",
        "000_22c6ae8344106c7e.xml", "001_9d627c4d15549885.xml")
    older = {**entries[replaced], "tei": {**entries[replaced]["tei"], "bytes": 6,
                                          "sha256": hashlib.sha256(b"<TEI/>").hexdigest(),
                                          "sha512": hashlib.sha512(b"<TEI/>").hexdigest()}}
    manifest["pending"] = [
        {"document": entries[written], "previous": None},  # written, not yet listed
        {"document": entries[unwritten], "previous": None},  # not written yet
        {"document": entries[replaced], "previous": older},  # still the old bytes
        {"document": None, "previous": entries[removed]},  # removed
        {"document": None, "previous": older | {"tei": {**older["tei"], "path": wrong}}},  # neither state
    ]
    manifest["documents"] = [d for d in manifest["documents"]
                             if d["tei"]["path"] not in (written, unwritten, replaced, removed, wrong)]
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / unwritten).unlink()
    (corpus / replaced).write_bytes(b"<TEI/>")
    (corpus / removed).unlink()
    assert main(["verify", "--format", "json", str(corpus)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["pending"] == [
        {"path": removed, "state": "removed"},
        {"path": replaced, "state": "not replaced yet"},
        {"path": written, "state": "written"},
        {"path": unwritten, "state": "not written yet"},
    ]
    assert report["changed"] == [
        {"path": wrong, "reason": "matches neither state the interrupted run's journal gives for it"}]
    assert report["missing"] == [] and report["unexpected"] == []
    # An export never starts from the corpus of an interrupted run.
    assert main(["export", "cmif", "--corpus", str(corpus), "--config", str(export_corpus.config_path),
                 "-o", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert f"{corpus}/{written}: [fixity.pending] was being written by a run that was interrupted (written)" in err


def _replace_listed(folder: Path, name: str, data: bytes) -> None:
    """Put other bytes in a listed file and make the manifest agree, as a forger would."""
    (folder / name).write_bytes(data)
    manifest = _manifest(folder)
    for d in manifest["documents"]:
        if d["tei"]["path"] == name:
            d["tei"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            sha512=hashlib.sha512(data).hexdigest())
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(("payload", "code", "words"), [
    (b'<?xml version="1.0"?>\n<!DOCTYPE TEI [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
     b'<TEI xmlns="http://www.tei-c.org/ns/1.0">&b;</TEI>\n', "xml.entities", "declares entities"),
    (b'<!DOCTYPE TEI [<!ENTITY p SYSTEM "file:///etc/passwd">]>\n<TEI xmlns="http://www.tei-c.org/ns/1.0">&p;</TEI>\n',
     "xml.entities", "declares entities"),
    (b'<TEI xmlns="http://www.tei-c.org/ns/1.0">' + b"<hi>" * 100_000 + b"</hi>" * 100_000 + b"</TEI>",
     "xml.malformed", "nested too deeply"),
])
def test_a_forged_tei_file_in_the_corpus_is_refused(corpus: Path, export_corpus: ExportCorpus, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str], payload: bytes,
                                                    code: str, words: str) -> None:
    """Re-reading tei/ is as guarded as validate: no entity is expanded, no file read, depth bounded."""
    _replace_listed(corpus, "lettre_dupont_1921.xml", payload)
    assert main(["verify", str(corpus)]) == 0  # its fixity is what the (forged) manifest says
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["export", "dc", "--corpus", str(corpus), "--config", str(export_corpus.config_path),
                 "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert re.search(rf"lettre_dupont_1921\.xml(:\d+)?: \[{re.escape(code)}\]", err) and words in err
    assert "root:" not in err  # nothing of /etc/passwd
    assert not out.exists()
