"""The project schema accepts what the encoder writes and rejects what the archive forbids.

Each broken variant is a one-line change of a valid encoded letter; each must fail with
the expected rule, of the grammar or of the Schematron.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from ingest.config import BuildInfo, CorpusConfig
from ingest.encode import encode
from ingest.pipeline import make_record
from ingest.serialize import to_bytes
from ingest.sources import read_source
from ingest.validate import ProjectSchema, TeiAllSchema

from .conftest import ROOT

LETTER = """Comité des Fêtes de Lyon
12 rue des Écoles, Lyon

Lyon, le 3 mars 1921

Monsieur le Directeur,

Nous avons l'honneur de vous demander le prêt de trois manuscrits pour l'exposition que
notre comité prépare pour le printemps prochain dans les salles de la mairie.

Veuillez agréer, Monsieur le Directeur, l'expression de nos sentiments distingués.

Le Président,

Paul Durand
"""


@pytest.fixture(scope="module")
def letter(tmp_path_factory: pytest.TempPathFactory, config: CorpusConfig, build: BuildInfo) -> str:
    """Return a valid encoded letter as text."""
    src = tmp_path_factory.mktemp("src") / "lettre.txt"
    src.write_text(LETTER, encoding="utf-8")
    record = make_record(read_source(src, "lettre.txt"))
    return to_bytes(encode(record, config, build)).decode("utf-8")


def verdict(text: str) -> list[str]:
    """Return the rules a document breaks (grammar errors as 'rng')."""
    doc = etree.ElementTree(etree.fromstring(text.encode("utf-8")))
    v = ProjectSchema().check(doc, "x.xml")
    return sorted({"rng" if i.code == "project-rng" else i.message for i in v.issues})


def test_valid_letter(letter: str) -> None:
    assert verdict(letter) == []


BROKEN = [
    pytest.param('when="1921-03-03"', 'when="03/03/1921"', "rng", id="date-not-iso"),
    pytest.param('when="1921-03-03"', 'when="1921-02-30x"', "rng", id="date-garbage"),
    pytest.param('<p>Nous', '<p><foo/>Nous', "rng", id="unknown-element"),
    pytest.param('<div type="letter">', '<div>', "rng", id="div-without-type"),
    pytest.param('<idno type="sha256">', '<idno type="sha256">0', "rng", id="sha256-length"),
    pytest.param('ref="#place-1"', 'ref="#place-9"', "points to no xml:id", id="dangling-ref"),
    pytest.param('usage="100"', 'usage="98"', "add up to 98", id="usage-sum"),
    pytest.param('<text xml:lang="fr">', '<text xml:lang="en">', "must be the main language", id="text-lang"),
    pytest.param('target="#doctype-letter"', 'target="#doctype-report"', "must be the category", id="type-mismatch"),
    pytest.param(' resp="#tei-ingest"/>', '/>', "has @cert but no @resp", id="cert-without-resp"),
    pytest.param('target="#doctype-letter"', 'target="#doctype-none"', "must point to a category",
                 id="catRef-to-no-category"),
    pytest.param('scheme="#doctypes"', 'scheme="#nowhere"', "points to no xml:id", id="dangling-scheme"),
    pytest.param('resp="#tei-ingest">Paul', 'resp="#nobody">Paul', "points to no xml:id", id="dangling-resp"),
    pytest.param('<measure unit="byte" quantity="', '<measure unit="byte" quantity="-', "whole number of bytes",
                 id="byte-count"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_broken_variants_fail(letter: str, old: str, new: str, expected: str) -> None:
    assert old in letter, f"the fixture no longer contains {old!r}"
    problems = verdict(letter.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_bounds_in_the_wrong_order_fail(letter: str) -> None:
    broken = letter.replace('when="1921-03-03"', 'notBefore="1921-03-05" notAfter="1921-03-03"', 1)
    assert any("is later than" in p for p in verdict(broken))


def test_range_in_the_wrong_order_fails(letter: str) -> None:
    broken = letter.replace('when="1921-03-03"', 'from="1921-03-05" to="1921-03-03"', 1)
    assert any("@from (1921-03-05) is later than @to" in p for p in verdict(broken))


def test_range_in_the_wrong_order_fails_beside_bounds_in_order(letter: str) -> None:
    """Each order check holds on its own: bounds in order do not excuse a range out of order."""
    broken = letter.replace('when="1921-03-03"',
                            'notBefore="1921-03-01" notAfter="1921-03-31" from="1921-03-05" to="1921-03-03"', 1)
    problems = verdict(broken)
    assert any("@from (1921-03-05) is later than @to" in p for p in problems), problems
    assert not any("@notBefore" in p for p in problems), problems


def test_one_element_breaking_rules_of_several_patterns_gets_every_finding(letter: str) -> None:
    """A date with @cert and no @resp, bounds the wrong way round, pointing nowhere: three rules."""
    old = '<date cert="high" resp="#tei-ingest" when="1921-03-03">'
    assert old in letter
    broken = letter.replace(old, '<date cert="high" ref="#nowhere" notBefore="1921-03-05" notAfter="1921-03-03">', 1)
    problems = verdict(broken)
    assert any("has @cert but no @resp" in p for p in problems), problems
    assert any("is later than @notAfter" in p for p in problems), problems
    assert any('"#nowhere" points to no xml:id' in p for p in problems), problems


def test_empty_correspondent_name_fails(letter: str) -> None:
    old = 'resp="#tei-ingest">Paul Durand</persName>'
    assert old in letter
    assert any("must hold a name or an office" in p
               for p in verdict(letter.replace(old, 'resp="#tei-ingest"> </persName>', 1)))


def test_letter_without_correspdesc_fails(letter: str) -> None:
    start = letter.index("<correspDesc>")
    end = letter.index("</correspDesc>") + len("</correspDesc>")
    problems = verdict(letter[:start] + letter[end:])
    assert any("needs profileDesc/correspDesc" in p for p in problems), problems


def test_letter_without_received_action_fails(letter: str) -> None:
    start = letter.index('<correspAction type="received">')
    end = letter.index("</correspAction>", start) + len("</correspAction>")
    assert "rng" in verdict(letter[:start] + letter[end:])


@pytest.mark.slow
def test_valid_letter_under_tei_all_with_lxml_and_jing(letter: str, tei_all_file: Path, jing: str,
                                                      tmp_path: Path) -> None:
    doc = etree.ElementTree(etree.fromstring(letter.encode("utf-8")))
    assert TeiAllSchema(tei_all_file).check(doc, "x.xml").valid
    path = tmp_path / "lettre.xml"
    path.write_text(letter, encoding="utf-8")
    for schema in (tei_all_file, ROOT / "schemas" / "tei-ingest.rng"):
        done = subprocess.run([jing, str(schema), str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout
