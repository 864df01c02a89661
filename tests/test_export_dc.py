"""Dublin Core records and the OAI-PMH Static Repository against the TEI headers, the manifest and the provider."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ingest.config import CorpusConfig, load_config
from ingest.errors import ConfigError
from ingest.export import ExportContext, make_context
from ingest.export import dc as dc_format
from ingest.export import oai as oai_format

from .conftest import EPOCH, ExportCorpus

TEI = "{http://www.tei-c.org/ns/1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
STATIC = "{http://www.openarchives.org/OAI/2.0/static-repository}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"tei": TEI.strip("{}")}


@pytest.fixture(scope="module")
def export_config(export_corpus: ExportCorpus) -> CorpusConfig:
    """Return the configuration the export corpus was built with."""
    return load_config(export_corpus.config_path)[0]


@pytest.fixture(scope="module")
def ctx(export_corpus: ExportCorpus, export_config: CorpusConfig) -> ExportContext:
    """Return the export context of the export corpus at the pinned build date."""
    return make_context(export_corpus.folder, export_config, {"SOURCE_DATE_EPOCH": str(EPOCH)})


@pytest.fixture(scope="module")
def dc_dir(ctx: ExportContext, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the dc export once for the module; return its dc/ folder."""
    out = tmp_path_factory.mktemp("dc-export")
    assert dc_format.write(ctx, out) == [out / "dc"]
    return out / "dc"


def fold(text: str) -> str:
    """Fold whitespace as an XML reader of the header would."""
    return " ".join(text.split())


def header_expectations(tei: Path) -> dict[str, list[str]]:
    """Read what the Dublin Core record must say straight off a TEI file, with plain XPath."""
    root = etree.parse(str(tei)).getroot()

    def texts(path: str) -> list[str]:
        return [fold("".join(el.itertext())) for el in root.xpath(path, namespaces=NS)]

    dates = root.xpath("//tei:correspAction[@type='sent']/tei:date | //tei:profileDesc/tei:creation/tei:date",
                       namespaces=NS)
    date: list[str] = []
    if dates:
        d = dates[0]
        if d.get("when"):
            date = [d.get("when")]
        elif d.get("from") or d.get("to"):
            date = [f"{d.get('from') or '..'}/{d.get('to') or '..'}"]
        elif d.get("notBefore") or d.get("notAfter"):
            date = [f"{d.get('notBefore') or '..'}/{d.get('notAfter') or '..'}"]
    main = root.find(f"{TEI}text").get(XML_LANG)
    langs = root.xpath("//tei:langUsage/tei:language/@ident", namespaces=NS)
    sent = "//tei:correspAction[@type='sent']"
    return {
        "title": texts("//tei:titleStmt/tei:title"),
        "date": date,
        "language": [main] + [str(code) for code in langs if code != main],
        "creator": texts(f"{sent}/tei:persName | {sent}/tei:orgName | //tei:titleStmt/tei:author"),
        "identifier": texts("//tei:publicationStmt/tei:idno[@type='local' or @type='URI']"),
    }


def record_values(record: etree._Element) -> dict[str, list[str]]:
    """Return the values of a Dublin Core record by element name, in order."""
    values: dict[str, list[str]] = {}
    for el in record:
        values.setdefault(etree.QName(el).localname, []).append(el.text or "")
    return values


def dc_mismatches(record: etree._Element, tei: Path) -> list[str]:
    """Return how a Dublin Core record differs from what its TEI header says."""
    want, got = header_expectations(tei), record_values(record)
    return [f"{tei.name}: {key} {got.get(key, [])!r}, the TEI says {value!r}"
            for key, value in want.items() if got.get(key, []) != value]


def party_names(parties: list[dict[str, Any]]) -> list[str]:
    """Return the names the TEI gives a manifest's parties: a person's name (or office) and organisation."""
    out: list[str] = []
    for p in parties:
        names = [p.get("org") or p["label"]] if p["kind"] == "org" else [p.get("name") or p.get("role") or p["label"],
                                                                            *([p["org"]] if p.get("org") else [])]
        out += [n for n in names if n not in out]
    return out


def test_a_record_for_every_document(ctx: ExportContext, dc_dir: Path) -> None:
    """dc/ holds one oai_dc record per document, named after its stem, and nothing else."""
    assert sorted(p.name for p in dc_dir.iterdir()) == sorted(f"{Path(e['tei']['path']).stem}.xml"
                                                                for e in ctx.corpus.documents)
    for path in dc_dir.iterdir():
        root = etree.parse(str(path)).getroot()
        assert root.tag == f"{OAI_DC}dc"
        assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == \
            "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
        assert all(etree.QName(el).namespace == DC.strip("{}") for el in root)


