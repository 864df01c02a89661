"""The corpus reader streams the manifest: same verdicts and entries as reading it whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ingest.corpus import check_fixity, open_corpus, read_manifest
from ingest.errors import CorpusError
from ingest.manifest import check_manifest

from .conftest import ExportCorpus


def _copy(export_corpus: ExportCorpus, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    return folder, json.loads((folder / "manifest.json").read_bytes())


def _write(folder: Path, manifest: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _codes(folder: Path) -> list[tuple[str, str]]:
    with pytest.raises(CorpusError) as caught:
        read_manifest(folder)
    return [(i.code, i.message) for i in caught.value.issues]


def test_entries_come_back_sorted_and_whole(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    folder, manifest = _copy(export_corpus, tmp_path)
    manifest["documents"].reverse()  # a manifest written by hand, in another order
    _write(folder, manifest)
    read = read_manifest(folder)
    want = sorted(manifest["documents"], key=lambda e: e["tei"]["path"])
    assert list(read.documents()) == want
    assert list(open_corpus(folder).documents) == want
    assert read.count == len(want) and len(open_corpus(folder).documents) == len(want)
    assert {k: read[k] for k in read.head} == {k: v for k, v in manifest.items() if k != "documents"}
    assert check_fixity(folder, read).ok


def test_a_broken_entry_is_reported_where_the_whole_manifest_would_be(export_corpus: ExportCorpus,
                                                                      tmp_path: Path) -> None:
    folder, manifest = _copy(export_corpus, tmp_path)
    manifest["documents"][2]["tei"]["sha256"] = "ABC"
    del manifest["documents"][4]["title"]
    manifest["totals"]["sources"] = -1
    _write(folder, manifest)
    expected = check_manifest(manifest)
    assert len(expected) == 3
    assert sorted(message for _, message in _codes(folder)) == sorted(expected)


def test_an_entry_listed_twice_is_refused(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    folder, manifest = _copy(export_corpus, tmp_path)
    manifest["documents"].append(manifest["documents"][0])
    _write(folder, manifest)
    name = manifest["documents"][0]["tei"]["path"]
    assert _codes(folder) == [("manifest.duplicate", f"lists {name} more than once in its documents")]


@pytest.mark.parametrize("documents", [3, {"a": 1}, None, "x"])
def test_documents_that_are_not_a_list_are_refused(export_corpus: ExportCorpus, tmp_path: Path,
                                                   documents: Any) -> None:
    folder, manifest = _copy(export_corpus, tmp_path)
    manifest["documents"] = documents
    _write(folder, manifest)
    assert _codes(folder) == [("manifest.schema", p) for p in check_manifest(manifest)] != []


@pytest.mark.parametrize(("text", "code"), [
    ('{"documents": [', "manifest.invalid"),
    ('{"a": 1} {"b": 2}', "manifest.invalid"),
    ("[1, 2]", "manifest.schema"),
    ('"text"', "manifest.schema"),
    ('{"documents": 3}', "manifest.schema"),
])
def test_what_is_not_a_manifest_is_refused(export_corpus: ExportCorpus, tmp_path: Path, text: str,
                                           code: str) -> None:
    folder, _ = _copy(export_corpus, tmp_path)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    assert {c for c, _ in _codes(folder)} == {code}
