"""The letters of a corpus as one CMIF 1.1 file, for correspSearch to harvest: ``DIR/cmif.xml``.

CMIF (Correspondence Metadata Interchange Format, TEI Correspondence SIG, version 1.1.0,
schema ``cmi-customization.rng`` and rules ``cmif.sch``) is a TEI file whose
``profileDesc`` lists one ``correspDesc`` per letter. Every document whose header has a
``correspDesc`` (letters, telegrams, memoranda) is listed, in the order of the manifest's
files; the press releases, reports and articles are not correspondence and are left out.

What CMIF allows is narrower than the corpus's TEI, so each letter is flattened:

* names are plain text (``persName``, ``orgName``, ``placeName`` have text content
  only, ODD elementSpec persName/orgName/placeName), with ``@ref`` the authority URIs the
  header's ``listPerson``/``listOrg`` (``idno type="URI"``) or ``listPlace`` (``idno``)
  give for the name, and no ``@ref`` where the header has none;
* dates keep ``@when``, ``@from``, ``@to``, ``@notBefore``, ``@notAfter`` as YYYY, YYYY-MM or
  YYYY-MM-DD (a time or time zone is cut off, any other form is dropped); a date with
  none left is left out, as CMIF asks for an unknown date;
* ``@cert`` may only be ``low`` (ODD classSpec att.global.responsibility).

Each ``correspDesc`` points with ``@ref`` at the letter: the URI its TEI header gives
(``publicationStmt/idno[@type="URI"]``), else ``identifier_base`` + file stem, else the
CMIF file's own URL + ``#`` + the document id, which the ``correspDesc`` carries as its
``xml:id`` so that the link resolves inside the published file. The file is dated from
the build date and serialised canonically: a re-run gives the same bytes.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from ..corpus import NS, TEI_NS
from ..errors import ConfigError, Issue
from ..serialize import to_bytes
from . import ExportContext, write_chunks

FILE_NAME = "cmif.xml"

#: The schema the file declares (xml-model, as the CMIF examples do).
SCHEMA_URL = "https://raw.githubusercontent.com/TEI-Correspondence-SIG/CMIF/master/schema/cmi-customization.rng"

#: CMIF requires the metadata to be offered under CC BY 4.0 (template cmif-digital-edition.xml:
#: "The CC BY 4.0 license is mandatory"); correspSearch harvests nothing else.
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENCE_TEXT = "This file is licensed under the terms of the Creative Commons Licence CC BY 4.0."

_T = f"{{{TEI_NS}}}"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_DATE_ATTRS = ("when", "from", "to", "notBefore", "notAfter")
#: A W3C date, year-month or year, optionally followed by a time or time zone (cut off).
_W3C_DAY = re.compile(r"(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:T\S*|Z|[+-]\d{2}:\d{2})?")
_HTTP = re.compile(r"https?://\S+")
_PAGE_URL = re.compile(r"https?://[^\s#]+")
_EMAIL = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")


def write(ctx: ExportContext, out_dir: Path) -> list[Path]:
    """Write ``out_dir/cmif.xml``: one correspDesc per letter of the corpus."""
    return [write_chunks(out_dir / FILE_NAME, cmif_chunks(ctx))]


def build_tree(ctx: ExportContext) -> etree._ElementTree:
    """Return the CMIF document of the corpus's letters, as one tree (:func:`cmif_chunks` streams it)."""
    tree, profile, url, source_id = _frame(ctx)
    for entry in ctx.corpus.documents:
        for desc in _flatten_letter(ctx, entry, url, source_id):
            profile.append(desc)
    return tree


def cmif_chunks(ctx: ExportContext) -> Iterator[bytes]:
    """Yield the bytes of the CMIF file, one letter's correspDesc at a time: ``to_bytes(build_tree(ctx))``.

    The frame (the header without the letters) is serialised with one empty correspDesc
    and cut there; each letter's correspDesc is serialised alone at the same depth, so
    the file is the one the whole tree gives, and the corpus is never held in memory.
    """
    tree, profile, url, source_id = _frame(ctx)
    descs = (desc for entry in ctx.corpus.documents for desc in _flatten_letter(ctx, entry, url, source_id))
    first = next(descs, None)
    if first is None:
        yield to_bytes(tree)
        return
    etree.SubElement(profile, _T + "correspDesc")
    head, tail = to_bytes(tree).split(b"<correspDesc/>")
    between = head[head.rindex(b">") + 1:]  # the indentation before each correspDesc
    closing = tail[: tail.index(b"<")]  # and after the last
    yield head
    for k, desc in enumerate(itertools.chain([first], descs)):
        yield (between if k else b"") + _alone(desc, between, closing)
    yield tail


