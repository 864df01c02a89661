"""The OAI-PMH data provider, harvested with Sickle and asked by raw HTTP, against the manifest and TEI files."""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import hashlib
import json
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from lxml import etree
from sickle import Sickle, oaiexceptions

from ingest.config import CorpusConfig, load_config
from ingest.export import ExportContext, make_context
from ingest.export.oai import STATIC_NS, OAIServer, make_server, serve, static_repository, static_repository_chunks

from .conftest import EPOCH, ExportCorpus

OAI = "{http://www.openarchives.org/OAI/2.0/}"
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
BUILD_DAY = "2026-11-23"
BUILD_TIME = "2026-11-23T00:00:00Z"
PAGE = 3
LETTER = "oai:tei-ingest-seeds:letter_hartley_1899"


# ------------------------------------------------------------------ fixtures and readers


def context(folder: Path, config: CorpusConfig) -> ExportContext:
    """Return the export context of a corpus folder at the pinned build date."""
    return make_context(folder, config, {"SOURCE_DATE_EPOCH": str(EPOCH)})


@contextlib.contextmanager
def running(ctx: ExportContext, page_size: int = PAGE) -> Iterator[OAIServer]:
    """Run a provider on 127.0.0.1 (a free port) in a thread; stop it on exit."""
    server = make_server(ctx, "127.0.0.1", 0, page_size)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def copy_without(src: Path, dst: Path, stems: set[str]) -> Path:
    """Copy a corpus folder, dropping the documents named by stem from its files and manifest."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text(encoding="utf-8"))
    kept = []
    for entry in manifest["documents"]:
        if Path(entry["tei"]["path"]).stem in stems:
            (dst / entry["tei"]["path"]).unlink()
        else:
            kept.append(entry)
    manifest["documents"] = kept
    (dst / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def export_config(export_corpus: ExportCorpus) -> CorpusConfig:
    """Return the configuration the export corpus was built with."""
    return load_config(export_corpus.config_path)[0]


@pytest.fixture(scope="module")
def ctx(export_corpus: ExportCorpus, export_config: CorpusConfig) -> ExportContext:
    """Return the export context of the export corpus."""
    return context(export_corpus.folder, export_config)


@pytest.fixture(scope="module")
def manifest(export_corpus: ExportCorpus) -> dict[str, Any]:
    """Return the export corpus's manifest, read independently of the provider."""
    return json.loads((export_corpus.folder / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def provider(ctx: ExportContext) -> Iterator[OAIServer]:
    """Run one provider (3 records a page) for the module."""
    with running(ctx) as server:
        yield server


@pytest.fixture
def harvester(provider: OAIServer) -> Sickle:
    """Return a Sickle harvester of the provider."""
    return Sickle(provider.url, timeout=10)


def fetch(server: OAIServer, query: str, method: str = "GET") -> etree._Element:
    """Send one OAI-PMH request by raw HTTP; return the parsed response (HTTP 200, text/xml)."""
    if method == "GET":
        request = urllib.request.Request(f"{server.url}?{query}" if query else server.url)
    else:
        request = urllib.request.Request(server.url, data=query.encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        return etree.fromstring(response.read())


def error_codes(root: etree._Element) -> list[str]:
    """Return the codes of the error elements of a response."""
    return [str(e.get("code")) for e in root.findall(f"{OAI}error")]


def expected_date(date: dict[str, str] | None) -> list[str]:
    """Return the dc:date the manifest's date calls for: ISO 8601, a range or bounds, none when unknown."""
    if not date:
        return []
    if "when" in date:
        return [date["when"]]
    for start, end in (("from", "to"), ("notBefore", "notAfter")):
        if start in date or end in date:
            return [f"{date.get(start, '..')}/{date.get(end, '..')}"]
    return []


def manifest_view(manifest: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Return what the harvest of each document should show, by OAI identifier, from the manifest."""
    corpus = manifest["corpus"]["id"]
    view = {}
    for e in manifest["documents"]:
        view[f"oai:{corpus}:{Path(e['tei']['path']).stem}"] = {
            "title": [e["title"]],
            "date": expected_date(e["date"]),
            "language": [e["language"]] + [lang["code"] for lang in e["languages"] if lang["code"] != e["language"]],
            "sets": sorted({f"type:{e['type']}", f"lang:{e['language']}"}),
        }
    return view


def harvest_view(records: list[Any]) -> list[tuple[str, dict[str, list[str]]]]:
    """Return what Sickle's records show, in harvest order."""
    return [(r.header.identifier, {"title": r.metadata.get("title", []), "date": r.metadata.get("date", []),
                                   "language": r.metadata.get("language", []), "sets": sorted(r.header.setSpecs)})
            for r in records]


def mismatches(harvested: list[tuple[str, dict[str, list[str]]]], manifest: dict[str, Any]) -> list[str]:
    """Return every difference between a harvest and the manifest: missing, extra, repeated, or other values."""
    ids = [identifier for identifier, _ in harvested]
    problems = [f"{i}: harvested {ids.count(i)} times" for i in sorted(set(ids)) if ids.count(i) > 1]
    expected, got = manifest_view(manifest), dict(harvested)
    problems += [f"{i}: not harvested" for i in sorted(set(expected) - set(got))]
    problems += [f"{i}: not in the manifest" for i in sorted(set(got) - set(expected))]
    for i in sorted(set(expected) & set(got)):
        problems += [f"{i}: {key} {got[i][key]!r}, the manifest says {expected[i][key]!r}"
                     for key in expected[i] if got[i][key] != expected[i][key]]
    return problems


def set_count_mismatches(harvester: Sickle, totals: dict[str, Any]) -> list[str]:
    """Return the sets whose harvested size differs from the manifest's totals."""
    want = {f"type:{t}": n for t, n in totals["types"].items()}
    want |= {f"lang:{lang['code']}": lang["documents"] for lang in totals["languages"]}
    want |= {"type": sum(totals["types"].values()), "lang": sum(lang["documents"] for lang in totals["languages"])}
    problems = []
    for spec, count in sorted(want.items()):
        got = len(list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set=spec)))
        if got != count:
            problems.append(f"{spec}: {got} harvested, the manifest counts {count}")
    return problems


def blankless_c14n(el: etree._Element) -> bytes:
    """Return the exclusive canonical form of an element as a harvester that drops blank text sees it."""
    again = etree.fromstring(etree.tostring(el), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(again, method="c14n", exclusive=True)


def unprefixed(header: etree._Element, prefix: str) -> etree._Element:
    """Return a copy of a harvested teiHeader with the document prefix taken off its xml:ids and pointers."""
    header = copy.deepcopy(header)
    header.tail = None
    for el in header.iter(etree.Element):
        for name, value in el.attrib.items():
            if name == XML_ID:
                assert value.startswith(prefix), value
                el.set(name, value.removeprefix(prefix))
            else:
                el.set(name, re.sub(rf"(?<!\S)#{re.escape(prefix)}", "#", value))
    return header


def file_prefix(ctx: ExportContext, stem: str) -> str:
    """Return the prefix of the xml:ids of a document's header in the tei format: its TEI/@xml:id and a dot."""
    return f"{etree.parse(str(ctx.corpus.folder / f'{stem}.xml')).getroot().get(XML_ID)}."


def file_header(ctx: ExportContext, stem: str) -> etree._Element:
    """Return the teiHeader of a TEI file, parsed from the file itself."""
    header = etree.parse(str(ctx.corpus.folder / f"{stem}.xml")).getroot().find(f"{TEI}teiHeader")
    assert header is not None
    header.tail = None
    return header


# ------------------------------------------------------------------ harvesting with Sickle


def test_harvest_of_every_record_matches_the_manifest(harvester: Sickle, manifest: dict[str, Any]) -> None:
    """ListRecords across resumptionTokens gives every document once, with the manifest's values."""
    records = list(harvester.ListRecords(metadataPrefix="oai_dc"))
    assert len(records) == len(manifest["documents"]) > PAGE  # more than one page: the tokens were followed
    assert mismatches(harvest_view(records), manifest) == []
    for record in records:
        assert record.header.datestamp == BUILD_TIME
        assert record.metadata["type"][0] == "Text"
        assert record.metadata["format"] == ["application/tei+xml"]


def test_the_harvest_check_fails_on_a_tampered_manifest(harvester: Sickle, manifest: dict[str, Any]) -> None:
    """The comparison with the manifest catches a changed title, date, language, type and a document too many."""
    harvested = harvest_view(list(harvester.ListRecords(metadataPrefix="oai_dc")))
    dated = next(i for i, e in enumerate(manifest["documents"]) if e["date"] and "when" in e["date"])
    for change in ("title", "date", "language", "type", "extra"):
        tampered = copy.deepcopy(manifest)
        entry = tampered["documents"][dated]
        if change == "title":
            entry["title"] += " (corrected)"
        elif change == "date":
            entry["date"]["when"] = "1900-01-01"
        elif change == "language":
            entry["languages"].append({"code": "de", "percent": 1})
        elif change == "type":
            entry["type"] = "telegram"
        else:
            extra = copy.deepcopy(entry)
            extra["tei"]["path"] = "not_served.xml"
            tampered["documents"].append(extra)
        assert mismatches(harvested, tampered), change
    assert mismatches(harvested + harvested[:1], manifest) == [f"{harvested[0][0]}: harvested 2 times"]


def test_a_provider_missing_a_document_fails_the_check(tmp_path: Path, export_corpus: ExportCorpus,
                                                       export_config: CorpusConfig, manifest: dict[str, Any]) -> None:
    """A provider over a corpus copy without one letter is caught: that letter was not harvested."""
    folder = copy_without(export_corpus.folder, tmp_path / "tei", {"letter_hartley_1899"})
    with running(context(folder, export_config)) as server:
        records = list(Sickle(server.url, timeout=10).ListRecords(metadataPrefix="oai_dc"))
    assert mismatches(harvest_view(records), manifest) == [f"{LETTER}: not harvested"]


def test_list_identifiers_and_get_record_agree_with_list_records(harvester: Sickle, manifest: dict[str, Any]) -> None:
    """ListIdentifiers names every document once; GetRecord of each gives the record ListRecords gave."""
    headers = list(harvester.ListIdentifiers(metadataPrefix="oai_dc"))
    ids = [h.identifier for h in headers]
    assert ids == sorted(manifest_view(manifest)) and len(set(ids)) == len(ids)
    listed = {r.header.identifier: r for r in harvester.ListRecords(metadataPrefix="oai_dc")}
    for header in headers:
        record = harvester.GetRecord(identifier=header.identifier, metadataPrefix="oai_dc")
        assert record.metadata == listed[header.identifier].metadata
        assert record.header.setSpecs == header.setSpecs
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        harvester.GetRecord(identifier="oai:tei-ingest-seeds:absent", metadataPrefix="oai_dc")


def test_identify(harvester: Sickle, manifest: dict[str, Any], export_config: CorpusConfig) -> None:
    """Identify names the corpus, the configured baseURL, seconds granularity and the build date."""
    identify = harvester.Identify()
    assert identify.repositoryName == manifest["corpus"]["title"]
    assert identify.baseURL == export_config.oai_base_url != ""
    assert identify.protocolVersion == "2.0"
    assert identify.adminEmail == manifest["corpus"]["contact"]
    assert identify.earliestDatestamp == BUILD_TIME
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"


def test_base_url_is_the_served_url_when_none_is_configured(export_corpus: ExportCorpus,
                                                             export_config: CorpusConfig) -> None:
    """Without [export] oai_base_url, baseURL and the request element give the address served."""
    config = dataclasses.replace(export_config, oai_base_url="")
    with running(context(export_corpus.folder, config)) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/oai")
        assert Sickle(server.url, timeout=10).Identify().baseURL == server.url
        assert fetch(server, "verb=Identify").findtext(f"{OAI}request") == server.url


def test_list_metadata_formats(harvester: Sickle) -> None:
    """oai_dc and tei are offered for the repository and for each item; an unknown item is idDoesNotExist."""
    formats = {f.metadataPrefix: (f.schema, f.metadataNamespace) for f in harvester.ListMetadataFormats()}
    assert formats == {
        "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
        "tei": ("https://www.tei-c.org/release/xml/tei/custom/schema/xsd/tei_all.xsd", "http://www.tei-c.org/ns/1.0"),
    }
    assert {f.metadataPrefix for f in harvester.ListMetadataFormats(identifier=LETTER)} == set(formats)
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        list(harvester.ListMetadataFormats(identifier="oai:tei-ingest-seeds:absent"))


def test_list_sets_follows_the_manifest(harvester: Sickle, manifest: dict[str, Any]) -> None:
    """ListSets gives a set per document type and per main language of the manifest, below type and lang."""
    sets = {s.setSpec: s.setName for s in harvester.ListSets()}
    totals = manifest["totals"]
    assert set(sets) == {"type", "lang"} | {f"type:{t}" for t in totals["types"]} \
        | {f"lang:{lang['code']}" for lang in totals["languages"]}
    assert sets["type:letter"] == "Letter"
    assert sets["lang:fr"] == "French"


def test_set_sizes_equal_the_manifest_totals(harvester: Sickle, manifest: dict[str, Any]) -> None:
    """Each set holds as many documents as the manifest's totals count; a changed total is caught."""
    totals = manifest["totals"]
    assert set_count_mismatches(harvester, totals) == []
    tampered = copy.deepcopy(totals)
    tampered["types"]["letter"] += 1
    assert set_count_mismatches(harvester, tampered) == ["type: 8 harvested, the manifest counts 9",
                                                         "type:letter: 5 harvested, the manifest counts 6"]
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="type:telegram"))


@pytest.mark.parametrize(("bounds", "count"), [
    ({"from": BUILD_DAY}, 8), ({"from": BUILD_TIME}, 8), ({"until": BUILD_DAY}, 8), ({"until": BUILD_TIME}, 8),
    ({"from": BUILD_DAY, "until": BUILD_DAY}, 8), ({"from": "1899-01-01", "until": "2026-11-23T00:00:00Z"}, None),
    ({"from": "2026-11-24"}, 0), ({"from": "2026-11-23T00:00:01Z"}, 0), ({"until": "2026-11-22"}, 0),
    ({"until": "2026-11-22T23:59:59Z"}, 0),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v))
def test_from_until(harvester: Sickle, bounds: dict[str, str], count: int | None) -> None:
    """Every datestamp is the build time: from/until at day or seconds granularity select all or nothing."""
    if count is None:  # mixed granularities (§3.3.1)
        with pytest.raises(oaiexceptions.BadArgument):
            list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **bounds))
    elif count == 0:
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **bounds))
    else:
        assert len(list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **bounds))) == count


