"""The RO-Crate 1.1 description of a bagged corpus: ``data/ro-crate-metadata.json``.

RO-Crate 1.1, Appendix "Implementation notes", §"Adding RO-Crate to BagIt", places the
crate in the payload of a BagIt bag: the bag's ``data/`` is the crate root, so every
``@id`` below is relative to ``data/``. The crate describes what the manifest and the
TEI headers say, nothing more: a date is carried only where the TEI gives an ISO 8601
one, and what schema.org has no place for (the certainty of an inferred date or
language) stays in the TEI files and the manifest, which are in the crate. Fixity is
the bag's (its sha512 and sha256 manifests): ``sha256`` is not a term of the RO-Crate
1.1 context.

Entities (RO-Crate 1.1 §"Root Data Entity", §"Data Entities", §"Provenance"):
the metadata descriptor, the root ``Dataset``, one ``File`` per TEI file and one for
``manifest.json``, the licence, the publisher, the PRONOM format records, and the
``CreateAction`` by which tei-ingest wrote the TEI files. The descriptor and the root
come first, the others sorted by ``@id``; keys are sorted, so the same corpus and build
date always give the same bytes.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..corpus import NS
from ..manifest import MANIFEST_NAME

if TYPE_CHECKING:
    from lxml import etree

    from . import ExportContext

#: The specification the crate conforms to, and its JSON-LD context (RO-Crate 1.1 §"RO-Crate JSON-LD").
CRATE_SPEC = "https://w3id.org/ro/crate/1.1"
CRATE_CONTEXT = f"{CRATE_SPEC}/context"
METADATA_NAME = "ro-crate-metadata.json"
#: PRONOM records of the formats (RO-Crate 1.1 §"Adding detailed descriptions of encodings").
PRONOM = "https://www.nationalarchives.gov.uk/PRONOM/"
PRONOM_NAMES = {"fmt/1476": "TEI P5 - Single Text File"}
SOFTWARE_ID = "#tei-ingest"
# An ISO 8601 calendar date, full or reduced (year, year-month): what schema.org Date takes.
_ISO_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def is_email(value: str) -> bool:
    """Return True when a contact is a plain e-mail address."""
    return _EMAIL.fullmatch(value.strip()) is not None


def _ref(entity_id: str) -> dict[str, str]:
    return {"@id": entity_id}


def _text(el: etree._Element | None) -> str:
    return " ".join("".join(str(t) for t in el.itertext()).split()) if el is not None else ""


def _one_or_many(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _document_date(header: etree._Element) -> str | None:
    """Return the document's date as the TEI gives it (@when), only when it is an ISO calendar date."""
    # The date of a letter is the date of its sending (TEI Guidelines §2.4.6 correspDesc);
    # other documents carry theirs in creation (§2.4.1).
    for path in (
        "tei:profileDesc/tei:correspDesc/tei:correspAction[@type='sent']/tei:date",
        "tei:profileDesc/tei:creation/tei:date",
    ):
        el = header.find(path, NS)
        if el is not None:
            when = el.get("when", "")
            return when if _ISO_DATE.fullmatch(when) else None
    return None


def _tei_file(ctx: ExportContext, entry: dict[str, Any]) -> dict[str, Any]:
    """Return the File entity of one TEI document, from its manifest entry and its header."""
    header = ctx.corpus.header(entry)
    tei = entry["tei"]
    title = _text(header.find("tei:fileDesc/tei:titleStmt/tei:title[@type='main']", NS)) or entry["title"]
    languages = [
        code
        for el in header.iterfind("tei:profileDesc/tei:langUsage/tei:language", NS)
        if (code := el.get("ident", ""))
    ]
    idnos = [text for el in header.iterfind("tei:fileDesc/tei:publicationStmt/tei:idno", NS) if (text := _text(el))]
    encodings: list[Any] = [tei["media_type"]]
    if tei.get("puid"):
        encodings.append(_ref(PRONOM + tei["puid"]))
    out: dict[str, Any] = {
        "@id": tei["path"],
        "@type": "File",
        "name": title,
        "contentSize": str(tei["bytes"]),
        "encodingFormat": encodings,
    }
    if languages:
        out["inLanguage"] = _one_or_many(languages)
    if idnos:
        out["identifier"] = _one_or_many(idnos)
    when = _document_date(header)
    if when:
        out["dateCreated"] = when
    return out


