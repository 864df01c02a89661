"""Dublin Core records (oai_dc), one per document: ``tei-ingest export dc -o DIR`` writes ``DIR/dc/<stem>.xml``.

Each record is read off the document's teiHeader, not the manifest, so that it says
what the TEI says and nothing else; values are carried as written (whitespace folded,
never corrected). The elements are twelve of the fifteen of the Dublin Core Metadata
Element Set 1.1, in the ``oai_dc`` container of OAI-PMH 2.0 (§6 of the protocol, oai_dc.xsd),
always in the same order:

===============  ===================================================================
dc:title         every ``titleStmt/title``
dc:creator       the senders (``correspAction[@type='sent']``: each persName and orgName)
                 and the authors (``titleStmt/author``), as the TEI names them
dc:contributor   the addressees (``correspAction[@type='received']``: persName, orgName)
dc:publisher     ``publicationStmt/publisher``
dc:date          the document's date (``correspAction[@type='sent']/date`` or
                 ``creation/date``) in ISO 8601 at its own precision; none when unknown
dc:type          ``Text`` (DCMI Type Vocabulary), then the document type's label
dc:format        ``application/tei+xml`` (RFC 6129)
dc:identifier    ``publicationStmt/idno`` of type ``local`` and ``URI``
dc:source        the source file: its name and sha256 from ``sourceDesc``
dc:language      ``langUsage/language/@ident``, the text's main language first
dc:coverage      the places of ``settingDesc/listPlace``
dc:rights        each ``availability/licence``: its text, then its URL
===============  ===================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from ..corpus import NS, TEI_NS
from . import ExportContext, write_folder

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: The media type of a TEI file (RFC 6129 §2).
TEI_MEDIA_TYPE = "application/tei+xml"
#: The DCMI Type Vocabulary term for every document of a corpus: they are all text.
DCMI_TYPE = "Text"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_DC = f"{{{DC_NS}}}"


def document_stem(entry: dict[str, Any]) -> str:
    """Return the stem of a document's TEI file name, which names it in every export."""
    return Path(str(entry["tei"]["path"])).stem


