"""The BagIt export, checked by the tools that receive it: bagit-python, bagit-profile, rocrate-validator.

Every check is also shown to fail: the bag is copied, damaged in one way, and the same
tool must then refuse it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import bagit
import bagit_profile
import pytest
from lxml import etree

from ingest.cli import main
from ingest.config import load_config
from ingest.errors import CorpusError
from ingest.export import ExportContext, make_context
from ingest.export.bagit import PROFILE_ID, fold_tag, write
from ingest.export.rocrate import CRATE_CONTEXT

from .conftest import EPOCH, ROOT, ExportCorpus

BIN = Path(sys.executable).parent
PROFILE = ROOT / "schemas" / "bagit-profile.json"
TEI = "{http://www.tei-c.org/ns/1.0}"
#: Every term the crate may use: each is defined by the RO-Crate 1.1 context (schema.org 10.0
#: and dct:conformsTo). ``sha256``, for one, is not, which is why fixity is left to the bag.
CRATE_TERMS = {
    "about",
    "conformsTo",
    "contactPoint",
    "contentSize",
    "dateCreated",
    "datePublished",
    "description",
    "email",
    "encodingFormat",
    "endTime",
    "hasPart",
    "identifier",
    "inLanguage",
    "instrument",
    "license",
    "name",
    "publisher",
    "result",
    "version",
    "ContactPoint",
    "CreateAction",
    "CreativeWork",
    "Dataset",
    "File",
    "Organization",
    "SoftwareApplication",
    "WebSite",
}


def _context(export_corpus: ExportCorpus, epoch: int = EPOCH, folder: Path | None = None) -> ExportContext:
    config, _ = load_config(export_corpus.config_path)
    return make_context(folder or export_corpus.folder, config, {"SOURCE_DATE_EPOCH": str(epoch)})


@pytest.fixture(scope="module")
def bag(export_corpus: ExportCorpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the bag of the export corpus once; do not modify it."""
    out = tmp_path_factory.mktemp("bagit")
    (written,) = write(_context(export_corpus), out)
    assert written == out / "bag"
    return written


@pytest.fixture
def copy(bag: Path, tmp_path: Path) -> Path:
    """Return a copy of the bag that a test may damage."""
    return Path(shutil.copytree(bag, tmp_path / "bag"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _crate(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "data" / "ro-crate-metadata.json").read_bytes())  # type: ignore[no-any-return]


def _entities(crate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["@id"]: e for e in crate["@graph"]}


# --- bagit-python -----------------------------------------------------------------------


def _bagit_cli(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "bagit.py"), "--validate", str(folder)], capture_output=True, text=True, check=False, timeout=60
    )


def test_bagit_python_validates_the_bag(bag: Path, copy: Path) -> None:
    bagit.Bag(str(bag)).validate()  # complete and valid: every file listed, every digest right
    assert _bagit_cli(bag).returncode == 0
    assert sorted(bagit.Bag(str(bag)).algorithms) == ["sha256", "sha512"]

    letter = copy / "data" / "lettre_dupont_1921.xml"
    data = bytearray(letter.read_bytes())
    data[data.index(b"Dupont")] = ord("d")  # one payload byte
    letter.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError, match=re.escape("lettre_dupont_1921.xml")):
        bagit.Bag(str(copy)).validate()
    result = _bagit_cli(copy)
    assert result.returncode != 0
    assert "lettre_dupont_1921.xml" in result.stderr


def test_bagit_python_refuses_a_changed_tag_file_or_an_extra_file(bag: Path, copy: Path) -> None:
    info = copy / "bag-info.txt"
    info.write_bytes(info.read_bytes().replace(b"Bagging-Date: 2026-11-23", b"Bagging-Date: 2026-11-24"))
    with pytest.raises(bagit.BagValidationError, match=re.escape("bag-info.txt")):
        bagit.Bag(str(copy)).validate()
    shutil.copy(bag / "bag-info.txt", info)
    bagit.Bag(str(copy)).validate()
    (copy / "data" / "extra.xml").write_bytes(b"<x/>")
    with pytest.raises(bagit.BagValidationError, match="Payload-Oxum validation failed"):
        bagit.Bag(str(copy)).validate()


# --- bagit-profile ----------------------------------------------------------------------


