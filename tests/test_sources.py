"""Reading sources: encodings detected and recorded, damage refused, text normalised."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import SourceError
from ingest.sources import decode_bytes, normalise_text, read_source

TEXT = "Bamako, le 26 novembre 2021 — Objet : réunion « préparatoire » ; coût 5 €.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(TEXT.encode("utf-8"), "UTF-8", id="utf8"),
        pytest.param(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8", id="utf8-bom"),
        pytest.param(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16LE", id="utf16-bom"),
        pytest.param(TEXT.encode("utf-16-le"), "UTF-16-LE", id="utf16le-no-bom"),
        pytest.param(TEXT.encode("utf-16-be"), "UTF-16-BE", id="utf16be-no-bom"),
        pytest.param(TEXT.encode("cp1252"), "windows-1252", id="cp1252"),
        pytest.param(TEXT.replace("—", "-").replace("€", "EUR").encode("latin-1"), "ISO-8859-1", id="latin1"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    text, label = decode_bytes(data, "x.txt")
    assert label == encoding
    assert text.lstrip("\ufeff").startswith("Bamako, le 26 novembre 2021")
    assert "réunion" in text


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"%PDF-1.4\n...", "source.binary", id="pdf"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "source.binary", id="png"),
        pytest.param(b"abc\x00\x01\x02def\x00", "source.binary", id="nul"),
        pytest.param("é".encode() * 50 + b"\xff" + b"abc", "source.undecodable", id="damaged-utf8"),
    ],
)
def test_bad_bytes_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(SourceError) as info:
        decode_bytes(data, "x.txt")
    assert info.value.issues[0].code == code
    assert "x.txt" in str(info.value)


def test_normalisation_keeps_words_and_records_what_it_did() -> None:
    text, done = normalise_text("\ufeffLigne un\r\nLigne deux\rCafe\u0301\n")
    assert text == "Ligne un\nLigne deux\nCafé\n"
    assert len(done) == 3  # BOM, line ends, NFC


def test_read_source_records_fixity(tmp_path: Path) -> None:
    raw = TEXT.encode("cp1252")
    p = tmp_path / "lettre.txt"
    p.write_bytes(raw)
    src = read_source(p, "in/lettre.txt")
    assert (src.size, src.sha256, src.encoding) == (len(raw), hashlib.sha256(raw).hexdigest(), "windows-1252")
    assert src.stem == "lettre" and src.path == "in/lettre.txt"


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "source.empty"), (b" \n\t\n  ", "source.empty"), (b"abc\x07def ghi", "source.control")],
)
def test_empty_and_control_characters(tmp_path: Path, data: bytes, code: str) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    with pytest.raises(SourceError) as info:
        read_source(p, "x.txt")
    assert info.value.issues[0].code == code


def test_directory_named_txt(tmp_path: Path) -> None:
    d = tmp_path / "x.txt"
    d.mkdir()
    with pytest.raises(SourceError, match="directory"):
        read_source(d, "x.txt")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.text(max_size=200).map(lambda t: t.encode("utf-16")),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=200).map(lambda t: t.encode("latin-1")),
))
def test_any_bytes_give_a_document_or_the_projects_own_error(tmp_path: Path, data: bytes) -> None:
    """The reader never fails any other way, and what it accepts encodes to valid TEI."""
    from lxml import etree

    from ingest.config import BuildInfo, load_config
    from ingest.encode import encode
    from ingest.pipeline import make_record
    from ingest.serialize import to_bytes
    from ingest.validate import ProjectSchema

    path = tmp_path / "fuzz.txt"
    path.write_bytes(data)
    try:
        source = read_source(path)
    except SourceError as exc:
        assert exc.issues and exc.issues[0].message
        return
    config, _ = load_config(Path(__file__).resolve().parents[1] / "tei-ingest.toml")
    tei = to_bytes(encode(make_record(source), config, BuildInfo("0", 1795392000), ()))
    verdict = ProjectSchema().check(etree.ElementTree(etree.fromstring(tei)), "fuzz.xml")
    assert verdict.valid, [str(i) for i in verdict.issues][:3]