def _publisher(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the publisher as an Organization, with its contact point when there is one."""
    org: dict[str, Any] = {"@id": "#publisher", "@type": "Organization", "name": info["publisher"]}
    contact = info["contact"].strip()
    if not contact:
        return [org]
    if is_email(contact):
        point = {"@id": f"mailto:{contact}", "@type": "ContactPoint", "email": contact}
    else:
        point = {"@id": "#contact", "@type": "ContactPoint", "description": contact}
    org["contactPoint"] = _ref(point["@id"])
    return [org, point]


class Stream:
    """A JSON array of the crate written from an iterable made afresh at each pass, never held as a list."""

    def __init__(self, make: Callable[[], Iterable[Any]]) -> None:
        self._make = make

    def __iter__(self) -> Iterator[Any]:
        return iter(self._make())


def build_crate(ctx: ExportContext, manifest_size: int) -> dict[str, Any]:
    """Return the RO-Crate 1.1 metadata of the corpus as a JSON-LD document.

    The lists with one item per document (the graph's File entities, ``hasPart``, the
    CreateAction's ``result``) are :class:`Stream` objects: :func:`crate_chunks` writes
    them an entity at a time, reading each document's header when its entity is written.
    """
    info = ctx.corpus.info
    documents = ctx.corpus.documents

    def paths() -> Iterator[str]:
        return (str(entry["tei"]["path"]) for entry in documents)

    licence = info["licence"]
    # RO-Crate 1.1 §"Licensing, Access control and Copyright": license SHOULD be a URL with
    # a contextual entity; without one, a local entity carries the licence's words.
    licence_id = licence["url"] or "#licence"
    identifiers = [info["id"], *([info["identifier_base"]] if info["identifier_base"] else [])]
    manifest_file = {
        "@id": MANIFEST_NAME,
        "@type": "File",
        "name": "Manifest of the corpus",
        "description": "What tei-ingest wrote (each TEI file with its size, sha256 and sha512 and the metadata "
        "read from it), what it refused and why.",
        "contentSize": str(manifest_size),
        "encodingFormat": "application/json",
    }
    root: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": info["title"],
        # RO-Crate 1.1 requires a description; without one the corpus is described by what it holds.
        "description": info["description"] or f"{len(documents)} documents encoded in TEI P5 by tei-ingest.",
        "datePublished": ctx.build.date,
        "identifier": _one_or_many(identifiers),
        "license": _ref(licence_id),
        "publisher": _ref("#publisher"),
        "hasPart": Stream(lambda: (_ref(p) for p in heapq.merge(paths(), [MANIFEST_NAME]))),
    }
    languages = [lang["code"] for lang in ctx.corpus.manifest["totals"]["languages"]]
    if languages:
        root["inLanguage"] = _one_or_many(languages)
    descriptor = {
        "@id": METADATA_NAME,
        "@type": "CreativeWork",
        "about": _ref("./"),
        "conformsTo": _ref(CRATE_SPEC),
    }
    software = info["software"]
    others: list[dict[str, Any]] = [
        manifest_file,
        {"@id": licence_id, "@type": "CreativeWork", "name": licence["name"]},
        *_publisher(info),
        {"@id": SOFTWARE_ID, "@type": "SoftwareApplication", "name": software["name"], "version": software["version"]},
        # RO-Crate 1.1 §"Software used to create files": the run that wrote the TEI files.
        {
            "@id": "#ingest",
            "@type": "CreateAction",
            "name": "Encoding of the plain-text sources in TEI P5",
            "endTime": info["build_date"],
            "instrument": _ref(SOFTWARE_ID),
            "result": Stream(lambda: (_ref(p) for p in paths())),
        },
    ]
    puids = sorted({entry["tei"]["puid"] for entry in documents if entry["tei"].get("puid")})
    others += [
        {"@id": PRONOM + puid, "@type": "WebSite", "name": PRONOM_NAMES.get(puid, f"PRONOM {puid}")} for puid in puids
    ]
    others.sort(key=_entity_id)

    def graph() -> Iterator[dict[str, Any]]:
        # The documents come sorted by file name: merged with the other entities, every
        # entity after the first two is in the order of its @id.
        yield descriptor
        yield root
        yield from heapq.merge((_tei_file(ctx, entry) for entry in documents), others, key=_entity_id)

    return {"@context": CRATE_CONTEXT, "@graph": Stream(graph)}


def _entity_id(entity: dict[str, Any]) -> str:
    return str(entity["@id"])


def crate_chunks(crate: dict[str, Any]) -> Iterator[bytes]:
    """Yield the crate as UTF-8 JSON, as ``json.dumps(indent=2, sort_keys=True)`` writes it, and a final newline."""
    pending: list[str] = []
    size = 0
    for piece in _json(crate, 0):
        pending.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    pending.append("\n")
    yield "".join(pending).encode("utf-8")


def _json(value: Any, level: int) -> Iterator[str]:
    if isinstance(value, dict):
        if not value:
            yield "{}"
            return
        for k, key in enumerate(sorted(value)):
            yield ("{\n" if k == 0 else ",\n") + "  " * (level + 1) + json.dumps(key, ensure_ascii=False) + ": "
            yield from _json(value[key], level + 1)
        yield "\n" + "  " * level + "}"
    elif isinstance(value, (list, tuple, Stream)):
        empty = True
        for item in value:
            yield ("[\n" if empty else ",\n") + "  " * (level + 1)
            empty = False
            yield from _json(item, level + 1)
        yield "[]" if empty else "\n" + "  " * level + "]"
    else:
        yield json.dumps(value, ensure_ascii=False)