def _alone(desc: etree._Element, between: bytes, closing: bytes) -> bytes:
    """Return a correspDesc serialised as it is in the whole file."""
    root = etree.Element(_T + "TEI", nsmap={None: TEI_NS})  # type: ignore[dict-item]
    _add_child(_add_child(root, "teiHeader"), "profileDesc").append(desc)
    data = to_bytes(etree.ElementTree(root))
    start = data.index(b"<profileDesc>") + len(b"<profileDesc>") + len(between)
    return data[start: data.rindex(closing + b"</profileDesc>")]


def _frame(ctx: ExportContext) -> tuple[etree._ElementTree, etree._Element, str, str]:
    """Return the CMIF document without its letters, its profileDesc, the file's URL and the bibl's id."""
    url = require_url(ctx)
    info = ctx.corpus.info
    source_id = derive_bibl_id(str(info["id"]))
    root = etree.Element(_T + "TEI", nsmap={None: TEI_NS})  # type: ignore[dict-item]
    root.addprevious(etree.ProcessingInstruction(
        "xml-model", f'href="{SCHEMA_URL}" type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"'))
    header = _add_child(root, "teiHeader")
    file_desc = _add_child(header, "fileDesc")
    title_stmt = _add_child(file_desc, "titleStmt")
    _add_child(title_stmt, "title", str(info["title"]))
    editor = _add_child(title_stmt, "editor", str(info["publisher"]))
    contact = str(info.get("contact", "")).strip()
    if _EMAIL.fullmatch(contact):
        editor.text = f"{info['publisher']} "
        _add_child(editor, "email", contact)
    pub = _add_child(file_desc, "publicationStmt")
    # The publisher's name is the CC BY attribution correspSearch shows (template cmif-digital-edition.xml).
    _add_child(pub, "publisher", str(info["publisher"]))
    _add_child(pub, "idno", url, type="url")
    _add_child(pub, "date", when=ctx.build.timestamp)
    _add_child(_add_child(pub, "availability"), "licence", LICENCE_TEXT, target=LICENCE_URL)
    bibl = _add_child(_add_child(file_desc, "sourceDesc"), "bibl", type="online")
    bibl.set(_XML_ID, source_id)
    _add_child(bibl, "title", str(info["title"])).tail = ", "
    _add_child(bibl, "publisher", str(info["publisher"]))
    base = str(info.get("identifier_base", ""))
    if base:
        bibl[-1].tail = ", "
        _add_child(bibl, "ref", base, target=base)
    profile = _add_child(header, "profileDesc")
    # CMIF files carry no text: the letters are where @ref points (example01_basic.xml).
    _add_child(_add_child(_add_child(root, "text"), "body"), "p")
    return etree.ElementTree(root), profile, url, source_id


def require_url(ctx: ExportContext) -> str:
    """Return the configured URL of the CMIF file; refuse when it is missing or not an http(s) URL."""
    url = ctx.config.cmif_url.strip()
    if not url:
        raise ConfigError(Issue("config.cmif_url", "tei-ingest.toml", "the URL the CMIF file will be published at "
                                "is not set; set [export] cmif_url in tei-ingest.toml (correspSearch harvests the "
                                "file from there and the file names itself with it)"))
    if not _PAGE_URL.fullmatch(url):
        raise ConfigError(Issue("config.cmif_url", "tei-ingest.toml", f"[export] cmif_url {url!r} is not an "
                                "absolute http(s) URL without a fragment; set it to where cmif.xml will be published"))
    return url


def derive_bibl_id(corpus_id: str) -> str:
    """Return the stable ``xml:id`` of the corpus's ``bibl``: a UUID derived from the corpus id.

    cmif.sch W0001 recommends a UUID, the ODD (bibl/@xml:id) one that never changes when
    the file is regenerated and that begins with a letter (an xml:id is an NCName). The
    UUID is version 5 (RFC 9562 section 5.5), so the same corpus id always gives it; the
    ``cmif-`` prefix makes it an NCName whatever its first hex digit.
    """
    return "cmif-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:tei-ingest:corpus:{corpus_id}"))


