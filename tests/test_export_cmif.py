"""`tei-ingest export cmif`: the letters as CMIF 1.1, checked as correspSearch checks them.

The file is validated by jing against the CMIF schema (cmi-customization.rng) and by
the CMIF Schematron rules (cmif.sch, query binding xslt2) evaluated with Saxon-HE's
XPath processor; both read the files where they lie in the shared folder. Each check is
also shown to fail on a tampered copy of the output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from lxml import etree

from ingest.cli import main
from ingest.config import load_config
from ingest.corpus import NS
from ingest.errors import ConfigError
from ingest.export import ExportContext, make_context
from ingest.export.cmif import build_tree, cmif_chunks, derive_bibl_id, map_cert, truncate_date, write
from ingest.serialize import to_bytes

from .conftest import EPOCH, SHARED, ExportCorpus

CMIF = SHARED / "schemas" / "cmif"
RNG = CMIF / "cmi-customization.rng"
SCH = CMIF / "cmif.sch"
SCH_NS = "http://purl.oclc.org/dsdl/schematron"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
ENV = {"SOURCE_DATE_EPOCH": str(EPOCH)}


def _context(folder: Path, config_path: Path) -> ExportContext:
    config, _ = load_config(config_path)
    return make_context(folder, config, ENV)


@pytest.fixture(scope="module")
def ctx(export_corpus: ExportCorpus) -> ExportContext:
    """Return the export context of the test corpus."""
    return _context(export_corpus.folder, export_corpus.config_path)


@pytest.fixture(scope="module")
def cmif_file(ctx: ExportContext, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the CMIF file of the test corpus once."""
    (path,) = write(ctx, tmp_path_factory.mktemp("cmif"))
    return path


