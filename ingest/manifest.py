"""The corpus manifest (``manifest.json``): what was written, its fixity, and what was not.

The manifest is written last, atomically, with sorted keys and a trailing newline, so
that two runs on the same sources give the same bytes. While a run writes, the pipeline
also writes checkpoints of it (``pipeline._run_locked``) with a journal of the files being
written (``pending``), so that an interrupted run leaves a manifest that describes exactly
what is there. Its documents are never held as one object: they come from the run's
ledger (``ingest.ledger``) as JSON texts, and ``manifest_chunks`` streams the manifest
around them. It is checked by ``schemas/manifest.schema.json`` (JSON Schema 2020-12).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import BuildInfo, CorpusConfig
from .encode import language_name
from .model import DateValue, Party

if TYPE_CHECKING:
    from .ledger import Totals
    from .pipeline import Accepted, Rejected

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = "1.0"
TEI_MEDIA_TYPE = "application/tei+xml"
TEI_PUID = "fmt/1476"
DIGESTS = ("sha256", "sha512")


def _date(d: DateValue | None) -> dict[str, Any] | None:
    """Return a date as a manifest object (ISO values, the text, the certainty)."""
    if d is None:
        return None
    out: dict[str, Any] = {"cert": d.cert.value, "text": " ".join(d.text.split())}
    for key, value in (("when", d.when), ("from", d.from_), ("to", d.to),
                       ("notBefore", d.not_before), ("notAfter", d.not_after)):
        if value:
            out[key] = value
    return out


def _party(p: Party) -> dict[str, Any]:
    """Return a correspondent or author as a manifest object."""
    out: dict[str, Any] = {"kind": p.kind.value, "label": " ".join(p.label.split()), "cert": p.cert.value}
    if p.name:
        out["name"] = p.name
    role = next((a.role for a in p.affiliations if a.role), None)
    if role:
        out["role"] = " ".join(role.split())
    if p.org:
        out["org"] = " ".join(p.org.split())
    return out


def document_entry(a: Accepted) -> dict[str, Any]:
    """Return the manifest entry of one written document."""
    r = a.record
    x = r.extraction
    return {
        "id": r.id,
        "title": r.title,
        "type": x.doc_type.value,
        "date": _date(x.date),
        "place": x.place.name if x.place else None,
        "language": x.language,
        "languages": [{"code": s.code, "percent": s.percent} for s in x.languages],
        "senders": [_party(p) for p in x.senders],
        "addressees": [_party(p) for p in x.addressees],
        "authors": [_party(p) for p in x.authors],
        "source": {
            "path": r.source.path,
            "bytes": r.source.size,
            "sha256": r.source.sha256,
            "encoding": r.source.encoding,
            "media_type": r.source.media_type,
        },
        "tei": {
            "path": a.tei_name,
            "bytes": len(a.data),
            "sha256": hashlib.sha256(a.data).hexdigest(),
            "sha512": hashlib.sha512(a.data).hexdigest(),
            "media_type": TEI_MEDIA_TYPE,
            "puid": TEI_PUID,
        },
        "validation": {v.schema: v.status for v in a.verdicts},
    }


def rejected_entry(r: Rejected) -> dict[str, Any]:
    """Return the manifest entry of one rejected source."""
    return {
        "source": {"path": r.display, **({"bytes": r.source.size, "sha256": r.source.sha256} if r.source else {})},
        "errors": [{"code": i.code, "message": i.message} for i in r.issues],
    }


def totals(documents: Totals, rejected: int) -> dict[str, Any]:
    """Return the manifest's ``totals`` of documents and rejected sources."""
    return {
        "sources": documents.documents + rejected,
        "accepted": documents.documents,
        "rejected": rejected,
        "bytes": documents.bytes,
        "languages": [{"code": c, "name": language_name(c), "documents": n}
                      for c, n in sorted(documents.languages.items())],
        "types": dict(sorted(documents.types.items())),
    }


