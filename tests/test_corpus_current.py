"""The committed corpus in tei/ is exactly what `make ingest` produces, and it is valid."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.manifest import check_manifest

from .conftest import EPOCH, ROOT, SEEDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_corpus() -> Iterator[Path]:
    """Build the corpus from seeds/ into a temporary folder, as `make ingest` does.

    The folder sits beside tei/ so that the relative schema paths in the documents'
    xml-model declarations are the same as in the committed corpus.
    """
    out = Path(tempfile.mkdtemp(prefix=".corpus-check-", dir=ROOT))
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)
    mp.delenv("SOURCE_DATE_EPOCH", raising=False)
    try:
        code = main(["ingest", "seeds", "-o", str(out), "-q", "--require-tei-all"])
    finally:
        mp.undo()
    assert code == 0
    yield out
    shutil.rmtree(out, ignore_errors=True)


def test_committed_corpus_is_current(fresh_corpus: Path) -> None:
    committed = ROOT / "tei"
    names = sorted(p.name for p in fresh_corpus.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), "run `make ingest` and commit tei/"
    for name in names:
        if name == "manifest.json":
            continue  # the manifest holds the source paths as given on the command line; compared below
        assert (fresh_corpus / name).read_bytes() == (committed / name).read_bytes(), (
            f"tei/{name} is out of date: run `make ingest` and commit the result")
    fresh = json.loads((fresh_corpus / "manifest.json").read_text(encoding="utf-8"))
    kept = json.loads((committed / "manifest.json").read_text(encoding="utf-8"))
    assert fresh == kept


def test_every_seed_is_encoded(fresh_corpus: Path) -> None:
    assert sorted(p.stem for p in fresh_corpus.glob("*.xml")) == [p.stem for p in SEEDS]


def test_manifest_is_valid_and_its_digests_are_right(fresh_corpus: Path) -> None:
    manifest = json.loads((fresh_corpus / "manifest.json").read_text(encoding="utf-8"))
    assert check_manifest(manifest) == []
    assert manifest["corpus"]["build_date"] == "2026-11-23T00:00:00Z"
    assert manifest["totals"]["accepted"] == 5 and manifest["rejected"] == []
    for doc in manifest["documents"]:
        data = (fresh_corpus / doc["tei"]["path"]).read_bytes()
        assert doc["tei"]["bytes"] == len(data)
        assert doc["tei"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert doc["tei"]["sha512"] == hashlib.sha512(data).hexdigest()
        raw = (ROOT / doc["source"]["path"]).read_bytes()
        assert doc["source"]["sha256"] == hashlib.sha256(raw).hexdigest()
        assert doc["validation"] == {"project": "valid", "tei_all": "valid"}


def test_tampered_manifest_is_rejected_by_its_schema(fresh_corpus: Path) -> None:
    manifest = json.loads((fresh_corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"][0]["tei"]["sha256"] = "0" * 63
    del manifest["documents"][1]["source"]
    manifest["documents"][2]["date"] = {"cert": "high", "text": "x", "when": "06/11/2017"}
    problems = check_manifest(manifest)
    assert len(problems) == 3, problems


def test_seeds_valid_with_jing(fresh_corpus: Path, jing: str, tei_all_file: Path) -> None:
    files = sorted(str(p) for p in fresh_corpus.glob("*.xml"))
    for schema in (str(tei_all_file), str(ROOT / "schemas" / "tei-ingest.rng")):
        done = subprocess.run([jing, schema, *files], capture_output=True, text=True, check=False)
        errors = [line for line in done.stdout.splitlines() if ": error:" in line or "fatal" in line]
        assert done.returncode == 0 and not errors, done.stdout


def test_rerun_into_the_same_folder_changes_nothing(fresh_corpus: Path) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in fresh_corpus.iterdir()}
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)
    mp.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    try:
        assert main(["ingest", "seeds", "-o", str(fresh_corpus), "-q"]) == 0
    finally:
        mp.undo()
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in fresh_corpus.iterdir()}
    assert after == before  # same bytes, and files left untouched
