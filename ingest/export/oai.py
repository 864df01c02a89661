"""OAI-PMH 2.0: a Static Repository file (``tei-ingest export oai``) and a data provider (``tei-ingest serve``).

Both offer every document of the corpus as one item, identified ``oai:<corpus id>:<stem>``
(§2.4), in two metadata formats (§3.4):

=======  ===========================================  ======================================
prefix   namespace                                    schema, content
=======  ===========================================  ======================================
oai_dc   http://www.openarchives.org/OAI/2.0/oai_dc/  oai_dc.xsd (§6): see :mod:`.dc`
tei      http://www.tei-c.org/ns/1.0                  tei_all.xsd: the document's teiHeader
=======  ===========================================  ======================================

The teiHeader is carried as the TEI file has it, except that its xml:ids are prefixed with
the document's own id (and the pointers to them alike), because a list response holds
many headers in one document and an xml:id must be unique there (:func:`tei_header`).

The TEI format names the W3C XML Schema of TEI P5 (tei_all.xsd), not the RELAX NG
schema the corpus is validated with, because §3.4 asks for "the URL of an XML schema
to test validity of metadata" and §4.4 for the ``schema`` of a format: harvesters
validate with XML Schema. The datestamp of a document's records is the build date: a
record can change only when the corpus is rebuilt, and §2.7.1 asks that its datestamp
then change; so responses are reproducible.

Deleted records (§2.5.1): a document an earlier run encoded whose source is gone is
listed in the manifest's ``deleted`` list (its id, TEI file name, title and the time of
the run that removed it), and the manifest keeps these tombstones from run to run, so
the data provider declares ``deletedRecord`` ``persistent`` (§4.2). A deleted item keeps
the identifier it had, ``oai:<corpus id>:<stem>``, and its datestamp is the time it was
deleted: ``from``/``until`` select every item on its own datestamp, and
``earliestDatestamp`` is the earliest of them all, live or deleted. ListIdentifiers and
ListRecords give a deleted item as a ``<header status="deleted">`` with its identifier
and datestamp only (in ListRecords, a ``<record>`` with that header and no metadata), in
either format; GetRecord gives that record too, never idDoesNotExist. A deleted item
belongs to no set: set membership follows the manifest's classification of the live
documents, which a tombstone does not carry, so a deleted item is only in the lists not
restricted to a set (a harvester that harvests by set learns of a deletion from a list
without ``set`` or from GetRecord). ListMetadataFormats with the identifier of a deleted item
lists both formats, not idDoesNotExist: the identifier is known to the repository, and
its deleted records can be asked for in both (§4.4: idDoesNotExist is for an identifier
"unknown or illegal in this repository").

The Static Repository has no deleted records: its restricted OAI-PMH schema allows only
``deletedRecord`` ``no`` and records with metadata, so the static file holds the live
documents only and declares ``no``; its earliestDatestamp is the build day.

The data provider answers GET and POST (§3.1.1) at ``/oai``. It supports sets (§2.6):
``type:<type>`` for each document type and ``lang:<code>`` for each main language, below
``type`` and ``lang``, following the manifest's classification of the documents. Lists
longer than the page size are split with resumptionTokens (§3.5) that carry the query,
the offset and a fingerprint of the corpus and its tombstones, so that a token of another
corpus, or of this one before it was rebuilt or its deleted list changed, is refused as
``badResumptionToken``; completeListSize counts the deleted items of the list too. Of the
errors of §3.6, ``noMetadataFormats`` cannot arise (every item is disseminated in both
formats) and ``noSetHierarchy`` only for a corpus without documents, which has no sets.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from ..corpus import TEI_NS
from ..encode import document_id
from ..errors import ConfigError, CorpusError, Issue
from . import ExportContext, write_chunks
from .dc import OAI_DC_NS, OAI_DC_SCHEMA, XML_DECLARATION, XSI_NS, dc_record, document_stem, type_labels

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
STATIC_NS = "http://www.openarchives.org/OAI/2.0/static-repository"
STATIC_SCHEMA = "http://www.openarchives.org/OAI/2.0/static-repository.xsd"
#: The W3C XML Schema of TEI P5 (all modules), for the ``tei`` format.
TEI_SCHEMA = "https://www.tei-c.org/release/xml/tei/custom/schema/xsd/tei_all.xsd"
#: The path the data provider answers at.
OAI_PATH = "/oai"
#: The finest datestamp granularity of the data provider (§3.3.1 and §4.2); the static file has days only.
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
STATIC_GRANULARITY = "YYYY-MM-DD"

_O = f"{{{OAI_NS}}}"
_S = f"{{{STATIC_NS}}}"
#: adminEmail must be an email address (OAI-PMH.xsd, emailType).
_EMAIL = re.compile(r"\S+@(\S+\.)+\S+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
#: A POST body larger than this is not an OAI-PMH request.
_MAX_BODY = 64 * 1024
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
#: A same-document pointer in a TEI attribute (teidata.pointer), one of a space-separated list.
_POINTER = re.compile(r"(?<!\S)#(\S+)")
_MAX_TOKEN = 2048


@dataclass(frozen=True, slots=True)
class MetadataFormat:
    """A metadata format the repository disseminates (§4.4)."""

    prefix: str
    schema: str
    namespace: str


METADATA_FORMATS: tuple[MetadataFormat, ...] = (
    MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS),
    MetadataFormat("tei", TEI_SCHEMA, TEI_NS),
)


@dataclass(frozen=True, slots=True)
class Item:
    """One document as an OAI-PMH item: its identifier, datestamp, sets and records' metadata as bytes.

    A deleted item (§2.5.1) has the time it was deleted as its datestamp, no sets and no metadata.
    """

    identifier: str
    stem: str
    datestamp: dt.datetime
    sets: tuple[str, ...]
    metadata: Mapping[str, bytes]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Repository:
    """What the static file and the data provider describe: the corpus as OAI-PMH items."""

    name: str
    admin_email: str
    datestamp: dt.datetime
    items: tuple[Item, ...]
    sets: tuple[tuple[str, str], ...]  # (setSpec, setName), sorted
    fingerprint: str

    @property
    def response_date(self) -> str:
        """Return responseDate (§3.2): the build time, so that a response can be reproduced."""
        return _seconds(self.datestamp)

    @property
    def live(self) -> tuple[Item, ...]:
        """Return the items that are not deleted."""
        return tuple(item for item in self.items if not item.deleted)

    @property
    def earliest(self) -> dt.datetime:
        """Return earliestDatestamp (§4.2): the earliest datestamp of an item, live or deleted; else the build time."""
        return min((item.datestamp for item in self.items), default=self.datestamp)


def _seconds(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _metadata_bytes(el: etree._Element) -> bytes:
    return etree.tostring(el, encoding="UTF-8")


def tei_header(ctx: ExportContext, entry: dict[str, Any]) -> bytes:
    """Return the teiHeader of the ``tei`` format, as bytes: its xml:ids prefixed with the document's id.

    A list response carries many headers in one XML document, and an xml:id must be
    unique in its document (xml:id Recommendation §4; XML 1.0 §3.3.1, validity constraint
    "ID"): every header has its ``tei-ingest``, ``pers-1``... Each xml:id becomes
    ``<TEI/@xml:id>.<xml:id>`` and every pointer to it (``#pers-1`` in @ref, @target,
    @resp...) is rewritten alike, so the references still resolve; nothing else changes.

    The renaming is done on the serialised header, inside its tags only (where lxml
    escapes every ``<``, ``>`` and ``"`` of a value): set on a tree, each new xml:id would be
    interned in libxml2's dictionary, which lxml shares between the documents of a thread,
    and a corpus of 100,000 documents would leave 100,000 headers' ids there.
    """
    root = ctx.corpus.tree(entry).getroot()
    header = ctx.corpus.header(entry)
    prefix = (root.get(_XML_ID) or document_id(document_stem(entry))) + "."
    data = etree.tostring(header, encoding="UTF-8", with_tail=False)
    tags = [m.span() for m in _TAG.finditer(data) if data[m.start() + 1] not in b"!?"]
    found = {m[1] for start, end in tags for m in _ID_ATTR.finditer(data, start, end)}
    if any(c in prefix for c in '&<>"\t\n\r') or any(b"&" in v for v in found) or any(
            b"&" in m[2] and b"#" in m[2] for start, end in tags for m in _ATTR.finditer(data, start, end)):
        return _renamed_on_a_copy(header, prefix)  # escaped characters in the values: rename on a tree
    ids = {v.decode("utf-8") for v in found}

    def rename_pointer(match: re.Match[str]) -> str:
        return f"#{prefix}{match[1]}" if match[1] in ids else match[0]

    def rename(match: re.Match[bytes]) -> bytes:
        name, value = match[1], match[2]
        if name == b"xml:id":
            return b" xml:id=\"" + prefix.encode("utf-8") + value + b'"'
        if b"#" in value:
            return b" " + name + b'="' + _POINTER.sub(rename_pointer, value.decode("utf-8")).encode("utf-8") + b'"'
        return match[0]

    out: list[bytes] = []
    last = 0
    for start, end in tags:
        out.append(data[last:start])
        out.append(_ATTR.sub(rename, data[start:end]))
        last = end
    out.append(data[last:])
    return b"".join(out)


def _renamed_on_a_copy(header: etree._Element, prefix: str) -> bytes:
    """Return the header with its ids renamed on a copy of its tree (values with escaped characters)."""
    header = copy.deepcopy(header)
    header.tail = None
    ids = {str(el.get(_XML_ID)) for el in header.iter(etree.Element) if el.get(_XML_ID)}

    def rename(match: re.Match[str]) -> str:
        return f"#{prefix}{match[1]}" if match[1] in ids else match[0]

    for el in header.iter(etree.Element):
        for key, raw in el.attrib.items():
            name, value = str(key), str(raw)
            if name == _XML_ID:
                el.set(name, prefix + value)
            elif "#" in value:
                el.set(name, _POINTER.sub(rename, value))
    return _metadata_bytes(header)


#: The markup of serialised XML: comments, processing instructions, CDATA sections and tags.
_TAG = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<[^>]*>", re.S)
_ATTR = re.compile(rb'\s([^\s="]+)="([^"]*)"')
_ID_ATTR = re.compile(rb'\sxml:id="([^"]*)"')


class _Records(Mapping[str, bytes]):
    """The metadata of a live item in both formats, made from its TEI file when a response needs it.

    A repository of 100,000 documents thus holds no record in memory. The file is checked
    against the manifest's sha256 each time (it was when the corpus was opened): a file
    changed since raises :class:`CorpusError` rather than being served under the old
    record's identity. Records are made one at a time (the corpus reader's parsed
    documents are not shared between threads).
    """

    __slots__ = ("_ctx", "_path", "_sha256")
    _lock = threading.Lock()

    def __init__(self, ctx: ExportContext, path: str, sha256: str) -> None:
        self._ctx = ctx
        self._path = path
        self._sha256 = sha256

    def __getitem__(self, prefix: str) -> bytes:
        if prefix not in ("oai_dc", "tei"):
            raise KeyError(prefix)
        entry = {"tei": {"path": self._path}}
        with self._lock:
            corpus = self._ctx.corpus
            try:
                data = corpus.tei_bytes(entry)
            except OSError as exc:
                raise CorpusError(Issue("fixity.unreadable", corpus.tei_path(entry).as_posix(),
                                        f"cannot be read: {exc.strerror}")) from None
            if hashlib.sha256(data).hexdigest() != self._sha256:
                raise CorpusError(Issue("fixity.changed", corpus.tei_path(entry).as_posix(),
                                        "changed since the data provider started; restart it"))
            if prefix == "oai_dc":
                return _metadata_bytes(dc_record(self._ctx, entry))
            return tei_header(self._ctx, entry)

    def __iter__(self) -> Iterator[str]:
        return iter(("oai_dc", "tei"))

    def __len__(self) -> int:
        return 2


def _tombstones(ctx: ExportContext, live: set[str]) -> list[tuple[str, Item]]:
    """Return the deleted items of the manifest's ``deleted`` list as (TEI file name, item).

    A document listed there and among the documents too is live (it came back); should an
    identifier be listed twice, its latest deletion counts.
    """
    info = ctx.corpus.info
    found: dict[str, tuple[str, Item]] = {}
    for tomb in ctx.corpus.manifest.get("deleted", []):
        name = str(tomb["tei_path"])
        stem = Path(name).stem
        identifier = f"oai:{info['id']}:{stem}"
        try:
            when = dt.datetime.strptime(str(tomb["deleted"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise CorpusError(Issue("manifest.deleted", name, f"its deletion time {tomb['deleted']!r} is not a "
                                    "UTC time YYYY-MM-DDThh:mm:ssZ")) from None
        if identifier in live or (identifier in found and found[identifier][1].datestamp >= when):
            continue
        found[identifier] = (name, Item(identifier, stem, when, (), {}, deleted=True))
    return list(found.values())


def repository(ctx: ExportContext) -> Repository:
    """Describe the corpus as OAI-PMH items: identifiers, sets, oai_dc and tei metadata, and the deleted items."""
    info = ctx.corpus.info
    email = _admin_email(ctx)
    built = dt.datetime.fromtimestamp(ctx.build.epoch, dt.UTC)
    named: list[tuple[str, Item]] = []
    type_names: dict[str, str] = {}
    for entry in ctx.corpus.documents:
        stem = document_stem(entry)
        if str(entry["type"]) not in type_names:  # a set is named after the first document of its type
            labels = type_labels(ctx.corpus.header(entry))
            type_names[str(entry["type"])] = labels[0] if labels else str(entry["type"])
        # the same few set specs for every item: one string each, not one per item
        sets = tuple(sorted({sys.intern(f"type:{entry['type']}"), sys.intern(f"lang:{entry['language']}")}))
        named.append((str(entry["tei"]["path"]), Item(
            f"oai:{info['id']}:{stem}", stem, built, sets,
            _Records(ctx, str(entry["tei"]["path"]), str(entry["tei"]["sha256"])))))
    tombstones = _tombstones(ctx, {item.identifier for _, item in named})
    # Live and deleted items in one order, by TEI file name, as the documents are listed.
    items = [item for _, item in sorted(named + tombstones, key=lambda pair: pair[0])]
    lang_names = {str(lang["code"]): str(lang["name"]) for lang in ctx.corpus.manifest["totals"]["languages"]}
    set_names: dict[str, str] = {}
    for item in items:
        for spec in item.sets:
            kind, _, code = spec.partition(":")
            if kind == "type":
                set_names["type"] = "Document types"
                set_names[spec] = type_names.get(code, code)
            else:
                set_names["lang"] = "Main languages"
                set_names[spec] = lang_names.get(code, code)
    state: list[Any] = [info["id"], ctx.build.epoch,
                        [(e["tei"]["path"], e["tei"]["sha256"]) for e in ctx.corpus.documents]]
    if "deleted" in ctx.corpus.manifest:
        # A token goes stale when a tombstone is added, dropped or changed, as when a document is.
        state.append(sorted(ctx.corpus.manifest["deleted"], key=lambda tomb: str(tomb["tei_path"])))
    fingerprint = hashlib.sha256(json.dumps(state, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return Repository(str(info["title"]), email, built, tuple(items), tuple(sorted(set_names.items())), fingerprint)


# ------------------------------------------------------------------ XML


def _parse(data: bytes) -> etree._Element:
    """Parse metadata bytes this module serialised (a fresh parser: no tree is shared between threads).

    Its xml:ids are not collected: libxml2 would intern each in the dictionary lxml shares
    between the documents of a thread, where they would stay.
    """
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, collect_ids=False))


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _indent(el: etree._Element, level: int = 0) -> None:
    """Indent the OAI-PMH envelope only: the metadata inside is carried byte for byte (mixed content)."""
    children = [c for c in el if isinstance(c.tag, str)]
    if not children or (el.text and el.text.strip()):
        return
    ns = etree.QName(el).namespace
    if ns not in (OAI_NS, STATIC_NS, OAI_DC_NS):
        return
    pad = "\n" + "  " * (level + 1)
    el.text = pad
    for child in children:
        child.tail = pad
        _indent(child, level + 1)
    children[-1].tail = "\n" + "  " * level


def _document(root: etree._Element) -> bytes:
    _indent(root)
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8") + b"\n"


def _header(parent: etree._Element, item: Item, datestamp: str, sets: bool) -> None:
    # §2.5.1: a deleted item's header says so, and names no set (a deleted item is in none).
    header = _sub(parent, _O + "header", status="deleted") if item.deleted else _sub(parent, _O + "header")
    _sub(header, _O + "identifier", item.identifier)
    _sub(header, _O + "datestamp", datestamp)
    if sets:
        for spec in item.sets:
            _sub(header, _O + "setSpec", spec)


def _record(parent: etree._Element, item: Item, prefix: str, datestamp: str, sets: bool) -> None:
    record = _sub(parent, _O + "record")
    _header(record, item, datestamp, sets)
    if not item.deleted:  # §2.5.1: the record of a deleted item has a header only
        _sub(record, _O + "metadata").append(_parse(item.metadata[prefix]))


def _identify(parent: etree._Element, repo: Repository, base_url: str, granularity: str, deleted: str,
              earliest: dt.datetime) -> None:
    # The children in the order of §4.2 (IdentifyType of OAI-PMH.xsd).
    _sub(parent, _O + "repositoryName", repo.name)
    _sub(parent, _O + "baseURL", base_url)
    _sub(parent, _O + "protocolVersion", "2.0")
    _sub(parent, _O + "adminEmail", repo.admin_email)
    _sub(parent, _O + "earliestDatestamp",
         _seconds(earliest) if granularity == GRANULARITY else earliest.strftime("%Y-%m-%d"))
    _sub(parent, _O + "deletedRecord", deleted)
    _sub(parent, _O + "granularity", granularity)


def _metadata_formats(parent: etree._Element) -> None:
    for fmt in METADATA_FORMATS:
        el = _sub(parent, _O + "metadataFormat")
        _sub(el, _O + "metadataPrefix", fmt.prefix)
        _sub(el, _O + "schema", fmt.schema)
        _sub(el, _O + "metadataNamespace", fmt.namespace)


# ------------------------------------------------------------------ static repository


def static_repository(ctx: ExportContext) -> bytes:
    """Return the OAI-PMH Static Repository of the corpus: Identify, ListMetadataFormats, ListRecords per format."""
    return b"".join(static_repository_chunks(ctx))


def _admin_email(ctx: ExportContext) -> str:
    email = str(ctx.corpus.info.get("contact", ""))
    if not _EMAIL.fullmatch(email):
        raise ConfigError(Issue("config.contact", "[corpus] contact", f"{email!r} is not an email address; "
                                "OAI-PMH needs one as the repository's adminEmail (§4.2): set it and ingest again"))
    return email


def _static_root() -> etree._Element:
    root = etree.Element(_S + "Repository", nsmap={None: STATIC_NS, "oai": OAI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{STATIC_NS} {STATIC_SCHEMA}")
    return root


#: Where a list of records goes in the static file's frame (a record with no content, indented as one).
_SLOT = b"\n    <oai:record/>\n  "


def static_repository_chunks(ctx: ExportContext) -> Iterator[bytes]:
    """Yield the bytes of the Static Repository, one record at a time.

    The frame (Identify, ListMetadataFormats, an empty ListRecords per format) is built
    as a tree with one empty record in each list, then cut there; each record is built
    and serialised in a frame of its own at the same depth, so the file is the one the
    whole tree would give, and a corpus of any size is never held in memory.
    """
    base_url = ctx.config.oai_base_url
    if not base_url:
        # The Static Repository specification (§3.2) makes baseURL the URL harvesters use:
        # the gateway's, which only the archive knows.
        raise ConfigError(Issue("config.oai_base_url", "[export] oai_base_url", "is not set; the static repository "
                                "names the base URL it is harvested at: set it in tei-ingest.toml"))
    built = dt.datetime.fromtimestamp(ctx.build.epoch, dt.UTC)
    info = ctx.corpus.info
    repo = Repository(str(info["title"]), _admin_email(ctx), built, (), (), "")
    root = _static_root()
    # Its restricted OAI-PMH schema has no deleted records: deletedRecord is no, the live documents only.
    _identify(_sub(root, _S + "Identify"), repo, base_url, STATIC_GRANULARITY, "no", repo.datestamp)
    _metadata_formats(_sub(root, _S + "ListMetadataFormats"))
    documents = ctx.corpus.documents
    for fmt in METADATA_FORMATS:
        # A static repository has no sets, no resumptionToken and days only (its restricted OAI-PMH schema).
        records = _sub(root, _S + "ListRecords", metadataPrefix=fmt.prefix)
        if documents:
            _sub(records, _O + "record")
    frame = _document(root)
    if not documents:
        yield frame
        return
    parts = frame.split(_SLOT)
    assert len(parts) == len(METADATA_FORMATS) + 1, "the frame of the static repository has one slot per format"
    day = built.strftime("%Y-%m-%d")
    yield parts[0]
    for fmt, after in zip(METADATA_FORMATS, parts[1:], strict=True):
        for entry in documents:
            metadata = _metadata_bytes(dc_record(ctx, entry)) if fmt.prefix == "oai_dc" else tei_header(ctx, entry)
            item = Item(f"oai:{info['id']}:{document_stem(entry)}", document_stem(entry), built, (),
                        {fmt.prefix: metadata})
            yield b"\n    " + _record_bytes(item, fmt.prefix, day)
        yield b"\n  " + after


def _record_bytes(item: Item, prefix: str, datestamp: str) -> bytes:
    """Return a record of the static file as it is written there, two levels deep."""
    root = _static_root()
    records = _sub(root, _S + "ListRecords")
    _record(records, item, prefix, datestamp, sets=False)
    _indent(root)
    data = etree.tostring(root, encoding="UTF-8")
    start = data.index(b"<oai:record>")
    end = data.rindex(b"</oai:record>") + len(b"</oai:record>")
    return data[start:end]


def write(ctx: ExportContext, out_dir: Path) -> list[Path]:
    """Write the OAI-PMH Static Repository ``out_dir/oai-pmh.xml``."""
    return [write_chunks(out_dir / "oai-pmh.xml", static_repository_chunks(ctx))]


# ------------------------------------------------------------------ protocol


class _Failure(Exception):
    """One or more OAI-PMH errors (§3.6) answering a request."""

    def __init__(self, *errors: tuple[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def echo(self) -> bool:
        """Return False when the request must be echoed without its arguments (§3.2: badVerb, badArgument)."""
        return not any(code in ("badVerb", "badArgument") for code, _ in self.errors)


#: Each verb's required and optional arguments (§4); the list verbs also take resumptionToken, exclusively.
_VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "Identify": (frozenset(), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListSets": (frozenset(), frozenset()),
}
_RESUMABLE = frozenset({"ListIdentifiers", "ListRecords", "ListSets"})
#: The order the request element lists the arguments in.
_ARG_ORDER = ("verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken")


def _check_arguments(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """Return the verb and its arguments, or raise badVerb / badArgument (§3.6)."""
    verbs = [value for key, value in pairs if key == "verb"]
    if not verbs:
        raise _Failure(("badVerb", "The verb argument is missing."))
    if len(verbs) > 1:
        raise _Failure(("badVerb", "The verb argument is repeated."))
    verb = verbs[0]
    if verb not in _VERBS:
        raise _Failure(("badVerb", f"{verb!r} is not an OAI-PMH verb."))
    args: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    required, optional = _VERBS[verb]
    allowed = required | optional | ({"resumptionToken"} if verb in _RESUMABLE else set())
    for key, value in pairs:
        if key == "verb":
            continue
        if key in args:
            problems.append(("badArgument", f"The argument {key} is repeated."))
        elif key not in allowed:
            problems.append(("badArgument", f"{key!r} is not an argument of {verb}."))
        elif not value:
            problems.append(("badArgument", f"The argument {key} is empty."))
        args[key] = value
    if "resumptionToken" in args and len(args) > 1:
        problems.append(("badArgument", "resumptionToken is an exclusive argument: give it alone with the verb."))
    elif "resumptionToken" not in args:
        problems += [("badArgument", f"{verb} requires the argument {key}.") for key in sorted(required - set(args))]
    if problems:
        raise _Failure(*dict.fromkeys(problems))
    return verb, args


def _parse_datestamp(value: str, until: bool) -> tuple[dt.datetime, str]:
    """Return a from/until bound and its granularity (§3.3.1); a day's until is the end of that day."""
    try:
        if _DAY.fullmatch(value):
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return (day + dt.timedelta(days=1, seconds=-1) if until else day), "day"
        if _SECOND.fullmatch(value):
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC), "second"
    except ValueError:
        pass
    raise _Failure(("badArgument", f"{value!r} is not a UTCdatetime: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ."))