def _elements(el: etree._Element, path: str) -> list[etree._Element]:
    """Return the elements an XPath (with the tei prefix) selects, in document order."""
    found = el.xpath(path, namespaces=NS)
    return [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []


def _attributes(el: etree._Element, path: str) -> list[str]:
    """Return the attribute values an XPath (with the tei prefix) selects, in document order."""
    found = el.xpath(path, namespaces=NS)
    return [str(n) for n in found if isinstance(n, str)] if isinstance(found, list) else []


def _text(el: etree._Element) -> str:
    """Return an element's text with its whitespace folded (the words are kept as written)."""
    return " ".join("".join(str(t) for t in el.itertext()).split())


def _texts(header: etree._Element, path: str) -> list[str]:
    """Return the non-empty folded texts of the elements at path, in document order, once each."""
    out: list[str] = []
    for el in _elements(header, path):
        value = _text(el)
        if value and value not in out:
            out.append(value)
    return out


def iso_date(date: etree._Element) -> str | None:
    """Return a TEI date's ISO 8601 reading at its own precision: a date, an interval or bounds.

    ``@when`` is a date; ``@from``/``@to`` an interval; ``@notBefore``/``@notAfter`` the
    interval the date lies in. An end that is not known is written ``..``, the open end of
    the Extended Date/Time Format (EDTF level 1, now ISO 8601-2), so that one bound is
    never passed off as the date itself.
    """
    when = date.get("when")
    if when:
        return when
    for start_attr, end_attr in (("from", "to"), ("notBefore", "notAfter")):
        start, end = date.get(start_attr), date.get(end_attr)
        if start or end:
            return f"{start or '..'}/{end or '..'}"
    return None


def document_date(header: etree._Element) -> str | None:
    """Return the ISO 8601 reading of a document's own date (sent, else created); None when unknown."""
    for date in _elements(header, "tei:profileDesc/tei:correspDesc/tei:correspAction[@type='sent']/tei:date"
                                  " | tei:profileDesc/tei:creation/tei:date"):
        value = iso_date(date)
        if value:
            return value
    return None


def document_languages(tree: etree._ElementTree) -> list[str]:
    """Return the language codes of langUsage, the main language of the text first."""
    root = tree.getroot()
    codes: list[str] = []
    for ident in _attributes(root, "tei:teiHeader/tei:profileDesc/tei:langUsage/tei:language/@ident"):
        if ident and ident not in codes:
            codes.append(ident)
    # The language of <text> is the document's main one (the header's own may differ).
    text = root.find(f"{{{TEI_NS}}}text")
    main_code = text.get(f"{{{XML_NS}}}lang") if text is not None else None
    if main_code is not None and main_code in codes:
        codes.remove(main_code)
        codes.insert(0, main_code)
    return codes


def type_labels(header: etree._Element) -> list[str]:
    """Return the labels of the document's types (``textClass/catRef`` to the taxonomy's categories)."""
    labels: list[str] = []
    categories = {c.get(f"{{{XML_NS}}}id"): c
                  for c in _elements(header, "tei:encodingDesc/tei:classDecl/tei:taxonomy//tei:category")}
    for target in _attributes(header, "tei:profileDesc/tei:textClass/tei:catRef/@target"):
        for ref in target.split():
            ident = ref.removeprefix("#")
            category = categories.get(ident)
            desc = _elements(category, "tei:catDesc") if category is not None else []
            # A catDesc reads "Label. Description."; its first sentence is the label.
            label = _text(desc[0]).split(". ", 1)[0].rstrip(".") if desc else ident
            if label and label not in labels:
                labels.append(label)
    return labels


def _sources(header: etree._Element) -> list[str]:
    out: list[str] = []
    for bibl in _elements(header, "tei:fileDesc/tei:sourceDesc/tei:bibl[@type='source-file']"):
        name = _texts(bibl, "tei:idno[@type='filename']")
        digest = _texts(bibl, "tei:idno[@type='sha256']")
        if name:
            out.append(f"{name[0]} (sha256:{digest[0]})" if digest else name[0])
    return out


def _rights(header: etree._Element) -> list[str]:
    out: list[str] = []
    for licence in _elements(header, "tei:fileDesc/tei:publicationStmt/tei:availability/tei:licence"):
        for value in (_text(licence), " ".join((licence.get("target") or "").split())):
            if value and value not in out:
                out.append(value)
    return out


def dc_values(tree: etree._ElementTree) -> list[tuple[str, str]]:
    """Return the Dublin Core (element, value) pairs of a TEI document, in the record's order."""
    header = tree.getroot().find(f"{{{TEI_NS}}}teiHeader")
    if header is None:
        return []
    sent = "tei:profileDesc/tei:correspDesc/tei:correspAction[@type='sent']"
    received = "tei:profileDesc/tei:correspDesc/tei:correspAction[@type='received']"
    creators = _texts(header, f"{sent}/tei:persName | {sent}/tei:orgName | tei:fileDesc/tei:titleStmt/tei:author")
    # Addressees are dc:contributor, not dc:subject: a letter is addressed to them, not
    # about them. DCMI recognises the MARC relator terms, "Addressee" (rcp) among them,
    # as refinements of Contributor ("Using Dublin Core", appendix "Roles").
    contributors = _texts(header, f"{received}/tei:persName | {received}/tei:orgName")
    date = document_date(header)
    values: list[tuple[str, str]] = []
    values += [("title", v) for v in _texts(header, "tei:fileDesc/tei:titleStmt/tei:title")]
    values += [("creator", v) for v in creators]
    values += [("contributor", v) for v in contributors]
    values += [("publisher", v) for v in _texts(header, "tei:fileDesc/tei:publicationStmt/tei:publisher")]
    values += [("date", date)] if date else []
    values += [("type", v) for v in [DCMI_TYPE, *type_labels(header)]]
    values += [("format", TEI_MEDIA_TYPE)]
    values += [("identifier", v) for v in _texts(
        header, "tei:fileDesc/tei:publicationStmt/tei:idno[@type='local' or @type='URI']")]
    values += [("source", v) for v in _sources(header)]
    values += [("language", v) for v in document_languages(tree)]
    values += [("coverage", v) for v in _texts(header, "tei:profileDesc/tei:settingDesc/tei:listPlace/tei:place"
                                                       "/tei:placeName")]
    values += [("rights", v) for v in _rights(header)]
    return values


def dc_record(ctx: ExportContext, entry: dict[str, Any]) -> etree._Element:
    """Return the oai_dc record of one document, read off its teiHeader."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for name, value in dc_values(ctx.corpus.tree(entry)):
        etree.SubElement(root, _DC + name).text = value
    return root


def record_bytes(record: etree._Element) -> bytes:
    """Return the bytes of a record as a standalone UTF-8 XML file."""
    return XML_DECLARATION + etree.tostring(record, encoding="UTF-8", pretty_print=True)


def write(ctx: ExportContext, out_dir: Path) -> list[Path]:
    """Write ``out_dir/dc/<stem>.xml`` for every document, the folder replaced whole."""
    files = ((f"{document_stem(entry)}.xml", record_bytes(dc_record(ctx, entry))) for entry in ctx.corpus.documents)
    return [write_folder(out_dir / "dc", files)]  # written one record at a time