def _tree(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _letters(ctx: ExportContext) -> list[dict]:
    return [d for d in ctx.corpus.documents if d["type"] == "letter"]


def _desc(root: etree._Element, doc_id: str) -> etree._Element:
    (desc,) = root.xpath("//tei:correspDesc[@key=$k]", namespaces=NS, k=doc_id)
    return desc


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


# --- the CMIF schema, with jing -----------------------------------------------------------


def test_jing_accepts_the_file_and_rejects_each_tampered_copy(cmif_file: Path, jing: str, tmp_path: Path) -> None:
    data = cmif_file.read_bytes()
    dupont = b'<persName ref="https://viaf.org/viaf/000000001">Jean Dupont</persName>'
    empty_received = re.compile(rb'<correspAction type="received">\s*<note>Not stated in the text\.</note>\s*'
                                rb"</correspAction>")
    assert len(empty_received.findall(data)) == 1
    tampered = {
        # CMIF allows @cert="low" only (ODD classSpec att.global.responsibility).
        "cert-high.xml": _replace_once(data, b'<persName cert="low">Whitcombe', b'<persName cert="high">Whitcombe'),
        # persName has text content only (ODD elementSpec persName).
        "persname-child.xml": _replace_once(data, dupont,
                                            dupont.replace(b">Jean Dupont<", b">Jean <name>Dupont</name><")),
        # Dates are W3C dates (att.datable.w3c): a month has two digits.
        "date-1921-3.xml": _replace_once(data, b'when="1921-03-03"', b'when="1921-3"'),
        # A correspAction needs at least one child: an empty one is not CMIF.
        "empty-received.xml": empty_received.sub(b'<correspAction type="received"/>', data),
    }
    for name, bad in tampered.items():
        (tmp_path / name).write_bytes(bad)
    files = [cmif_file, *(tmp_path / n for n in sorted(tampered))]
    done = subprocess.run([jing, str(RNG), *map(str, files)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    for name in tampered:
        assert f"{tmp_path / name}:" in done.stdout, (name, done.stdout)
    assert f"{cmif_file}:" not in done.stdout, done.stdout
    alone = subprocess.run([jing, str(RNG), str(cmif_file)], capture_output=True, text=True, check=False)
    assert alone.returncode == 0, alone.stdout


# --- the CMIF Schematron rules, with Saxon-HE ---------------------------------------------


@pytest.fixture(scope="module")
def saxon() -> object:
    """Return a Saxon-HE processor (saxonche)."""
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


def _schematron(saxon: object, sch: Path, xml: Path) -> list[tuple[str, str]]:
    """Evaluate the Schematron rules of sch on xml with Saxon's XPath; return (role, code) of each failure.

    ISO Schematron (ISO/IEC 19757-3) semantics, as far as cmif.sch uses them: in each
    pattern a node is checked by the first rule whose context matches it; an assert fails
    when its test is false, a report when its test is true.
    """
    schema = etree.parse(str(sch)).getroot()
    used = {etree.QName(e).localname for e in schema.iter() if isinstance(e.tag, str)
            and etree.QName(e).namespace == SCH_NS}
    # This loop knows these elements only; a schema that needs more must not pass unchecked.
    assert used <= {"schema", "title", "ns", "pattern", "rule", "assert", "report", "p"}, used
    assert schema.get("queryBinding") == "xslt2"
    namespaces = {n.get("prefix"): n.get("uri") for n in schema.iterfind(f"{{{SCH_NS}}}ns")}
    doc = saxon.parse_xml(xml_file_name=str(xml))  # type: ignore[attr-defined]

    def processor(item: object) -> object:
        xp = saxon.new_xpath_processor()  # type: ignore[attr-defined]
        for prefix, uri in namespaces.items():
            xp.declare_namespace(prefix, uri)
        xp.set_context(xdm_item=item)
        return xp

    failures: list[tuple[str, str]] = []
    for pattern in schema.iterfind(f"{{{SCH_NS}}}pattern"):
        checked: list[object] = []
        for rule in pattern.iterfind(f"{{{SCH_NS}}}rule"):
            context = rule.get("context", "")
            # A rule context is an XSLT pattern: the nodes it matches are those of //pattern.
            found = processor(doc).evaluate(context if context.startswith("/") else "//" + context)  # type: ignore[attr-defined]
            for node in [] if found is None else [found.item_at(i) for i in range(found.size)]:
                if any(node.equals(other) for other in checked):
                    continue
                checked.append(node)
                xp = processor(node)
                for check in rule:
                    if not isinstance(check.tag, str) or etree.QName(check).localname not in ("assert", "report"):
                        continue
                    holds = xp.effective_boolean_value(check.get("test"))  # type: ignore[attr-defined]
                    if holds != (etree.QName(check).localname == "assert"):
                        code = re.search(r"\[([EW]\d{4})\]", "".join(check.itertext()))
                        failures.append((check.get("role", "error"), code.group(1) if code else check.get("test", "")))
    return failures


def test_cmif_schematron_rules_all_hold(saxon: object, cmif_file: Path) -> None:
    """No rule fails, not even the UUID warning W0001."""
    assert _schematron(saxon, SCH, cmif_file) == []


def _edited(cmif_file: Path, tmp_path: Path, edit: str) -> Path:
    root = _tree(cmif_file)
    first = root.find(".//tei:correspDesc", NS)
    assert first is not None
    if edit == "no-sent":
        first.remove(first.find("tei:correspAction[@type='sent']", NS))
    elif edit == "no-received":
        first.remove(first.find("tei:correspAction[@type='received']", NS))
    elif edit == "source-elsewhere":
        first.set("source", "#elsewhere")
    elif edit == "date-without-attributes":
        date = root.find(".//tei:correspAction/tei:date", NS)
        assert date is not None and date.get("when")
        date.attrib.clear()
    elif edit == "bibl-not-uuid":
        bibl = root.find(".//tei:sourceDesc/tei:bibl", NS)
        assert bibl is not None
        bibl.set(XML_ID, "corpus")
        for desc in root.iterfind(".//tei:correspDesc", NS):
            desc.set("source", "#corpus")
    path = tmp_path / f"{edit}.xml"
    etree.ElementTree(root).write(str(path), encoding="UTF-8", xml_declaration=True)
    return path


@pytest.mark.parametrize(("edit", "expected"), [
    ("no-sent", [("error", "E0001")]),
    ("no-received", [("error", "E0002")]),
    ("source-elsewhere", [("error", "E0003")]),
    ("date-without-attributes", [("error", "E0004")]),
    ("bibl-not-uuid", [("warning", "W0001")]),
])
def test_cmif_schematron_rule_fires_on_a_tampered_copy(saxon: object, cmif_file: Path, tmp_path: Path,
                                                       edit: str, expected: list[tuple[str, str]]) -> None:
    assert _schematron(saxon, SCH, _edited(cmif_file, tmp_path, edit)) == expected


# --- what the file says -------------------------------------------------------------------


def test_lists_one_correspdesc_per_letter_and_nothing_else(ctx: ExportContext, cmif_file: Path) -> None:
    root = _tree(cmif_file)
    keys = [d.get("key") for d in root.iterfind(".//tei:correspDesc", NS)]
    letters = [d["id"] for d in _letters(ctx)]
    assert len(keys) == len(letters) == 5
    assert keys == letters  # in the manifest's order of files
    others = {d["type"] for d in ctx.corpus.documents if d["id"] not in keys}
    assert others == {"press-release", "report", "news-article"}


def test_header_names_the_file_its_url_date_licence_and_source(ctx: ExportContext, cmif_file: Path) -> None:
    root = _tree(cmif_file)
    info = ctx.corpus.info
    assert root.findtext(".//tei:titleStmt/tei:title", namespaces=NS) == info["title"]
    assert root.findtext(".//tei:titleStmt/tei:editor/tei:email", namespaces=NS) == info["contact"]
    assert root.findtext(".//tei:publicationStmt/tei:idno[@type='url']", namespaces=NS) == ctx.config.cmif_url
    date = root.find(".//tei:publicationStmt/tei:date", NS)
    assert date is not None and date.get("when") == ctx.build.timestamp == "2026-11-23T00:00:00Z"
    licence = root.find(".//tei:availability/tei:licence", NS)
    assert licence is not None and licence.get("target") == "https://creativecommons.org/licenses/by/4.0/"
    bibl = root.find(".//tei:sourceDesc/tei:bibl", NS)
    assert bibl is not None and bibl.get(XML_ID) == derive_bibl_id(info["id"])
    assert uuid.UUID(bibl.get(XML_ID, "").removeprefix("cmif-")).version == 5
    assert derive_bibl_id(info["id"]) == derive_bibl_id(str(info["id"])) != derive_bibl_id("another-corpus")
    for desc in root.iterfind(".//tei:correspDesc", NS):
        assert desc.get("source") == "#" + bibl.get(XML_ID, "")
        # Without identifier_base, a letter's URL is its correspDesc inside the published file.
        assert desc.get("ref") == f"{ctx.config.cmif_url}#{desc.get(XML_ID)}"
    assert [etree.QName(e).localname for e in root.find("tei:text/tei:body", NS)] == ["p"]


def test_names_places_and_dates_are_carried_as_the_tei_gives_them(cmif_file: Path) -> None:
    root = _tree(cmif_file)
    dupont = _desc(root, "doc-lettre_dupont_1921")
    sent = dupont.find("tei:correspAction[@type='sent']", NS)
    assert sent is not None
    pers = sent.find("tei:persName", NS)
    assert pers is not None and pers.text == "Jean Dupont" and pers.get("ref") == "https://viaf.org/viaf/000000001"
    place = sent.find("tei:placeName", NS)
    assert place is not None and place.get("ref") == "https://sws.geonames.org/2996944/"
    hartley = _desc(root, "doc-letter_hartley_1899")
    date = hartley.find("tei:correspAction[@type='sent']/tei:date", NS)
    assert date is not None and dict(date.attrib) == {"when": "1899-05"}  # a month stays a month
    manchester = hartley.find(".//tei:placeName", NS)
    assert manchester is not None and manchester.get("ref") is None  # no GeoNames id in the TEI: none here
    whitcombe = hartley.find("tei:correspAction[@type='received']/tei:persName", NS)
    assert whitcombe is not None and whitcombe.text == "Whitcombe" and whitcombe.get("cert") == "low"
    assert whitcombe.get("ref") is None
    undated = _desc(root, "doc-lettre_sans_date")
    assert undated.find(".//tei:date", NS) is None
    received = undated.find("tei:correspAction[@type='received']", NS)
    assert received is not None and [e.text for e in received] == ["Not stated in the text."]
    # Names are plain strings: no markup inside any name or date.
    for el in root.iterfind(".//tei:correspAction/*", NS):
        assert len(el) == 0, etree.tostring(el)
    # Only low is a CMIF certainty.
    assert {e.get("cert") for e in root.iter() if e.get("cert")} == {"low"}


def test_an_office_only_addressee_is_given_by_the_organisation_holding_it(cmif_file: Path) -> None:
    received = _desc(_tree(cmif_file), "doc-000_22c6ae8344106c7e").find("tei:correspAction[@type='received']", NS)
    assert received is not None
    assert [(etree.QName(e).localname, e.text) for e in received] == [
        ("orgName", "Nations-Unies (ONU)"),
        ("note", "The text names this correspondent only by office: Secrétaire Général."),
    ]


def _retouch(folder: Path, name: str, edits: list[tuple[bytes, bytes]]) -> None:
    """Change a TEI file of a corpus copy and its manifest entry, so that the copy stays consistent."""
    path = folder / name
    data = path.read_bytes()
    for old, new in edits:
        data = _replace_once(data, old, new) if not old.startswith(b"re:") else \
            re.sub(old[3:], new, data, count=1, flags=re.S)
    path.write_bytes(data)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    (entry,) = [d for d in manifest["documents"] if d["tei"]["path"] == name]
    entry["tei"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        sha512=hashlib.sha512(data).hexdigest())
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def test_dates_certainties_and_urls_are_mapped_to_what_cmif_allows(export_corpus: ExportCorpus,
                                                                   tmp_path: Path, jing: str) -> None:
    folder = tmp_path / "tei"
    shutil.copytree(export_corpus.folder, folder)
    _retouch(folder, "lettre_dupont_1921.xml", [
        (b'<date cert="high" resp="#tei-ingest" when="1921-03-03">',
         b'<date cert="medium" resp="#tei-ingest" when="1921-03-03T10:15:00+01:00">'),
    ])
    _retouch(folder, "letter_hartley_1899.xml", [
        (b'<date cert="high" resp="#tei-ingest" when="1899-05">',
         b'<date cert="high" resp="#tei-ingest" when="1899-05-XX">'),
        (b'<persName ref="#pers-1" cert="high" resp="#tei-ingest">Edith Hartley',
         b'<persName ref="#pers-1" cert="unknown" resp="#tei-ingest">Edith Hartley'),
    ])
    _retouch(folder, "004_ce847bf80637aac6.xml", [
        (b'<idno type="local">tei-ingest-seeds/004_ce847bf80637aac6</idno>',
         b'<idno type="local">tei-ingest-seeds/004_ce847bf80637aac6</idno>'
         b'<idno type="URI">https://archive.example/letters/004</idno>'),
    ])
    _retouch(folder, "lettre_sans_date.xml", [
        (rb're:<correspAction type="received">.*?</correspAction>', b""),
    ])
    (path,) = write(_context(folder, export_corpus.config_path), tmp_path / "out")
    root = _tree(path)
    dupont = _desc(root, "doc-lettre_dupont_1921").find(".//tei:date", NS)
    assert dupont is not None and dict(dupont.attrib) == {"when": "1921-03-03", "cert": "low"}
    hartley = _desc(root, "doc-letter_hartley_1899")
    assert hartley.find(".//tei:date", NS) is None  # not a CMIF date form: left out, not guessed
    edith = hartley.find("tei:correspAction[@type='sent']/tei:persName", NS)
    assert edith is not None and edith.get("cert") == "low"
    assert _desc(root, "doc-004_ce847bf80637aac6").get("ref") == "https://archive.example/letters/004"
    received = _desc(root, "doc-lettre_sans_date").find("tei:correspAction[@type='received']", NS)
    assert received is not None and [e.text for e in received] == ["Not stated in the document."]
    done = subprocess.run([jing, str(RNG), str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(("value", "expected"), [
    ("1899", "1899"), ("1899-05", "1899-05"), ("1921-03-03", "1921-03-03"),
    ("1921-03-03T10:15:00", "1921-03-03"), ("1921-03-03Z", "1921-03-03"), ("1899-05+02:00", "1899-05"),
    ("1921-3", None), ("--05-03", None), ("-0044-03-15", None), ("", None), (None, None),
])
def test_cmif_date_keeps_year_month_and_day_only(value: str | None, expected: str | None) -> None:
    assert truncate_date(value) == expected


def test_cmif_cert_is_low_for_anything_short_of_high() -> None:
    assert [map_cert(c) for c in ("high", "medium", "low", "unknown", None)] == [None, "low", "low", "low", None]


# --- reproducible, and refused without its URL --------------------------------------------


def test_rewrite_gives_the_same_bytes(ctx: ExportContext, export_corpus: ExportCorpus, tmp_path: Path) -> None:
    (first,) = write(ctx, tmp_path / "a")
    again = _context(export_corpus.folder, export_corpus.config_path)
    (second,) = write(again, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    assert write(again, tmp_path / "a") == [first]
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["cmif.xml"]


def test_missing_cmif_url_is_refused(ctx: ExportContext, tmp_path: Path) -> None:
    for url in ("", "   ", "cmif.xml", "https://example.org/cmif.xml#top"):
        bad = ExportContext(ctx.corpus, dataclasses.replace(ctx.config, cmif_url=url), ctx.build)
        with pytest.raises(ConfigError) as info:
            write(bad, tmp_path)
        assert info.value.issues[0].code == "config.cmif_url"
        assert "[export] cmif_url" in str(info.value)
    assert not (tmp_path / "cmif.xml").exists()


def test_cli_without_cmif_url_exits_3_naming_the_setting(export_corpus: ExportCorpus, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = export_corpus.config_path.read_text(encoding="utf-8")
    without, n = re.subn(r"(?m)^cmif_url\s*=.*$", "", text)
    assert n == 1
    config = tmp_path / "tei-ingest.toml"
    config.write_text(without, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["export", "cmif", "-o", str(out), "--corpus", str(export_corpus.folder), "--config", str(config)])
    assert code == 3
    err = capsys.readouterr().err
    assert "[config.cmif_url]" in err and "[export] cmif_url" in err
    assert not out.exists()
    code = main(["export", "cmif", "-o", str(out), "--corpus", str(export_corpus.folder),
                 "--config", str(export_corpus.config_path)])
    assert code == 0 and (out / "cmif.xml").is_file()


def test_the_streamed_file_is_the_whole_tree(ctx: ExportContext, cmif_file: Path) -> None:
    """Written a letter at a time, the file has the bytes of the document built as one tree."""
    chunks = list(cmif_chunks(ctx))
    assert b"".join(chunks) == to_bytes(build_tree(ctx)) == cmif_file.read_bytes()
    letters = len(_tree(cmif_file).findall(".//tei:correspDesc", NS))
    assert letters > 1 and len(chunks) == letters + 2  # the head, one chunk per letter, the tail


def test_a_corpus_without_letters_gives_an_empty_profile(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["documents"] = [e for e in manifest["documents"] if e["type"] not in ("letter", "telegram", "memorandum")]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    ctx = _context(folder, export_corpus.config_path)
    data = b"".join(cmif_chunks(ctx))
    assert data == to_bytes(build_tree(ctx))
    assert etree.fromstring(data).findall(".//tei:correspDesc", NS) == []