def test_records_say_what_the_tei_headers_say(ctx: ExportContext, dc_dir: Path) -> None:
    """Title, date, languages, creators and identifiers are the TEI header's, for every document."""
    for entry in ctx.corpus.documents:
        stem = Path(entry["tei"]["path"]).stem
        record = etree.parse(str(dc_dir / f"{stem}.xml")).getroot()
        assert dc_mismatches(record, ctx.corpus.tei_path(entry)) == []
        values = record_values(record)
        assert values["type"][0] == "Text" and values["format"] == ["application/tei+xml"]
        assert values["publisher"] == [ctx.corpus.info["publisher"]]
        assert values["rights"] == [ctx.corpus.info["licence"]["name"], ctx.corpus.info["licence"]["url"]]
        assert values["source"] == [f"{Path(entry['source']['path']).name} (sha256:{entry['source']['sha256']})"]


def test_records_agree_with_the_manifest(ctx: ExportContext, dc_dir: Path) -> None:
    """The manifest's title, language, senders or authors, and addressees are in the records."""
    for entry in ctx.corpus.documents:
        values = record_values(etree.parse(str(dc_dir / f"{Path(entry['tei']['path']).stem}.xml")).getroot())
        assert values["title"] == [entry["title"]]
        assert values["language"][0] == entry["language"]
        assert values.get("creator", []) == party_names(entry["senders"] + entry["authors"])
        assert values.get("contributor", []) == party_names(entry["addressees"])


def test_dates_keep_their_precision(ctx: ExportContext, dc_dir: Path) -> None:
    """A month stays a month, a lower bound is an open interval, an undated letter has no date."""
    def dates(stem: str) -> list[str]:
        return record_values(etree.parse(str(dc_dir / f"{stem}.xml")).getroot()).get("date", [])

    assert dates("letter_hartley_1899") == ["1899-05"]
    assert dates("lettre_dupont_1921") == ["1921-03-03"]
    assert dates("003_9164d7363d0bce3c") == ["2022-08-08/.."]
    assert dates("lettre_sans_date") == []


def test_the_header_check_fails_on_tampered_records(ctx: ExportContext, dc_dir: Path) -> None:
    """The comparison with the TEI header catches a changed title, date, language order and a lost creator."""
    entry = next(e for e in ctx.corpus.documents if Path(e["tei"]["path"]).stem == "000_22c6ae8344106c7e")
    tei = ctx.corpus.tei_path(entry)
    record = etree.parse(str(dc_dir / "000_22c6ae8344106c7e.xml")).getroot()
    assert dc_mismatches(record, tei) == []
    for tamper in ("title", "date", "language", "creator"):
        changed = copy.deepcopy(record)
        els = changed.findall(f"{DC}{tamper}")
        if tamper == "language":
            changed.remove(els[0])
            changed.append(els[0])  # the main language no longer first
        elif tamper == "creator":
            changed.remove(els[-1])
        else:
            els[0].text = (els[0].text or "") + "0"
        assert [m.split(":")[1].split()[0] for m in dc_mismatches(changed, tei)] == [tamper]


def test_a_rerun_writes_the_same_bytes(ctx: ExportContext, dc_dir: Path, tmp_path: Path) -> None:
    """A second export is byte-identical, and rewriting replaces the folder whole."""
    assert dc_format.write(ctx, tmp_path) == [tmp_path / "dc"]
    first = {p.name: p.read_bytes() for p in sorted((tmp_path / "dc").iterdir())}
    assert first == {p.name: p.read_bytes() for p in sorted(dc_dir.iterdir())}
    (tmp_path / "dc" / "stale.xml").write_bytes(b"<old/>")
    dc_format.write(ctx, tmp_path)
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "dc").iterdir())} == first


# ------------------------------------------------------------------ the static repository


