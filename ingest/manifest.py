"""The corpus manifest (``manifest.json``): what was written, its fixity, and what was not.

The manifest is written last, atomically, with sorted keys and a trailing newline, so
that two runs on the same sources give the same bytes. While a run writes, the pipeline
also writes checkpoints of it (``pipeline._Checkpoints``) with a journal of the files being
written (``pending``), so that an interrupted run leaves a manifest that describes exactly
what is there. It is checked by
``schemas/manifest.schema.json`` (JSON Schema 2020-12).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import BuildInfo, CorpusConfig
from .encode import language_name
from .model import DateValue, Party

if TYPE_CHECKING:
    from .pipeline import Accepted, Rejected, RunResult

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


def build_manifest(result: RunResult, config: CorpusConfig, build: BuildInfo, out_dir: Path) -> dict[str, Any]:
    """Return the manifest of a run as a JSON-ready dict."""
    documents = [w.entry for w in sorted(result.accepted, key=lambda w: w.tei_name)]
    rejected = [rejected_entry(r) for r in sorted(result.rejected, key=lambda r: r.display)]
    return assemble(documents, rejected, config, build, result.schemas, deleted=result.deleted)


def assemble(documents: list[dict[str, Any]], rejected: list[dict[str, Any]], config: CorpusConfig,
             build: BuildInfo, schemas: dict[str, dict[str, str]],
             pending: list[dict[str, Any]] | None = None,
             deleted: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return a manifest from document and rejection entries (sorted by the caller).

    ``pending`` is only for the checkpoints of a run that is still writing: the files being
    replaced or removed, each with the entry of its new state and of its old one.
    ``deleted`` lists the documents earlier runs wrote that are no longer in the corpus.
    """
    languages: Counter[str] = Counter(d["language"] for d in documents)
    types: Counter[str] = Counter(d["type"] for d in documents)
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
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "corpus": corpus,
        "totals": {
            "sources": len(documents) + len(rejected),
            "accepted": len(documents),
            "rejected": len(rejected),
            "bytes": sum(d["tei"]["bytes"] for d in documents),
            "languages": [{"code": c, "name": language_name(c), "documents": n}
                          for c, n in sorted(languages.items())],
            "types": dict(sorted(types.items())),
        },
        "documents": documents,
        "rejected": rejected,
    }
    if deleted:
        manifest["deleted"] = sorted(deleted, key=lambda d: str(d["tei_path"]))
    if pending:
        manifest["pending"] = pending
    return manifest


def manifest_bytes(manifest: dict[str, Any], *, compact: bool = False) -> bytes:
    """Return the canonical bytes of a manifest (``compact``: on one line, for the checkpoints of a run).

    Python's JSON encoder is C code only without indentation, so the checkpoints a run
    writes while it works are compact; the manifest a finished run leaves is indented.
    """
    if compact:
        text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def manifest_schema_path() -> Path:
    """Return the path of the manifest JSON Schema shipped with the project."""
    from .validate import schema_dir

    return schema_dir() / "manifest.schema.json"


def check_manifest(manifest: Any) -> list[str]:
    """Return the JSON Schema violations of a manifest (empty when it is valid)."""
    from jsonschema import Draft202012Validator

    schema = json.loads(manifest_schema_path().read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]