@dataclass(frozen=True, slots=True)
class _Query:
    """A list request: what ListIdentifiers or ListRecords was asked for, and from where."""

    verb: str
    prefix: str
    set: str | None
    start: str | None
    until: str | None
    offset: int

    def token(self, fingerprint: str, offset: int) -> str:
        """Return the resumptionToken of the list from offset on (§3.5): the query, the offset, the corpus."""
        data = {"c": fingerprint, "f": self.start, "m": self.prefix, "o": offset, "s": self.set, "u": self.until,
                "v": self.verb}
        raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _read_token(token: str, verb: str, fingerprint: str) -> _Query:
    """Return the query a resumptionToken carries, or raise badResumptionToken."""
    bad = _Failure(("badResumptionToken", "The resumptionToken is invalid, or stale: it was not issued for "
                    f"this {verb} of this corpus. Start the list again."))
    if len(token) > _MAX_TOKEN:
        raise bad
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(data, dict) or set(data) != {"c", "f", "m", "o", "s", "u", "v"}:
        raise bad
    offset = data["o"]
    if data["c"] != fingerprint or data["v"] != verb or not isinstance(offset, int) or isinstance(offset, bool) \
            or offset < 1 or not isinstance(data["m"], str) \
            or not all(data[k] is None or isinstance(data[k], str) for k in ("f", "s", "u")):
        raise bad
    return _Query(verb, data["m"], data["s"], data["f"], data["u"], offset)