def test_day_bounds_cover_the_whole_day(export_corpus: ExportCorpus, export_config: CorpusConfig) -> None:
    """Built at 13:30:00Z, the records are inside until=that day and outside from=that day's 13:30:01Z."""
    later = make_context(export_corpus.folder, export_config, {"SOURCE_DATE_EPOCH": str(EPOCH + 48600)})
    with running(later) as server:
        harvester = Sickle(server.url, timeout=10)
        assert harvester.Identify().earliestDatestamp == "2026-11-23T13:30:00Z"
        assert len(list(harvester.ListIdentifiers(metadataPrefix="oai_dc", until=BUILD_DAY))) == 8
        assert len(list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **{"from": BUILD_DAY}))) == 8
        assert len(list(harvester.ListIdentifiers(metadataPrefix="oai_dc", until="2026-11-23T13:30:00Z"))) == 8
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            list(harvester.ListIdentifiers(metadataPrefix="oai_dc", until="2026-11-23T13:29:59Z"))
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2026-11-23T13:30:01Z"}))


def test_tei_records_carry_the_tei_header(harvester: Sickle, ctx: ExportContext) -> None:
    """The tei records are the teiHeaders of the TEI files (ids prefixed); a changed header would be caught."""
    records = list(harvester.ListRecords(metadataPrefix="tei"))
    assert len(records) == len(ctx.corpus.documents)
    for record in records:
        metadata = record.xml.find(f"{OAI}metadata")
        assert metadata is not None and len(metadata) == 1 and metadata[0].tag == f"{TEI}teiHeader"
        stem = record.header.identifier.rsplit(":", 1)[1]
        harvested = unprefixed(metadata[0], file_prefix(ctx, stem))
        assert blankless_c14n(harvested) == blankless_c14n(file_header(ctx, stem))
    tampered = file_header(ctx, stem)
    title = tampered.find(f"{TEI}fileDesc/{TEI}titleStmt/{TEI}title")
    assert title is not None
    title.text = (title.text or "") + "."
    assert blankless_c14n(harvested) != blankless_c14n(tampered)
    assert blankless_c14n(metadata[0]) != blankless_c14n(file_header(ctx, stem))  # the ids are prefixed


