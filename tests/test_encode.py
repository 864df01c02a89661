"""Golden files per seed: the TEI document and the extracted metadata.

Each golden file was read by eye before it was committed; it is a claim that the output
is right. Regenerate with `make regen` and read the diff.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ingest.config import BuildInfo, CorpusConfig
from ingest.encode import document_id, encode
from ingest.model import Party
from ingest.pipeline import make_record
from ingest.serialize import to_bytes
from ingest.sources import read_source
from ingest.validate import ProjectSchema

from .conftest import ROOT, seed_params

SCHEMAS = (
    ("../schemas/tei-ingest.rng", "http://relaxng.org/ns/structure/1.0"),
    ("../schemas/tei-ingest.sch", "http://purl.oclc.org/dsdl/schematron"),
)


def _encode(seed: Path, config: CorpusConfig, build: BuildInfo) -> bytes:
    record = make_record(read_source(seed, f"seeds/{seed.name}"))
    return to_bytes(encode(record, config, build, SCHEMAS))


def _party(p: Party) -> dict[str, Any]:
    return {
        "kind": p.kind.value,
        "name": p.name,
        "honorific": p.honorific,
        "affiliations": [{"text": " ".join(a.text.split()), "role": a.role, "org": a.org} for a in p.affiliations],
        "signed": p.signed,
        "cert": p.cert.value,
    }


def metadata(source: Path, name: str) -> dict[str, Any]:
    """Return the extracted metadata of a source as plain data, for a golden file."""
    x = make_record(read_source(source, name)).extraction
    date = dataclasses.asdict(x.date) if x.date else None
    if date:
        date.pop("span")
        date["cert"] = x.date.cert.value if x.date else None
    return {
        "type": x.doc_type.value,
        "type_cert": x.doc_type_cert.value,
        "language": x.language,
        "languages": {s.code: s.percent for s in x.languages},
        "date": date,
        "place": x.place.name if x.place else None,
        "senders": [_party(p) for p in x.senders],
        "addressees": [_party(p) for p in x.addressees],
        "authors": [_party(p) for p in x.authors],
        "subject": x.subject,
        "headline": x.headline,
        "dates_in_text": [[d.text, d.iso, d.cert.value] for d in x.dates],
    }


@pytest.mark.parametrize("seed", seed_params())
def test_tei_golden(seed: Path, config: CorpusConfig, build: BuildInfo, file_regression: Any) -> None:
    data = _encode(seed, config, build)
    file_regression.check(data.decode("utf-8"), extension=".xml", encoding="utf-8")


@pytest.mark.parametrize("seed", seed_params())
def test_metadata_golden(seed: Path, data_regression: Any) -> None:
    data_regression.check(metadata(seed, f"seeds/{seed.name}"))


@pytest.mark.parametrize("seed", seed_params())
def test_seed_is_valid_against_the_project_schema(seed: Path, config: CorpusConfig, build: BuildInfo) -> None:
    doc = etree.ElementTree(etree.fromstring(_encode(seed, config, build)))
    verdict = ProjectSchema().check(doc, seed.name)
    assert verdict.valid, "\n".join(str(i) for i in verdict.issues)


@pytest.mark.parametrize("seed", seed_params())
def test_source_text_is_kept_word_for_word(seed: Path, config: CorpusConfig, build: BuildInfo) -> None:
    """Every word of the source is in the TEI text, in order: the evidence is never corrected."""
    source = read_source(seed, seed.name).text
    root = etree.fromstring(_encode(seed, config, build))
    text = root.find("{http://www.tei-c.org/ns/1.0}text")
    assert text is not None
    for lb in text.iter("{http://www.tei-c.org/ns/1.0}lb"):
        lb.tail = " " + (lb.tail or "")
    assert re.findall(r"\w+", "".join(text.itertext())) == re.findall(r"\w+", source)


def test_document_ids_are_ncnames_and_distinct() -> None:
    ids = {document_id(s) for s in ("000_a", "a b", "a_b", "été", "../../x", "-dash", "")}
    assert len(ids) == 7
    ncname = re.compile(r"^[A-Za-z_][\w.-]*$")
    assert all(ncname.match(i) for i in ids)
    assert document_id("000_22c6ae8344106c7e") == "doc-000_22c6ae8344106c7e"
    assert ROOT.is_dir()