def manifest_head(rejected: list[dict[str, Any]], config: CorpusConfig, build: BuildInfo,
                  schemas: dict[str, dict[str, str]], totals: dict[str, Any],
                  deleted: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return everything of a manifest but its documents (and journal), which are streamed in.

    ``rejected`` is sorted by the caller; ``deleted`` lists the documents earlier runs
    wrote that are no longer in the corpus.
    """
    corpus: dict[str, Any] = {
        "id": config.id,
        "title": config.title,
        "description": config.description,
        "publisher": config.publisher,
        "contact": config.contact,
        "licence": {"name": config.licence, "url": config.licence_url},
        "identifier_base": config.identifier_base,
        "build_date": build.timestamp,
        "software": {"name": "tei-ingest", "version": build.version},
        "digest_algorithms": list(DIGESTS),
        "schemas": schemas,
    }
    head: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "corpus": corpus,
        "totals": totals,
        "rejected": rejected,
    }
    if deleted:
        head["deleted"] = sorted(deleted, key=lambda d: str(d["tei_path"]))
    return head


#: Bytes gathered before a piece of a streamed manifest is handed on.
CHUNK_BYTES = 1 << 16


def manifest_chunks(head: dict[str, Any], documents: Iterable[str], pending: Iterable[str] | None = None,
                    *, compact: bool = False) -> Iterator[bytes]:
    """Yield the canonical bytes of a manifest whose documents (and journal) come as JSON texts.

    ``documents`` and ``pending`` are already encoded: compact for a checkpoint
    (``compact``, on one line), or indented as items of the list for the finished manifest
    (``ledger.pretty_json``). The bytes are those ``json.dumps`` gives for the whole
    manifest with sorted keys: compact, or indented by two with a trailing newline. The
    checkpoints a run writes while it works are compact, because Python's JSON encoder is
    C code only without indentation; a journal (``pending``) is only in checkpoints.
    """
    token = uuid.uuid4().hex
    lists: dict[str, Iterable[str]] = {"documents": documents}
    if pending is not None:
        lists["pending"] = pending
    skeleton = {**head, **{key: f"{token}{key}" for key in lists}}
    if compact:
        text = json.dumps(skeleton, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text = json.dumps(skeleton, ensure_ascii=False, indent=2, sort_keys=True)
    text += "\n"
    parts = re.split(f'"{token}(documents|pending)"', text)
    buffer: list[str] = [parts[0]]
    size = len(parts[0])
    for key, after in zip(parts[1::2], parts[2::2], strict=True):
        first = True
        for item in lists[key]:
            if first:
                buffer.append("[" if compact else "[\n")
                first = False
            else:
                buffer.append("," if compact else ",\n")
            buffer.append(item)
            size += len(item)
            if size >= CHUNK_BYTES:
                yield "".join(buffer).encode("utf-8")
                buffer, size = [], 0
        buffer.append("[]" if first else ("]" if compact else "\n  ]"))
        buffer.append(after)
        size += len(after)
    yield "".join(buffer).encode("utf-8")


def manifest_schema_path() -> Path:
    """Return the path of the manifest JSON Schema shipped with the project."""
    from .validate import schema_dir

    return schema_dir() / "manifest.schema.json"


@functools.cache
def _manifest_schema() -> dict[str, Any]:
    return json.loads(manifest_schema_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _schema_of(part: str) -> dict[str, Any]:
    """Return the schema of the whole manifest (``part`` ""), or of one of its ``$defs``."""
    schema = _manifest_schema()
    if not part:
        return schema
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{part}"}


@functools.cache
def _fast_validator(part: str = "") -> Any:
    """Return jsonschema-rs's validator of the manifest schema, or None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(_schema_of(part))


def check_manifest(manifest: Any) -> list[str]:
    """Return the JSON Schema violations of a manifest (empty when it is valid).

    jsonschema-rs gives the verdict: it checks 100,000 entries in about a second, where
    jsonschema takes about a millisecond an entry. A manifest it finds invalid is checked
    again by jsonschema, whose messages are the ones reported (jsonschema-rs's, should
    jsonschema find nothing: Python's ``$`` also matches before a final line break, so
    jsonschema-rs is the stricter of the two on patterns). Without jsonschema-rs,
    jsonschema alone decides.
    """
    return _problems(manifest, "", "")


def check_document_entry(entry: Any, where: str) -> list[str]:
    """Return the violations of one entry of the manifest's ``documents`` (``where``: its path there).

    The schema checks each entry on its own (``items``), so the entries of a manifest read
    one at a time get the verdict the whole manifest would.
    """
    return _problems(entry, "document", where)


def _problems(instance: Any, part: str, where: str) -> list[str]:
    fast = _fast_validator(part)
    if fast is not None:
        if fast.is_valid(instance):
            return []
        slow = _slow_problems(instance, part, where)
        return slow or [_located(where, e.instance_path, e.message) for e in fast.iter_errors(instance)]
    return _slow_problems(instance, part, where)


def _located(where: str, path: Any, message: str) -> str:
    inner = "/".join(str(p) for p in path)
    return f"{'/'.join(p for p in (where, inner) if p) or '(root)'}: {message}"


def _slow_problems(instance: Any, part: str = "", where: str = "") -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_schema_of(part), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        _located(where, e.absolute_path, e.message)
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]