def test_tei_lists_are_well_formed_with_unique_ids(provider: OAIServer) -> None:
    """Every page of ListRecords tei parses strictly: its xml:ids are unique although it holds many headers."""
    query = "verb=ListRecords&metadataPrefix=tei"
    for _ in range(10):
        with urllib.request.urlopen(f"{provider.url}?{query}", timeout=10) as response:
            body = response.read()
        root = etree.fromstring(body)  # the default parser refuses a repeated xml:id
        ids = [str(v) for v in root.xpath("//@xml:id")]
        assert len(ids) == len(set(ids)) > 0
        assert len(root.findall(f"{OAI}ListRecords/{OAI}record")) == PAGE or b"cursor=\"6\"" in body
        token = root.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
        if not token:
            break
        query = f"verb=ListRecords&resumptionToken={token}"
    else:
        raise AssertionError("the list did not end")
    doubled = body.replace(b"<record>", b"<record><x xml:id='a'/><x xml:id='a'/>", 1)
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(doubled)


def test_get_record_tei_is_the_header_byte_for_byte(provider: OAIServer, ctx: ExportContext) -> None:
    """By raw HTTP, GetRecord tei carries the teiHeader exactly, whitespace included."""
    for entry in ctx.corpus.documents:
        stem = Path(entry["tei"]["path"]).stem
        root = fetch(provider, f"verb=GetRecord&identifier=oai:tei-ingest-seeds:{stem}&metadataPrefix=tei")
        header = root.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata/{TEI}teiHeader")
        assert header is not None
        assert etree.tostring(unprefixed(header, file_prefix(ctx, stem)), method="c14n", exclusive=True) == \
            etree.tostring(file_header(ctx, stem), method="c14n", exclusive=True)