def map_cert(tei_cert: str | None) -> str | None:
    """Return the CMIF ``@cert`` for a TEI certainty: ``low`` when it is not high, else none.

    CMIF has one degree only, ``low``: "the attribution ... is uncertain" (ODD classSpec
    att.global.responsibility); a value without it reads as certain. TEI ``medium`` is
    mapped to ``low`` too: the rule that inferred it did not verify it, and an unmarked
    value would claim a certainty the TEI does not give. ``high`` and no certainty stay
    unmarked.
    """
    if tei_cert is None:
        return None
    return None if tei_cert.strip() == "high" else "low"


def truncate_date(value: str | None) -> str | None:
    """Return a TEI date value as YYYY, YYYY-MM or YYYY-MM-DD (time and zone cut off), else None."""
    if value is None:
        return None
    m = _W3C_DAY.fullmatch(value.strip())
    return m.group(1) if m else None


def locate_letter(entry: dict[str, Any], header: etree._Element, url: str, base: str) -> str:
    """Return the URL a letter's correspDesc points at: the TEI's URI, the identifier base, else the CMIF file's."""
    for idno in header.iterfind("tei:fileDesc/tei:publicationStmt/tei:idno[@type='URI']", NS):
        text = _flatten_text(idno)
        if text:
            return text
    if base:
        return base + Path(str(entry["tei"]["path"])).stem
    return f"{url}#{entry['id']}"


def _flatten_letter(ctx: ExportContext, entry: dict[str, Any], url: str, source_id: str) -> Iterator[etree._Element]:
    header = ctx.corpus.header(entry)
    descs = header.findall("tei:profileDesc/tei:correspDesc", NS)
    ref = locate_letter(entry, header, url, str(ctx.corpus.info.get("identifier_base", "")))
    authorities = _Authorities(header)
    for n, tei_desc in enumerate(descs, start=1):
        desc = etree.Element(_T + "correspDesc")
        desc.set(_XML_ID, str(entry["id"]) if n == 1 else f"{entry['id']}-{n}")
        desc.set("key", str(entry["id"]))
        desc.set("ref", ref)
        desc.set("source", "#" + source_id)
        # Only sent and received exist in CMIF 1.1 (ODD elementSpec correspAction), and both are
        # required (cmif.sch E0001, E0002), sent first.
        for kind in ("sent", "received"):
            tei_action = tei_desc.find(f"tei:correspAction[@type='{kind}']", NS)
            desc.append(_flatten_action(kind, tei_action, authorities))
        yield desc


def _flatten_action(kind: str, tei_action: etree._Element | None, auth: _Authorities) -> etree._Element:
    action = etree.Element(_T + "correspAction", type=kind)
    children = [] if tei_action is None else [c for c in tei_action if isinstance(c.tag, str)]
    for party in _group_parties(children):
        for el in _flatten_party(party, auth):
            action.append(el)
    for c in children:
        if c.tag == _T + "placeName" and _flatten_text(c):
            action.append(_make_name("placeName", c, auth.places))
    for c in children:
        if c.tag == _T + "date":
            date = _flatten_date(c)
            if date is not None:
                action.append(date)
    for c in children:
        if c.tag == _T + "note" and _flatten_text(c):
            _add_child(action, "note", _flatten_text(c))
    if len(action) == 0:
        # A correspAction needs at least one child (cmi-customization.rng, model.correspActionPart)
        # and must be there (cmif.sch E0001/E0002); a name is never made up for it.
        _add_child(action, "note", "Not stated in the document.")
    return action


def _group_parties(children: list[etree._Element]) -> Iterator[list[etree._Element]]:
    """Group the names of a correspAction by correspondent.

    The encoder writes each person as persName, then the office (roleName) and the
    organisation (orgName) that person wrote or was written to for; an orgName that does
    not follow a persName is an organisation corresponding in its own name.
    """
    group: list[etree._Element] = []
    for c in children:
        if c.tag == _T + "persName":
            if group:
                yield group
            group = [c]
        elif c.tag == _T + "roleName" and group and group[0].tag == _T + "persName":
            group.append(c)
        elif c.tag == _T + "orgName":
            if group and group[0].tag == _T + "persName" and not any(g.tag == _T + "orgName" for g in group):
                group.append(c)
            else:
                if group:
                    yield group
                group = [c]
    if group:
        yield group