@pytest.fixture(scope="module")
def static_file(ctx: ExportContext, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the oai export once for the module; return the file."""
    out = tmp_path_factory.mktemp("oai-export")
    assert oai_format.write(ctx, out) == [out / "oai-pmh.xml"]
    return out / "oai-pmh.xml"


def provider_records(ctx: ExportContext, prefix: str) -> dict[str, etree._Element]:
    """Return the provider's GetRecord record of every document in a format, by identifier."""
    provider = oai_format.Provider(oai_format.repository(ctx), "http://127.0.0.1/oai")
    records = {}
    for entry in ctx.corpus.documents:
        identifier = f"oai:{ctx.corpus.info['id']}:{Path(entry['tei']['path']).stem}"
        root = etree.fromstring(provider.respond([("verb", "GetRecord"), ("identifier", identifier),
                                                  ("metadataPrefix", prefix)]))
        record = root.find(f"{OAI}GetRecord/{OAI}record")
        assert record is not None, identifier
        records[identifier] = record
    return records


def static_mismatches(static: etree._Element, ctx: ExportContext) -> list[str]:
    """Return how the static repository's records differ from the provider's (identifiers and metadata)."""
    problems = []
    for prefix in ("oai_dc", "tei"):
        lists = static.findall(f"{STATIC}ListRecords[@metadataPrefix='{prefix}']")
        if len(lists) != 1:
            problems.append(f"{prefix}: {len(lists)} ListRecords")
            continue
        served = provider_records(ctx, prefix)
        ids = [str(r.findtext(f"{OAI}header/{OAI}identifier")) for r in lists[0]]
        if ids != sorted(served):
            problems.append(f"{prefix}: identifiers {ids} differ from the provider's {sorted(served)}")
        for record in lists[0]:
            identifier = str(record.findtext(f"{OAI}header/{OAI}identifier"))
            mine, theirs = record.find(f"{OAI}metadata"), served.get(identifier)
            if theirs is None or mine is None or len(mine) != 1:
                continue
            theirs_md = theirs.find(f"{OAI}metadata")
            assert theirs_md is not None
            if etree.tostring(mine[0], method="c14n", exclusive=True) != \
                    etree.tostring(theirs_md[0], method="c14n", exclusive=True):
                problems.append(f"{prefix}: {identifier}: metadata differs from the provider's GetRecord")
    return problems


def test_the_static_repository_holds_what_the_provider_serves(static_file: Path, ctx: ExportContext) -> None:
    """Each record of the static file has the metadata the provider's GetRecord gives; tampering is caught."""
    static = etree.parse(str(static_file)).getroot()  # strict: a repeated xml:id would not parse
    assert static.tag == f"{STATIC}Repository"
    assert static_mismatches(static, ctx) == []
    title = static.find(f".//{STATIC}ListRecords[@metadataPrefix='oai_dc']/{OAI}record/{OAI}metadata"
                        f"/{OAI_DC}dc/{DC}title")
    assert title is not None
    title.text = (title.text or "") + "!"
    dropped = static.find(f".//{STATIC}ListRecords[@metadataPrefix='tei']")
    assert dropped is not None
    dropped.remove(dropped[-1])
    problems = static_mismatches(static, ctx)
    assert len(problems) == 2
    assert problems[0].startswith("oai_dc: oai:tei-ingest-seeds:000_22c6ae8344106c7e: metadata differs")
    assert problems[1].startswith("tei: identifiers")


def test_the_static_repository_keeps_its_restrictions(static_file: Path, ctx: ExportContext,
                                                      export_config: CorpusConfig) -> None:
    """Days only, no sets, no resumptionToken, every record with metadata, the configured baseURL."""
    static = etree.parse(str(static_file)).getroot()
    identify = static.find(f"{STATIC}Identify")
    assert identify is not None
    assert identify.findtext(f"{OAI}baseURL") == export_config.oai_base_url
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DD"
    assert identify.findtext(f"{OAI}earliestDatestamp") == "2026-11-23"
    assert identify.findtext(f"{OAI}deletedRecord") == "no"
    assert identify.findtext(f"{OAI}repositoryName") == ctx.corpus.info["title"]
    formats = [f.findtext(f"{OAI}metadataPrefix") for f in static.iter(f"{OAI}metadataFormat")]
    assert formats == [lst.get("metadataPrefix") for lst in static.findall(f"{STATIC}ListRecords")] == ["oai_dc", "tei"]
    assert not list(static.iter(f"{OAI}setSpec")) and not list(static.iter(f"{OAI}resumptionToken"))
    records = list(static.iter(f"{OAI}record"))
    assert len(records) == 2 * len(ctx.corpus.documents)
    assert {r.findtext(f"{OAI}header/{OAI}datestamp") for r in records} == {"2026-11-23"}
    assert all(r.find(f"{OAI}metadata") is not None for r in records)


def test_the_static_repository_is_reproducible(static_file: Path, ctx: ExportContext, tmp_path: Path) -> None:
    """A second export writes the same bytes."""
    assert oai_format.write(ctx, tmp_path)[0].read_bytes() == static_file.read_bytes()


def test_the_static_repository_needs_a_base_url(ctx: ExportContext, tmp_path: Path) -> None:
    """Without [export] oai_base_url nothing is written: the file must name where it is harvested."""
    bare = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, oai_base_url=""))
    with pytest.raises(ConfigError) as refused:
        oai_format.write(bare, tmp_path)
    assert refused.value.issues[0].code == "config.oai_base_url"
    assert not (tmp_path / "oai-pmh.xml").exists()


def test_an_admin_email_is_required(tmp_path: Path, export_corpus: ExportCorpus, ctx: ExportContext) -> None:
    """A corpus whose contact is not an email address cannot be described as an OAI-PMH repository."""
    manifest = json.loads((export_corpus.folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["corpus"]["contact"] = "the archive"
    no_email = dataclasses.replace(ctx, corpus=dataclasses.replace(ctx.corpus, manifest=manifest))
    with pytest.raises(ConfigError) as refused:
        oai_format.repository(no_email)
    assert refused.value.issues[0].code == "config.contact"