# ------------------------------------------------------------------ errors by raw HTTP

_LIST = "verb=ListIdentifiers&metadataPrefix=oai_dc"

#: (request, the error it must give, the same request put right, which must give no error)
ERROR_CASES = [
    ("verb=Bogus", "badVerb", "verb=Identify"),
    ("", "badVerb", "verb=Identify"),
    ("verb=Identify&verb=Identify", "badVerb", "verb=Identify"),
    ("verb=Identify&set=type", "badArgument", "verb=Identify"),
    (f"verb=GetRecord&identifier={LETTER}", "badArgument", f"verb=GetRecord&identifier={LETTER}&metadataPrefix=tei"),
    ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=tei", "badArgument", "verb=ListRecords&metadataPrefix=tei"),
    ("verb=ListIdentifiers&metadataPrefix=", "badArgument", _LIST),
    (f"{_LIST}&resumptionToken=abc", "badArgument", _LIST),
    (f"{_LIST}&from=2026-02-30", "badArgument", f"{_LIST}&from=2026-02-28"),
    (f"{_LIST}&from=2026-11-23T00:00Z", "badArgument", f"{_LIST}&from=2026-11-23T00:00:00Z"),
    (f"{_LIST}&from={BUILD_DAY}&until=2026-11-23T23:59:59Z", "badArgument",
     f"{_LIST}&from={BUILD_DAY}&until={BUILD_DAY}"),
    (f"{_LIST}&from=2026-11-24&until={BUILD_DAY}", "badArgument", f"{_LIST}&from={BUILD_DAY}&until=2026-11-24"),
    ("verb=ListRecords&resumptionToken=not-a-token", "badResumptionToken", "verb=ListRecords&metadataPrefix=oai_dc"),
    ("verb=ListSets&resumptionToken=abc", "badResumptionToken", "verb=ListSets"),
    (f"verb=GetRecord&identifier={LETTER}&metadataPrefix=marc21", "cannotDisseminateFormat",
     f"verb=GetRecord&identifier={LETTER}&metadataPrefix=oai_dc"),
    ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat", "verb=ListRecords&metadataPrefix=oai_dc"),
    ("verb=GetRecord&identifier=oai:tei-ingest-seeds:absent&metadataPrefix=oai_dc", "idDoesNotExist",
     f"verb=GetRecord&identifier={LETTER}&metadataPrefix=oai_dc"),
    ("verb=ListMetadataFormats&identifier=oai:other:x", "idDoesNotExist",
     f"verb=ListMetadataFormats&identifier={LETTER}"),
    (f"{_LIST}&from=2026-11-24", "noRecordsMatch", f"{_LIST}&from={BUILD_DAY}"),
    (f"{_LIST}&set=type:telegram", "noRecordsMatch", f"{_LIST}&set=type:letter"),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("bad", "code", "good"), ERROR_CASES, ids=[f"{c[1]}:{c[0] or 'empty'}" for c in ERROR_CASES])
def test_error_codes(provider: OAIServer, method: str, bad: str, code: str, good: str) -> None:
    """Each error of §3.6 is given for its cause, by GET and POST; the request put right gives none."""
    root = fetch(provider, bad, method)
    assert error_codes(root) == [code]
    request = root.find(f"{OAI}request")
    assert request is not None and request.text == provider.provider.base_url
    # §3.2: after badVerb or badArgument the request element carries no attributes; else it echoes them.
    assert dict(request.attrib) == ({} if code in ("badVerb", "badArgument") else dict(parse_qsl(bad)))
    fixed = fetch(provider, good, method)
    assert error_codes(fixed) == []
    assert fixed.find(f"{OAI}{dict(parse_qsl(good))['verb']}") is not None


def test_get_record_reports_both_a_bad_format_and_a_bad_identifier(provider: OAIServer) -> None:
    """A GetRecord wrong twice gives both errors."""
    root = fetch(provider, "verb=GetRecord&identifier=oai:x:y&metadataPrefix=marc21")
    assert error_codes(root) == ["cannotDisseminateFormat", "idDoesNotExist"]


