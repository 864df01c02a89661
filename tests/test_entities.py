"""Persons and organisations in the running text; authority ids only from the register."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.entities import Register, find_orgs, find_people
from ingest.errors import ConfigError
from ingest.extract.structure import parse_structure
from ingest.model import Party, PartyKind
from ingest.pipeline import make_record
from ingest.sources import read_source

TEXT = (
    "Le ministre malien Abdoulaye Traoré a rencontré hier le Président Jean-Marc Dubois. "
    "Le Conseil de sécurité et l'Organisation Internationale pour les Migrations (OIM) ont été "
    "informés. Nous Association des Amis du Livre soutenons le Gouvernement du Mali.\n"
)


def test_titled_names_are_persons() -> None:
    people = find_people(parse_structure(TEXT).blocks, ())
    assert [p.name for p in people] == ["Abdoulaye Traoré", "Jean-Marc Dubois"]


def test_untitled_capitalised_words_are_not_persons() -> None:
    assert find_people(parse_structure("Hier, Paris Match et Radio France ont parlé.\n").blocks, ()) == ()


def test_organisations() -> None:
    orgs = {p.label for p in find_orgs(parse_structure(TEXT).blocks)}
    assert orgs == {"Conseil de sécurité", "Organisation Internationale pour les Migrations", "OIM",
                    "Association des Amis du Livre", "Gouvernement du Mali"}


def test_correspondent_named_again_in_the_text() -> None:
    known = (Party(PartyKind.PERSON, name="Paul Durand"),)
    blocks = parse_structure("Comme l'a dit Paul Durand lors de la séance, le comité se réunira.\n").blocks
    (p,) = find_people(blocks, known)
    assert p.name == "Paul Durand"


def test_register_gives_ids_and_nothing_else(tmp_path: Path) -> None:
    reg_file = tmp_path / "authorities.toml"
    reg_file.write_text(
        '[[person]]\nname = "Jean-Marc Dubois"\nforms = ["J.-M. Dubois"]\n'
        'refs = ["https://viaf.org/viaf/000000001"]\n'
        '[[org]]\nname = "Gouvernement du Mali"\nrefs = ["https://www.wikidata.org/wiki/Q000000002"]\n',
        encoding="utf-8",
    )
    register = Register.load(reg_file)
    assert register.refs_for("J.-M.  Dubois") == ("https://viaf.org/viaf/000000001",)
    assert register.refs_for("Jean Dubois") == ()
    src = tmp_path / "x.txt"
    src.write_text(TEXT, encoding="utf-8")
    x = make_record(read_source(src, "x.txt"), register).extraction
    refs = {p.label: p.refs for p in (*x.people, *x.orgs)}
    assert refs["Jean-Marc Dubois"] == ("https://viaf.org/viaf/000000001",)
    assert refs["Gouvernement du Mali"] == ("https://www.wikidata.org/wiki/Q000000002",)
    assert refs["Abdoulaye Traoré"] == () and refs["Conseil de sécurité"] == ()


def test_a_person_never_takes_the_id_of_their_organisation(tmp_path: Path) -> None:
    """An addressee who writes for a registered organisation is not that organisation."""
    reg_file = tmp_path / "authorities.toml"
    reg_file.write_text('[[org]]\nname = "Organisation Internationale pour les Migrations"\nforms = ["OIM"]\n'
                        'refs = ["https://www.wikidata.org/wiki/Q000000002"]\n', encoding="utf-8")
    register = Register.load(reg_file)
    assert register.refs_for("OIM") == ()  # a person named like the organisation: no
    assert register.refs_for("OIM", kind="org") == ("https://www.wikidata.org/wiki/Q000000002",)
    src = tmp_path / "x.txt"
    src.write_text("Bamako, le 2 mai 2021\n\nA Monsieur M. Paul Martin, Directeur Général\n"
                   "de l'Organisation Internationale pour les Migrations\n\n"
                   "Monsieur le Directeur général,\n\nNous vous écrivons au sujet du programme.\n\n"
                   "Veuillez agréer l'expression de notre haute considération.\n\nAmadou Keita\n", encoding="utf-8")
    x = make_record(read_source(src, "x.txt"), register).extraction
    (addressee,) = x.addressees
    assert addressee.name == "Paul Martin"
    assert addressee.org == "Organisation Internationale pour les Migrations" and addressee.refs == ()


@pytest.mark.parametrize(
    "content",
    ['[[person]]\nname = "X"\n', '[[person]]\nname = "X"\nrefs = ["viaf 12"]\n', "not toml ["],
)
def test_bad_register_is_a_clear_error(tmp_path: Path, content: str) -> None:
    reg_file = tmp_path / "authorities.toml"
    reg_file.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"register\.invalid"):
        Register.load(reg_file)