def _profile() -> bagit_profile.Profile:
    """Return the project's profile, read from its file (given as a dict, so nothing is fetched)."""
    profile = json.loads(PROFILE.read_text(encoding="utf-8"))
    return bagit_profile.Profile(profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"], profile=profile)


def test_bag_follows_its_profile(bag: Path, copy: Path) -> None:
    profile = _profile()
    assert profile.url == PROFILE_ID == bagit.Bag(str(bag)).info["BagIt-Profile-Identifier"]
    assert profile.validate_serialization(str(bag))
    assert profile.validate(bagit.Bag(str(bag))), profile.report

    info = copy / "bag-info.txt"
    text = info.read_text(encoding="utf-8")
    info.write_text(re.sub(r"^Source-Organization:.*\n", "", text, flags=re.M), encoding="utf-8")
    assert not profile.validate(bagit.Bag(str(copy)))
    assert any("Source-Organization" in str(e) for e in profile.report.errors)

    info.write_text(text + "Bagging-Date: 2026-11-24\n", encoding="utf-8")
    assert not profile.validate(bagit.Bag(str(copy)))
    assert any("Nonrepeatable tag 'Bagging-Date'" in str(e) for e in profile.report.errors)

    info.write_text(text, encoding="utf-8")
    (copy / "fetch.txt").write_text("https://example.org/x 1 data/x\n", encoding="utf-8")
    assert not profile.validate(bagit.Bag(str(copy)))
    assert any("Fetch.txt is present" in str(e) for e in profile.report.errors)


def test_bag_info_says_what_the_manifest_says(bag: Path, export_corpus: ExportCorpus) -> None:
    manifest = json.loads((export_corpus.folder / "manifest.json").read_bytes())["corpus"]
    info = bagit.Bag(str(bag)).info
    payload = [p for p in (bag / "data").iterdir()]
    assert info["Payload-Oxum"] == f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    assert info["Bagging-Date"] == "2026-11-23"
    assert info["Source-Organization"] == manifest["publisher"]
    assert info["Contact-Email"] == manifest["contact"]
    assert info["External-Identifier"] == manifest["id"]
    assert info["Bag-Software-Agent"] == f"tei-ingest {manifest['software']['version']}"
    # bagit-python keeps the line break of a folded value; unfolding (RFC 5322 §2.2.3) removes it.
    assert info["External-Description"].replace("\n", "") == manifest["description"]
    size, unit = info["Bag-Size"].split()
    total = sum(p.stat().st_size for p in bag.rglob("*") if p.is_file())
    assert unit == "KB" and float(size) == round(total / 1000, 1)
    lines = (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) > len(info)  # the description was folded
    # A line is longer than 78 characters only where its value is one word (nothing to fold at).
    assert all(len(line) <= 78 or " " not in line.split(": ", 1)[1] for line in lines)
    assert [line.split(":")[0] for line in lines if not line[0].isspace()] == sorted(info)


def test_fold_tag_keeps_the_value() -> None:
    value = "word " * 40 + "x" * 100 + " end"
    folded = fold_tag("External-Description", value.strip())
    lines = folded.splitlines()
    assert all(line[0] == " " for line in lines[1:])
    assert all(len(line) <= 78 for line in lines if "x" * 100 not in line)
    assert folded.replace("\n", "") == f"External-Description: {value.strip()}"
    assert fold_tag("Bagging-Date", "2026-11-23") == "Bagging-Date: 2026-11-23\n"


# --- RO-Crate ---------------------------------------------------------------------------


def _seed_cache(cache: Path) -> None:
    """Put the RO-Crate JSON-LD context the rocrate library ships into a requests-cache for the validator."""
    import requests
    from requests.adapters import BaseAdapter, HTTPAdapter
    from requests_cache import CachedSession
    from urllib3 import HTTPResponse

    # The rocrate library ships the RO-Crate 1.3 context, a superset of 1.1's: every term in
    # CRATE_TERMS maps to the same IRI in both. It is served under the 1.1 URL the crate names.
    body = importlib.resources.files("rocrate").joinpath("data/ro-crate.jsonld").read_bytes()
    context = json.loads(body)["@context"]
    assert all(term in context for term in CRATE_TERMS)

    class Local(BaseAdapter):
        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            raw = HTTPResponse(
                body=io.BytesIO(body),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                preload_content=False,
                request_url=request.url,
            )
            return HTTPAdapter().build_response(request, raw)

        def close(self) -> None:
            pass

    # The same backend and settings the validator opens its cache with (rocrate_validator.utils.http).
    session = CachedSession(
        cache_name=str(cache),
        backend="sqlite",
        expire_after=-1,
        allowable_methods=("GET",),
        allowable_codes=(200, 302, 404),
    )
    session.mount(CRATE_CONTEXT, Local())
    assert session.get(CRATE_CONTEXT).status_code == 200
    session.close()


@pytest.fixture(scope="module")
def validator_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an HTTP cache holding the crate's JSON-LD context, so the validator runs offline."""
    cache = tmp_path_factory.mktemp("rocrate-cache") / "http_cache"
    _seed_cache(cache)
    return cache


def _validate_crate(root: Path, cache: Path) -> tuple[set[tuple[str, str, str]], bool]:
    """Run rocrate-validator offline at the RECOMMENDED level; return its issues and verdict."""
    # No network: the validator is offline, and any request that slipped through would meet a dead proxy.
    env = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "XDG_CACHE_HOME": str(cache.parent),
    }
    result = subprocess.run(
        [
            str(BIN / "rocrate-validator"),
            "validate",
            "--offline",
            "--cache-path",
            str(cache),
            "-p",
            "ro-crate-1.1",
            "--no-auto-profile",
            "-l",
            "recommended",
            "--no-paging",
            "-f",
            "json",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    report = json.loads(result.stdout)
    assert report["validation_settings"]["offline"] is True
    assert result.returncode == (0 if report["passed"] else 1), result.stderr
    issues = {(i["severity"], i["violatingEntity"], i["violatingProperty"] or "") for i in report["issues"]}
    return issues, report["passed"]


#: What the corpus does not state, so the crate does not say it: who authored the corpus as a
#: whole (RO-Crate 1.1 root SHOULD name an author) and a web address for its publisher.
UNSTATED = {
    ("RECOMMENDED", "./", "http://schema.org/author"),
    ("RECOMMENDED", "./#publisher", "http://schema.org/url"),
}


def test_rocrate_validator_accepts_the_crate(bag: Path, copy: Path, validator_cache: Path) -> None:
    issues, _ = _validate_crate(bag / "data", validator_cache)
    # Every REQUIRED check passes, and of the RECOMMENDED ones only what the corpus does not state.
    assert issues == UNSTATED

    crate = _crate(copy)
    del crate["@graph"][1]["datePublished"]  # the root dataset's required property
    (copy / "data" / "ro-crate-metadata.json").write_text(json.dumps(crate), encoding="utf-8")
    issues, passed = _validate_crate(copy / "data", validator_cache)
    assert not passed
    assert ("REQUIRED", "./", "http://schema.org/datePublished") in issues


def test_crate_describes_every_file_as_its_tei_says(bag: Path, export_corpus: ExportCorpus) -> None:
    import pygfried

    crate = _crate(bag)
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = crate["@graph"]
    assert [e["@id"] for e in graph[:2]] == ["ro-crate-metadata.json", "./"]
    assert [e["@id"] for e in graph[2:]] == sorted(e["@id"] for e in graph[2:])
    used = {key for e in graph for key in e if not key.startswith("@")} | {e["@type"] for e in graph}
    assert used <= CRATE_TERMS
    entities = _entities(crate)
    root = entities["./"]
    manifest = json.loads((export_corpus.folder / "manifest.json").read_bytes())
    listed = sorted(d["tei"]["path"] for d in manifest["documents"])
    assert [p["@id"] for p in root["hasPart"]] == sorted([*listed, "manifest.json"])
    assert root["datePublished"] == "2026-11-23"
    assert entities[root["license"]["@id"]]["name"] == manifest["corpus"]["licence"]["name"]
    assert entities[root["publisher"]["@id"]]["@type"] == "Organization"
    assert entities["manifest.json"]["encodingFormat"] == "application/json"
    for name in listed:
        entity = entities[name]
        header = etree.parse(str(bag / "data" / name)).getroot().find(f"{TEI}teiHeader")
        assert header is not None
        (match,) = pygfried.identify(str(bag / "data" / name), detailed=True)["files"][0]["matches"]
        puid, mime = match["id"], match["mime"]
        assert entity["encodingFormat"] == [mime, {"@id": f"https://www.nationalarchives.gov.uk/PRONOM/{puid}"}]
        assert entities[f"https://www.nationalarchives.gov.uk/PRONOM/{puid}"]["@type"] == "WebSite"
        assert entity["contentSize"] == str((bag / "data" / name).stat().st_size)
        langs = [el.get("ident") for el in header.iter(f"{TEI}language")]
        assert entity["inLanguage"] == (langs[0] if len(langs) == 1 else langs)
        dates = [
            el for el in header.iter(f"{TEI}date") if el.getparent().tag in (f"{TEI}correspAction", f"{TEI}creation")
        ]
        when = dates[0].get("when") if dates else None
        if when and re.fullmatch(r"\d{4}(-\d{2}){0,2}", when):
            assert entity["dateCreated"] == when
        else:
            assert "dateCreated" not in entity  # a range, bounds or no date: nothing is made up
    # The three letters (a full date, a month, no date) and a news article dated by a lower bound only.
    assert entities["lettre_dupont_1921.xml"]["dateCreated"] == "1921-03-03"
    assert entities["letter_hartley_1899.xml"]["dateCreated"] == "1899-05"
    assert "dateCreated" not in entities["lettre_sans_date.xml"]
    assert "dateCreated" not in entities["003_9164d7363d0bce3c.xml"]
    action = entities["#ingest"]
    assert action["@type"] == "CreateAction" and action["instrument"] == {"@id": "#tei-ingest"}
    assert sorted(r["@id"] for r in action["result"]) == listed


# --- determinism, fixity, the command line ----------------------------------------------


def test_rerun_is_byte_identical_and_dated_from_the_epoch(
    bag: Path, export_corpus: ExportCorpus, tmp_path: Path
) -> None:
    (again,) = write(_context(export_corpus), tmp_path / "again")
    assert _files(again) == _files(bag)
    later = EPOCH + 3 * 86400
    (other,) = write(_context(export_corpus, later), tmp_path / "later")
    assert bagit.Bag(str(other)).info["Bagging-Date"] == "2026-11-26"
    assert _entities(_crate(other))["./"]["datePublished"] == "2026-11-26"
    bagit.Bag(str(other)).validate()
    changed = {name for name, data in _files(other).items() if _files(bag).get(name) != data}
    assert changed == {
        "bag-info.txt",
        "data/ro-crate-metadata.json",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    }


def test_payload_is_the_corpus_byte_for_byte(bag: Path, export_corpus: ExportCorpus) -> None:
    manifest = json.loads((export_corpus.folder / "manifest.json").read_bytes())
    payload = _files(bag / "data")
    listed = {d["tei"]["path"] for d in manifest["documents"]}
    assert set(payload) == listed | {"manifest.json", "ro-crate-metadata.json"}
    for name in [*listed, "manifest.json"]:
        assert payload[name] == (export_corpus.folder / name).read_bytes()
    lines = (bag / "manifest-sha512.txt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    assert lines == [f"{hashlib.sha512(payload[n]).hexdigest()}  data/{n}" for n in sorted(payload)]


def test_a_corpus_without_e_mail_or_description(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    """Tags and entities follow the manifest: no Contact-Email for a postal contact, a second identifier."""
    folder = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["corpus"].update(
        contact="Archives, 1 rue de la Paix, Lyon",
        description="",
        identifier_base="https://archives.example.org/letters/",
    )
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (written,) = write(_context(export_corpus, folder=folder), tmp_path / "out")
    bag = bagit.Bag(str(written))
    bag.validate()
    assert _profile().validate(bag)
    assert "Contact-Email" not in bag.info and "External-Description" not in bag.info
    assert bag.info["External-Identifier"] == ["tei-ingest-seeds", "https://archives.example.org/letters/"]
    entities = _entities(_crate(written))
    assert entities["#contact"] == {
        "@id": "#contact",
        "@type": "ContactPoint",
        "description": "Archives, 1 rue de la Paix, Lyon",
    }
    assert entities["./"]["description"] == "8 documents encoded in TEI P5 by tei-ingest."


def test_a_changed_corpus_is_refused(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    ctx = _context(export_corpus, folder=folder)
    letter = folder / "lettre_sans_date.xml"
    letter.write_bytes(letter.read_bytes() + b"\n")
    # Changed after the corpus was opened: the bag is not written.
    with pytest.raises(CorpusError) as caught:
        write(ctx, tmp_path / "out")
    assert [i.code for i in caught.value.issues] == ["fixity.changed"]
    assert not (tmp_path / "out").exists()
    # Changed before: the corpus is not even opened.
    with pytest.raises(CorpusError) as caught:
        _context(export_corpus, folder=folder)
    assert "fixity.changed" in [i.code for i in caught.value.issues]


def test_cli_writes_the_same_bag(
    bag: Path,
    export_corpus: ExportCorpus,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    out = tmp_path / "export"
    assert (
        main(
            [
                "export",
                "bagit",
                "--corpus",
                str(export_corpus.folder),
                "--config",
                str(export_corpus.config_path),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == f"{(out / 'bag').as_posix()}\n"
    assert _files(out / "bag") == _files(bag)