def test_no_set_hierarchy_in_an_empty_corpus(tmp_path: Path, export_corpus: ExportCorpus,
                                              export_config: CorpusConfig, manifest: dict[str, Any]) -> None:
    """A corpus without documents has no sets: ListSets and a set argument give noSetHierarchy."""
    folder = copy_without(export_corpus.folder, tmp_path / "tei", {Path(e["tei"]["path"]).stem
                                                                  for e in manifest["documents"]})
    with running(context(folder, export_config)) as server:
        assert error_codes(fetch(server, "verb=ListSets")) == ["noSetHierarchy"]
        assert error_codes(fetch(server, f"{_LIST}&set=type:letter")) == ["noSetHierarchy"]
        assert error_codes(fetch(server, _LIST)) == ["noRecordsMatch"]
        assert error_codes(fetch(server, "verb=Identify")) == []


# ------------------------------------------------------------------ resumptionTokens


def _pages(server: OAIServer, verb: str) -> list[etree._Element]:
    """Follow a list by raw HTTP to its end (bounded); return the responses."""
    pages = [fetch(server, f"verb={verb}&metadataPrefix=oai_dc")]
    for _ in range(20):
        token = pages[-1].find(f"{OAI}{verb}/{OAI}resumptionToken")
        if token is None or not token.text:
            return pages
        pages.append(fetch(server, f"verb={verb}&resumptionToken={token.text}"))
    raise AssertionError("the list did not end")