class Provider:
    """The OAI-PMH 2.0 protocol over a repository: arguments in, response bytes out (no HTTP)."""

    def __init__(self, repo: Repository, base_url: str, page_size: int = 100) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.repo = repo
        self.base_url = base_url
        self.page_size = page_size
        self._by_id = {item.identifier: item for item in repo.items}
        self._prefixes = {fmt.prefix for fmt in METADATA_FORMATS}

    def respond(self, pairs: Sequence[tuple[str, str]]) -> bytes:
        """Return the response document to a request given as its (argument, value) pairs, in order."""
        root = etree.Element(_O + "OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        _sub(root, _O + "responseDate", self.repo.response_date)
        request = _sub(root, _O + "request", self.base_url)
        try:
            verb, args = _check_arguments(pairs)
            body = etree.Element(_O + verb)
            self._answer(verb, args, body)
        except _Failure as failure:
            if failure.echo:
                self._echo(request, pairs)
            for code, message in failure.errors:
                _sub(root, _O + "error", message, code=code)
        else:
            self._echo(request, pairs)
            root.append(body)
        return _document(root)

    @staticmethod
    def _echo(request: etree._Element, pairs: Sequence[tuple[str, str]]) -> None:
        given = dict(pairs)
        for key in _ARG_ORDER:
            if key in given:
                request.set(key, given[key])

    def _answer(self, verb: str, args: dict[str, str], body: etree._Element) -> None:
        if verb == "Identify":
            _identify(body, self.repo, self.base_url, GRANULARITY, "persistent", self.repo.earliest)
        elif verb == "ListMetadataFormats":
            if "identifier" in args:
                self._item(args["identifier"])
            # Every item has both formats (a deleted one, its deleted records in both), so noMetadataFormats
            # never arises.
            _metadata_formats(body)
        elif verb == "ListSets":
            if "resumptionToken" in args:
                raise _Failure(("badResumptionToken", "The list of sets is never split: no resumptionToken is valid."))
            if not self.repo.sets:
                raise _Failure(("noSetHierarchy", "The repository has no documents, hence no sets."))
            for spec, name in self.repo.sets:
                el = _sub(body, _O + "set")
                _sub(el, _O + "setSpec", spec)
                _sub(el, _O + "setName", name)
        elif verb == "GetRecord":
            errors: list[tuple[str, str]] = []
            if args["metadataPrefix"] not in self._prefixes:
                errors.append(self._cannot(args["metadataPrefix"]))
            item = self._by_id.get(args["identifier"])
            if item is None:
                errors.append(self._unknown(args["identifier"]))
            if errors or item is None:
                raise _Failure(*errors)
            _record(body, item, args["metadataPrefix"], _seconds(item.datestamp), sets=True)
        else:
            self._list(verb, args, body)

    @staticmethod
    def _cannot(prefix: str) -> tuple[str, str]:
        return "cannotDisseminateFormat", f"{prefix!r} is not a metadata format of this repository (oai_dc, tei)."

    @staticmethod
    def _unknown(identifier: str) -> tuple[str, str]:
        return "idDoesNotExist", f"{identifier!r} is not an identifier of this repository."

    def _item(self, identifier: str) -> Item:
        item = self._by_id.get(identifier)
        if item is None:
            raise _Failure(self._unknown(identifier))
        return item

    def _list(self, verb: str, args: dict[str, str], body: etree._Element) -> None:
        """Answer ListIdentifiers or ListRecords: select, then one page of at most page_size (§3.5)."""
        if "resumptionToken" in args:
            query = _read_token(args["resumptionToken"], verb, self.repo.fingerprint)
            try:
                selected = self._select(query)
            except _Failure:
                selected = []
            # Every token issued names a list that is not empty: anything else was made up.
            if query.offset >= len(selected):
                raise _Failure(("badResumptionToken", "The resumptionToken does not name a part of a list."))
        else:
            query = _Query(verb, args["metadataPrefix"], args.get("set"), args.get("from"), args.get("until"), 0)
            selected = self._select(query)
        page = selected[query.offset:query.offset + self.page_size]
        for item in page:
            if verb == "ListRecords":
                _record(body, item, query.prefix, _seconds(item.datestamp), sets=True)
            else:
                _header(body, item, _seconds(item.datestamp), sets=True)
        if len(selected) > self.page_size:
            following = query.offset + len(page)
            token = query.token(self.repo.fingerprint, following) if following < len(selected) else None
            # The last part of a split list carries an empty token (§3.5).
            _sub(body, _O + "resumptionToken", token, completeListSize=str(len(selected)), cursor=str(query.offset))

    @staticmethod
    def _bounds(query: _Query) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Return the from and until bounds, or raise badArgument (§3.3.1, §2.7.1)."""
        problems: list[tuple[str, str]] = []
        start: tuple[dt.datetime, str] | None = None
        until: tuple[dt.datetime, str] | None = None
        try:
            start = _parse_datestamp(query.start, until=False) if query.start is not None else None
        except _Failure as failure:
            problems += failure.errors
        try:
            until = _parse_datestamp(query.until, until=True) if query.until is not None else None
        except _Failure as failure:
            problems += failure.errors
        if start is not None and until is not None:
            if start[1] != until[1]:
                problems.append(("badArgument", "from and until must have the same granularity."))
            elif start[0] > until[0]:
                problems.append(("badArgument", "from is later than until."))
        if problems:
            raise _Failure(*problems)
        return (start[0] if start else None), (until[0] if until else None)

    def _select(self, query: _Query) -> list[Item]:
        start, until = self._bounds(query)
        if query.prefix not in self._prefixes:
            raise _Failure(self._cannot(query.prefix))
        if query.set is not None and not self.repo.sets:
            raise _Failure(("noSetHierarchy", "The repository has no documents, hence no sets."))
        # Each item on its own datestamp; a deleted item is in no set.
        selected = [item for item in self.repo.items
                    if (start is None or item.datestamp >= start) and (until is None or item.datestamp <= until)
                    and (query.set is None or any(s == query.set or s.startswith(query.set + ":") for s in item.sets))]
        if not selected:
            raise _Failure(("noRecordsMatch", "No record matches the arguments."))
        return selected


# ------------------------------------------------------------------ HTTP


class OAIServer(ThreadingHTTPServer):
    """An HTTP server answering OAI-PMH requests at ``/oai`` from a :class:`Provider`."""

    daemon_threads = True
    provider: Provider
    url: str
    verbose: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: OAIServer
    server_version = "tei-ingest-oai"

    def do_GET(self) -> None:
        """Answer an OAI-PMH request given in the query string (§3.1.1.1)."""
        parts = urlsplit(self.path)
        if parts.path != OAI_PATH:
            self._plain(HTTPStatus.NOT_FOUND, f"Not found: the OAI-PMH base URL is {self.server.url}\n")
            return
        self._answer(parts.query)

    def do_POST(self) -> None:
        """Answer an OAI-PMH request given as a form in the body (§3.1.1.2)."""
        if urlsplit(self.path).path != OAI_PATH:
            self._plain(HTTPStatus.NOT_FOUND, f"Not found: the OAI-PMH base URL is {self.server.url}\n")
            return
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            self._plain(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "POST requests are application/x-www-form-urlencoded\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._plain(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required\n")
            return
        if length < 0 or length > _MAX_BODY:
            self._plain(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The request is too large\n")
            return
        self._answer(self.rfile.read(length).decode("utf-8", errors="replace"))

    def _answer(self, query: str) -> None:
        # The length of a request is bounded by http.server (request line) and _MAX_BODY.
        try:
            body = self.server.provider.respond(parse_qsl(query, keep_blank_values=True))
        except CorpusError as exc:  # a TEI file changed or went away since the corpus was opened
            self._plain(HTTPStatus.SERVICE_UNAVAILABLE, "".join(f"{issue}\n" for issue in exc.issues))
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _plain(self, status: HTTPStatus, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Log a request to stderr when the server is verbose."""
        if self.server.verbose:
            super().log_message(format, *args)


def make_server(ctx: ExportContext, host: str = "127.0.0.1", port: int = 0, page_size: int = 100) -> OAIServer:
    """Return an OAI-PMH data provider bound to host:port (0: any free port), not yet serving."""
    repo = repository(ctx)
    try:
        server = OAIServer((host, port), _Handler)
    except OSError as exc:
        raise ConfigError(Issue("serve.bind", f"{host}:{port}", f"cannot listen there ({exc.strerror or exc})")) \
            from None
    bound_host, bound_port = server.server_address[:2]
    name = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
    shown = f"[{name}]" if ":" in name else name
    server.url = f"http://{shown}:{bound_port}{OAI_PATH}"
    # baseURL (§4.2) is the public one when the archive has set it, else the address served.
    server.provider = Provider(repo, ctx.config.oai_base_url or server.url, page_size)
    return server


def serve(ctx: ExportContext, host: str = "127.0.0.1", port: int = 8000, *, page_size: int = 100,
          ready: Callable[[OAIServer], None] | None = None) -> None:
    """Run the OAI-PMH data provider until interrupted (Ctrl-C) or shut down by ``ready``'s caller."""
    server = make_server(ctx, host, port, page_size)
    server.verbose = True
    print(f"OAI-PMH data provider at {server.url} (Ctrl-C to stop)", flush=True)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("OAI-PMH data provider stopped", file=sys.stderr)
    finally:
        server.server_close()