def _flatten_party(party: list[etree._Element], auth: _Authorities) -> Iterator[etree._Element]:
    head = party[0]
    if not _flatten_text(head):
        return  # an empty name says nothing; CMIF names are never made up
    if head.tag == _T + "orgName":
        yield _make_name("orgName", head, auth.orgs)
        return
    if _has_personal_name(head):
        # A named person only: CMIF reads every name in a correspAction as a correspondent,
        # so the organisation the person wrote for is not listed beside them.
        yield _make_name("persName", head, auth.persons)
        return
    # Named only by office ("Secrétaire Général"): CMIF wants the name of a person or an
    # organisation, so the organisation holding the office stands for the correspondent when
    # the TEI gives one, else the office as the text names it; the note keeps the office.
    org = next((c for c in party if c.tag == _T + "orgName"), None)
    if org is not None and _flatten_text(org):
        yield _make_name("orgName", org, auth.orgs)
    else:
        yield _make_name("persName", head, auth.persons)
    note = etree.Element(_T + "note")
    note.text = f"The text names this correspondent only by office: {_flatten_text(head)}."
    yield note


def _has_personal_name(pers: etree._Element) -> bool:
    """Return True when a persName holds a name, not only an office (roleName)."""
    texts = [pers.text or ""]
    for c in pers:
        if not (isinstance(c.tag, str) and c.tag == _T + "roleName"):
            texts.append("".join(str(t) for t in c.itertext()) if isinstance(c.tag, str) else "")
        texts.append(c.tail or "")
    return bool("".join(texts).strip())


def _make_name(tag: str, tei: etree._Element, register: dict[str, list[str]]) -> etree._Element:
    """Return a CMIF name: the TEI name's text, its authority URIs, its certainty."""
    el = etree.Element(_T + tag)
    el.text = _flatten_text(tei)
    refs = _resolve_refs(tei.get("ref"), register)
    if refs:
        el.set("ref", " ".join(refs))
    cert = map_cert(tei.get("cert"))
    if cert:
        el.set("cert", cert)
    return el


def _resolve_refs(pointer: str | None, register: dict[str, list[str]]) -> list[str]:
    """Return the authority URIs of a TEI @ref: the header's ids for "#x", an http(s) URI as it is."""
    out: list[str] = []
    for token in (pointer or "").split():
        if token.startswith("#"):
            out.extend(register.get(token[1:], []))
        elif _HTTP.fullmatch(token):
            out.append(token)
    return list(dict.fromkeys(out))


def _flatten_date(tei: etree._Element) -> etree._Element | None:
    date = etree.Element(_T + "date")
    for attr in _DATE_ATTRS:
        value = truncate_date(tei.get(attr))
        if value:
            date.set(attr, value)
    if not date.attrib:
        # cmif.sch E0004: a date needs a dating attribute; the template: an unknown date is skipped.
        return None
    cert = map_cert(tei.get("cert"))
    if cert:
        date.set("cert", cert)
    # CMIF 1.1 allows the date as written (ODD change 2024-10-18, "Allow text content in date").
    text = _flatten_text(tei)
    if text:
        date.text = text
    return date


class _Authorities:
    """The authority URIs a TEI header gives its persons, organisations and places, by xml:id."""

    def __init__(self, header: etree._Element) -> None:
        self.persons = _collect_ids(header.iterfind(".//tei:particDesc//tei:person", NS), "tei:idno[@type='URI']")
        self.orgs = _collect_ids(header.iterfind(".//tei:particDesc//tei:org", NS), "tei:idno[@type='URI']")
        self.places = _collect_ids(header.iterfind(".//tei:settingDesc//tei:place", NS),
                           "tei:idno[@type='geonames' or @type='URI']")


def _collect_ids(entities: Iterable[etree._Element], path: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in entities:
        key = e.get(_XML_ID)
        if key:
            out[key] = [t for t in (_flatten_text(i) for i in _select(e, path)) if _HTTP.fullmatch(t)]
    return out


def _select(el: etree._Element, path: str) -> list[etree._Element]:
    found = el.xpath(path, namespaces=NS)
    return [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []


def _flatten_text(el: etree._Element) -> str:
    """Return the text of an element with its markup dropped and its spacing normalised."""
    return " ".join("".join(str(t) for t in el.itertext()).split())


def _add_child(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _T + tag, attrs)
    if text is not None:
        el.text = text
    return el