def test_resumption_tokens_split_lists_in_pages(provider: OAIServer, manifest: dict[str, Any]) -> None:
    """Lists come in pages of 3 with completeListSize and cursor; the last page has an empty token."""
    total = len(manifest["documents"])
    pages = _pages(provider, "ListIdentifiers")
    assert len(pages) == -(-total // PAGE)
    seen: list[str] = []
    for n, page in enumerate(pages):
        token = page.find(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
        assert token is not None
        assert token.get("completeListSize") == str(total) and token.get("cursor") == str(n * PAGE)
        assert bool(token.text) == (n < len(pages) - 1)
        seen += [str(i.text) for i in page.iter(f"{OAI}identifier")]
    assert seen == sorted(manifest_view(manifest))


def test_resumption_tokens_are_idempotent(provider: OAIServer) -> None:
    """The same token gives the same part of the list, byte for byte (§3.5.1)."""
    first = fetch(provider, "verb=ListRecords&metadataPrefix=oai_dc")
    token = first.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
    assert token
    url = f"{provider.url}?verb=ListRecords&resumptionToken={token}"
    with urllib.request.urlopen(url, timeout=10) as a, urllib.request.urlopen(url, timeout=10) as b:
        assert a.read() == b.read()


def test_bad_resumption_tokens(tmp_path: Path, provider: OAIServer, export_corpus: ExportCorpus,
                               export_config: CorpusConfig) -> None:
    """A garbled, forged, misused or stale token gives badResumptionToken; the genuine one does not."""
    token = fetch(provider, _LIST).findtext(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert token
    assert error_codes(fetch(provider, f"verb=ListIdentifiers&resumptionToken={token}")) == []
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    forged = [base64.urlsafe_b64encode(json.dumps(data | change).encode()).decode().rstrip("=")
              for change in ({"o": 99}, {"o": 0}, {"o": "3"}, {"c": "0" * 16}, {"m": "marc21"})]
    folder = copy_without(export_corpus.folder, tmp_path / "tei", {"letter_hartley_1899"})
    with running(context(folder, export_config)) as other:
        stale = other.provider.respond([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
    stale_token = etree.fromstring(stale).findtext(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert stale_token and stale_token != token
    for bad in [f"verb=ListRecords&resumptionToken={token}", f"verb=ListIdentifiers&resumptionToken={token}x",
                "verb=ListIdentifiers&resumptionToken=%C3%A9", f"verb=ListIdentifiers&resumptionToken={stale_token}",
                *(f"verb=ListIdentifiers&resumptionToken={f}" for f in forged)]:
        assert error_codes(fetch(provider, bad)) == ["badResumptionToken"], bad


# ------------------------------------------------------------------ HTTP and the serve command


def test_http_outside_the_protocol(provider: OAIServer) -> None:
    """Another path is 404; a POST that is not a form is 415."""
    post = urllib.request.Request(provider.url, data=b"verb=Identify", method="POST",
                                  headers={"Content-Type": "text/plain"})
    for request, status in ((provider.url.replace("/oai", "/other?verb=Identify"), 404), (post, 415)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == status


def test_responses_are_reproducible(provider: OAIServer, ctx: ExportContext) -> None:
    """responseDate is the build time: a second provider over the corpus answers with the same bytes."""
    query = "verb=ListRecords&metadataPrefix=tei&set=lang:en"
    with running(ctx) as second, urllib.request.urlopen(f"{provider.url}?{query}", timeout=10) as a, \
            urllib.request.urlopen(f"{second.url}?{query}", timeout=10) as b:
        body = a.read()
        assert body == b.read()
    assert etree.fromstring(body).findtext(f"{OAI}responseDate") == BUILD_TIME


def test_serve_runs_until_shut_down(ctx: ExportContext, capsys: pytest.CaptureFixture[str]) -> None:
    """serve() says where it listens, answers, and returns once shut down."""
    started: list[OAIServer] = []
    ready = threading.Event()

    def on_ready(server: OAIServer) -> None:
        started.append(server)
        ready.set()

    thread = threading.Thread(target=serve, args=(ctx, "127.0.0.1", 0), kwargs={"page_size": 2, "ready": on_ready},
                              daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        assert Sickle(started[0].url, timeout=10).Identify().repositoryName
    finally:
        if started:
            started[0].shutdown()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert f"OAI-PMH data provider at {started[0].url}" in capsys.readouterr().out


# ------------------------------------------------------------------ deleted records

#: The manifest's ``deleted`` list of the tombstoned corpus, sorted by tei_path: a document removed by an
#: earlier run, and one removed by the run of the build date.
TOMBSTONES = [
    {"id": "doc-letter_ellis_1902", "tei_path": "letter_ellis_1902.xml", "title": "Letter from Mary Ellis, 1902",
     "deleted": "2026-03-14T09:26:53Z"},
    {"id": "doc-lettre_x", "tei_path": "lettre_x.xml", "title": "Lettre de Jean Dupont", "deleted": BUILD_TIME},
]
OLD_GONE = "oai:tei-ingest-seeds:letter_ellis_1902"
NEW_GONE = "oai:tei-ingest-seeds:lettre_x"
#: The datestamp of each deleted item: the time it was deleted.
GONE = {OLD_GONE: "2026-03-14T09:26:53Z", NEW_GONE: BUILD_TIME}
LIVE = 8


def with_tombstones(folder: Path, tombstones: list[dict[str, str]]) -> Path:
    """Write a corpus folder's manifest.json with this ``deleted`` list, by hand (none: without the key)."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.pop("deleted", None)
    if tombstones:
        manifest["deleted"] = tombstones
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def listed_order(manifest: dict[str, Any], tombstones: list[dict[str, str]]) -> list[str]:
    """Return the identifiers a full list gives, live and deleted: in the order of their TEI file names."""
    names = sorted([e["tei"]["path"] for e in manifest["documents"]] + [t["tei_path"] for t in tombstones])
    return [f"oai:{manifest['corpus']['id']}:{Path(name).stem}" for name in names]


@pytest.fixture(scope="module")
def tombstoned(export_corpus: ExportCorpus, export_config: CorpusConfig,
               tmp_path_factory: pytest.TempPathFactory) -> ExportContext:
    """Return the export context of a copy of the export corpus whose manifest lists two deleted documents."""
    folder = tmp_path_factory.mktemp("tombstoned") / "tei"
    shutil.copytree(export_corpus.folder, folder)
    ctx = context(with_tombstones(folder, TOMBSTONES), export_config)
    assert ctx.corpus.manifest["deleted"] == TOMBSTONES  # read back through the corpus reader and its schema
    return ctx


@pytest.fixture(scope="module")
def tombstoned_provider(tombstoned: ExportContext) -> Iterator[OAIServer]:
    """Run one provider (3 records a page) over the tombstoned corpus for the module."""
    with running(tombstoned) as server:
        yield server


@pytest.fixture
def gone_harvester(tombstoned_provider: OAIServer) -> Sickle:
    """Return a Sickle harvester of the provider over the tombstoned corpus."""
    return Sickle(tombstoned_provider.url, timeout=10)


def test_lists_give_deleted_items_as_deleted_headers(gone_harvester: Sickle, manifest: dict[str, Any]) -> None:
    """ListIdentifiers and ListRecords (both formats) give each tombstone once, as a deleted header only."""
    expected = listed_order(manifest, TOMBSTONES)
    assert len(expected) == LIVE + 2 and set(GONE) < set(expected)
    headers = list(gone_harvester.ListIdentifiers(metadataPrefix="oai_dc"))
    assert [h.identifier for h in headers] == expected
    assert {h.identifier: h.datestamp for h in headers if h.deleted} == GONE
    assert all(h.setSpecs == [] for h in headers if h.deleted)
    assert all(h.datestamp == BUILD_TIME and h.setSpecs for h in headers if not h.deleted)
    for prefix in ("oai_dc", "tei"):
        records = list(gone_harvester.ListRecords(metadataPrefix=prefix))
        assert [r.header.identifier for r in records] == expected
        deleted = [r for r in records if r.deleted]
        assert {r.header.identifier: r.header.datestamp for r in deleted} == GONE
        for record in deleted:
            assert [child.tag for child in record.xml] == [f"{OAI}header"]  # no metadata, no about
            assert record.xml[0].get("status") == "deleted"
        live = [r for r in records if not r.deleted]
        assert all(r.xml.find(f"{OAI}header").get("status") is None for r in live)
        if prefix == "oai_dc":
            assert mismatches(harvest_view(live), manifest) == []


def test_get_record_of_a_deleted_item(tombstoned_provider: OAIServer, gone_harvester: Sickle) -> None:
    """GetRecord of a tombstone, in either format, is its deleted header alone; ListMetadataFormats lists both."""
    for identifier, stamp in GONE.items():
        for prefix in ("oai_dc", "tei"):
            record = gone_harvester.GetRecord(identifier=identifier, metadataPrefix=prefix)
            assert record.deleted and record.header.identifier == identifier and record.header.datestamp == stamp
            root = fetch(tombstoned_provider, f"verb=GetRecord&identifier={identifier}&metadataPrefix={prefix}")
            assert error_codes(root) == []
            raw = root.find(f"{OAI}GetRecord/{OAI}record")
            assert raw is not None and [child.tag for child in raw] == [f"{OAI}header"]
            assert raw[0].items() == [("status", "deleted")]
            assert [(c.tag, c.text) for c in raw[0]] == [(f"{OAI}identifier", identifier), (f"{OAI}datestamp", stamp)]
        formats = gone_harvester.ListMetadataFormats(identifier=identifier)
        assert {f.metadataPrefix for f in formats} == {"oai_dc", "tei"}
    assert error_codes(fetch(tombstoned_provider, f"verb=GetRecord&identifier={OLD_GONE}&metadataPrefix=marc21")) \
        == ["cannotDisseminateFormat"]
    live = gone_harvester.GetRecord(identifier=LETTER, metadataPrefix="oai_dc")
    assert not live.deleted and live.metadata["title"]
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        gone_harvester.GetRecord(identifier="oai:tei-ingest-seeds:absent", metadataPrefix="oai_dc")


def test_identify_declares_persistent_deletions(gone_harvester: Sickle) -> None:
    """Identify says deletedRecord persistent; earliestDatestamp is the earlier tombstone, before the build date."""
    identify = gone_harvester.Identify()
    assert identify.deletedRecord == "persistent"
    assert identify.earliestDatestamp == GONE[OLD_GONE] < BUILD_TIME


#: (from/until, the deleted items they select, how many live ones)
GONE_BOUNDS: list[tuple[dict[str, str], set[str], int]] = [
    ({}, {OLD_GONE, NEW_GONE}, LIVE),
    ({"until": "2026-03-14"}, {OLD_GONE}, 0), ({"until": "2026-03-14T09:26:53Z"}, {OLD_GONE}, 0),
    ({"until": "2026-03-14T09:26:52Z"}, set(), 0), ({"from": "2026-03-14T09:26:54Z"}, {NEW_GONE}, LIVE),
    ({"from": "2026-03-15"}, {NEW_GONE}, LIVE), ({"from": "2026-03-14", "until": "2026-03-14"}, {OLD_GONE}, 0),
    ({"from": "2026-03-14", "until": "2026-11-22"}, {OLD_GONE}, 0), ({"until": "2026-11-22T23:59:59Z"}, {OLD_GONE}, 0),
    ({"from": BUILD_DAY, "until": BUILD_DAY}, {NEW_GONE}, LIVE), ({"from": BUILD_TIME}, {NEW_GONE}, LIVE),
    ({"from": "2026-11-24"}, set(), 0),
]


@pytest.mark.parametrize(("bounds", "deleted", "live"), GONE_BOUNDS, ids=[json.dumps(b) for b, _, _ in GONE_BOUNDS])
def test_from_until_select_deleted_items_on_their_own_datestamp(gone_harvester: Sickle, bounds: dict[str, str],
                                                                deleted: set[str], live: int) -> None:
    """from/until select a deleted item on its deletion time and a live one on the build date, at both granularities."""
    if not deleted and not live:
        with pytest.raises(oaiexceptions.NoRecordsMatch):
            list(gone_harvester.ListIdentifiers(metadataPrefix="oai_dc", **bounds))
        return
    for verb in (gone_harvester.ListIdentifiers, gone_harvester.ListRecords):
        headers = [getattr(h, "header", h) for h in verb(metadataPrefix="oai_dc", **bounds)]
        assert {h.identifier for h in headers if h.deleted} == deleted
        assert sum(not h.deleted for h in headers) == live
        assert all(h.datestamp == GONE[h.identifier] for h in headers if h.deleted)


def test_deleted_items_are_in_no_set(gone_harvester: Sickle, harvester: Sickle, manifest: dict[str, Any]) -> None:
    """The sets are those of the live documents; a set's list holds no deleted item, and the set sizes still agree."""
    sets = [(s.setSpec, s.setName) for s in gone_harvester.ListSets()]
    assert sets == [(s.setSpec, s.setName) for s in harvester.ListSets()]
    for spec, _ in sets:
        headers = list(gone_harvester.ListIdentifiers(metadataPrefix="oai_dc", set=spec))
        assert not any(h.deleted or h.identifier in GONE for h in headers), spec
    assert set_count_mismatches(gone_harvester, manifest["totals"]) == []


def test_complete_list_size_counts_deleted_items(tombstoned_provider: OAIServer) -> None:
    """Both lists come in pages of 3 whose completeListSize counts the 2 deleted items; a set's list does not."""
    total = LIVE + len(TOMBSTONES)
    for verb in ("ListIdentifiers", "ListRecords"):
        pages = _pages(tombstoned_provider, verb)
        assert len(pages) == -(-total // PAGE)
        for n, page in enumerate(pages):
            token = page.find(f"{OAI}{verb}/{OAI}resumptionToken")
            assert token is not None
            assert token.get("completeListSize") == str(total) and token.get("cursor") == str(n * PAGE)
        statuses = [h.get("status") for page in pages for h in page.iter(f"{OAI}header")]
        assert len(statuses) == total and statuses.count("deleted") == len(TOMBSTONES)
    in_set = fetch(tombstoned_provider, f"{_LIST}&set=type").find(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert in_set is not None and in_set.get("completeListSize") == str(LIVE)


def test_a_token_goes_stale_when_the_tombstones_change(tmp_path: Path, export_corpus: ExportCorpus,
                                                       export_config: CorpusConfig) -> None:
    """A token minted before a tombstone is moved, dropped or added, or the list is emptied, is badResumptionToken."""
    folder = tmp_path / "tei"
    shutil.copytree(export_corpus.folder, folder)
    with running(context(with_tombstones(folder, TOMBSTONES), export_config)) as server:
        token = fetch(server, _LIST).findtext(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert token
    resume = f"verb=ListIdentifiers&resumptionToken={token}"
    memo = {"id": "doc-memo_z", "tei_path": "memo_z.xml", "title": "Memo", "deleted": BUILD_TIME}
    added = sorted([*TOMBSTONES, memo], key=lambda t: t["tei_path"])
    changes = {"moved": [TOMBSTONES[0] | {"deleted": "2026-03-15T00:00:00Z"}, TOMBSTONES[1]],
               "dropped": TOMBSTONES[:1], "added": added, "emptied": [], "unchanged": TOMBSTONES}
    for change, tombstones in changes.items():
        with running(context(with_tombstones(folder, tombstones), export_config)) as server:
            # The provider over the same tombstones again (a restart) takes the token: it names the corpus state.
            assert error_codes(fetch(server, resume)) == ([] if change == "unchanged" else ["badResumptionToken"]), \
                change


def test_a_corpus_of_tombstones_only(tmp_path: Path, export_corpus: ExportCorpus, export_config: CorpusConfig,
                                     manifest: dict[str, Any]) -> None:
    """With every document deleted, the lists give the tombstones alone; there are no sets."""
    folder = copy_without(export_corpus.folder, tmp_path / "tei", {Path(e["tei"]["path"]).stem
                                                                  for e in manifest["documents"]})
    with running(context(with_tombstones(folder, TOMBSTONES), export_config)) as server:
        harvester = Sickle(server.url, timeout=10)
        headers = list(harvester.ListIdentifiers(metadataPrefix="tei"))
        assert [(h.identifier, h.deleted) for h in headers] == [(OLD_GONE, True), (NEW_GONE, True)]
        assert harvester.Identify().earliestDatestamp == GONE[OLD_GONE]
        assert error_codes(fetch(server, "verb=ListSets")) == ["noSetHierarchy"]
        assert error_codes(fetch(server, f"{_LIST}&set=type")) == ["noSetHierarchy"]


def test_the_static_repository_leaves_deleted_items_out(tombstoned: ExportContext, ctx: ExportContext) -> None:
    """The Static Repository has no deleted records: with tombstones it is the same file, deletedRecord no."""
    data = static_repository(tombstoned)
    assert data == static_repository(ctx)
    static = etree.fromstring(data)
    assert static.findtext(f".//{OAI}deletedRecord") == "no"
    assert static.findtext(f".//{OAI}earliestDatestamp") == BUILD_DAY
    headers = list(static.iter(f"{OAI}header"))
    assert len(headers) == 2 * LIVE and not any(h.get("status") for h in headers)
    assert not set(GONE) & {h.findtext(f"{OAI}identifier") for h in headers}


def test_the_static_repository_comes_a_record_at_a_time(ctx: ExportContext) -> None:
    """The file is yielded as its frame and one chunk per record, so a large corpus is never held whole."""
    chunks = list(static_repository_chunks(ctx))
    assert b"".join(chunks) == static_repository(ctx)
    records = [c for c in chunks if c.lstrip().startswith(b"<oai:record>")]
    assert len(records) == 2 * LIVE
    assert all(c.count(b"<oai:record>") == 1 for c in records)
    etree.fromstring(b"".join(chunks))  # the pieces make one well-formed document


def test_the_static_repository_of_an_empty_corpus(tmp_path: Path, export_corpus: ExportCorpus,
                                                  export_config: CorpusConfig, manifest: dict[str, Any]) -> None:
    folder = copy_without(export_corpus.folder, tmp_path / "tei", {Path(e["tei"]["path"]).stem
                                                                  for e in manifest["documents"]})
    static = etree.fromstring(static_repository(context(folder, export_config)))
    lists = static.findall(f"{{{STATIC_NS}}}ListRecords")
    assert [(el.get("metadataPrefix"), len(el)) for el in lists] == [("oai_dc", 0), ("tei", 0)]


def test_records_are_read_from_the_files_and_a_changed_file_is_not_served(
        tmp_path: Path, export_corpus: ExportCorpus, export_config: CorpusConfig, manifest: dict[str, Any]) -> None:
    """The provider holds no record: each is made from its TEI file, checked against the manifest first."""
    folder = copy_without(export_corpus.folder, tmp_path / "tei", set())
    entry = manifest["documents"][0]
    stem = Path(entry["tei"]["path"]).stem
    ctx = context(folder, export_config)
    with running(ctx) as server:
        query = f"verb=GetRecord&metadataPrefix=tei&identifier=oai:{ctx.corpus.info['id']}:{stem}"
        assert fetch(server, query).find(f".//{OAI}metadata") is not None
        path = folder / entry["tei"]["path"]
        path.write_bytes(path.read_bytes().replace(b"</TEI>", b"</TEI>\n"))
        with pytest.raises(urllib.error.HTTPError) as caught:
            fetch(server, query)
        assert caught.value.code == 503
        assert "changed since the data provider started" in caught.value.read().decode()
        assert fetch(server, "verb=Identify").find(f"{OAI}Identify") is not None  # the rest is still served


def test_ids_renamed_in_the_bytes_as_on_a_tree(ctx: ExportContext, tmp_path: Path, export_corpus: ExportCorpus,
                                               export_config: CorpusConfig) -> None:
    """The tei records' ids are renamed in the serialised header; the result is that of renaming on a tree."""
    from ingest.export.oai import _renamed_on_a_copy, tei_header

    def root_id(entry: dict[str, Any]) -> str:
        return str(ctx.corpus.tree(entry).getroot().get(XML_ID)) + "."

    for entry in ctx.corpus.documents:
        assert tei_header(ctx, entry) == _renamed_on_a_copy(ctx.corpus.header(entry), root_id(entry))
    # Text, comments and instructions that look like attributes are left alone, as on a tree.
    folder = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    entry = next(iter(ctx.corpus.documents))
    path = folder / entry["tei"]["path"]
    data = path.read_bytes().replace(b"<fileDesc>", b'<fileDesc><!-- xml:id="pers-1" ref="#pers-1" -->'
                                     b'<?note ref="#pers-1"?>', 1)
    assert b"<p>Values carrying" in data
    data = data.replace(b"<p>Values carrying", b'<p>ref="#pers-1" xml:id="x" Values carrying', 1)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    for e in manifest["documents"]:
        if e["tei"]["path"] == entry["tei"]["path"]:
            e["tei"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            sha512=hashlib.sha512(data).hexdigest())
    path.write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    changed = context(folder, export_config)
    got = tei_header(changed, entry)
    assert b'<!-- xml:id="pers-1" ref="#pers-1" -->' in got and b'<?note ref="#pers-1"?>' in got
    assert b'<p>ref="#pers-1" xml:id="x" Values' in got
    assert got == _renamed_on_a_copy(changed.corpus.header(entry), root_id(entry))
