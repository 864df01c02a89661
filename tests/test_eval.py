"""`tei-ingest eval`: the figures are what a hand count gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.cli import main
from ingest.evaluate import date_matches, evaluate, name_tokens, names_match, place_matches, summarise
from ingest.model import (
    Affiliation,
    Cert,
    DateValue,
    DocType,
    Extraction,
    LanguageShare,
    Party,
    PartyKind,
    Place,
    Record,
    SourceDocument,
    Structure,
)


def test_name_matching_follows_the_truth_format() -> None:
    assert name_tokens("M. le Comte Louis de Pasteur") == {"louis", "pasteur"}
    assert names_match("Richard M. Nixon", "President Richard Nixon")
    assert not names_match("Richard M. Nixon", "Nixon")  # 1 of 2 tokens
    assert names_match("Recteur de l'Académie de Douai", "le recteur de l'académie de Douai")
    assert names_match("Department of State", "U.S. Department of State")
    assert not names_match("", "anything")


def test_place_and_date_matching() -> None:
    assert place_matches("Newmarket-on-Fergus, Ireland", [], "Newmarket-on-Fergus")
    assert place_matches("Genève", ["Genf", "Geneva"], "Genf")
    assert not place_matches("Paris", [], "Parisot")
    assert date_matches("1893-02", "1893-02-17") == (True, True)
    assert date_matches("1897", "1897-06") == (True, True)
    assert date_matches("1921-03-04", "1921-03-03") == (False, True)
    assert date_matches("1921-03-04", None) == (False, False)
    assert date_matches("1921", "--03-04") == (False, False)


def _record(doc_type: DocType, lang: str, date: str | None, place: str | None,
            senders: tuple[Party, ...] = (), addressees: tuple[Party, ...] = (),
            authors: tuple[Party, ...] = (), text: str = "x") -> Record:
    src = SourceDocument("x.txt", "x.txt", "x", 1, "0" * 64, "UTF-8", "text/plain", text)
    x = Extraction(
        doc_type=doc_type, doc_type_cert=Cert.HIGH, doc_type_method="test", language=lang,
        languages=(LanguageShare(lang, 100, 1),),
        date=DateValue("d", when=date) if date else None,
        place=Place(place) if place else None,
        senders=senders, addressees=addressees, authors=authors,
    )
    return Record("doc-x", src, Structure(()), x)


def person(name: str) -> Party:
    return Party(PartyKind.PERSON, name=name)


def office(text: str) -> Party:
    return Party(PartyKind.PERSON, affiliations=(Affiliation(text, None, None),))


TRUTH: dict[str, dict[str, Any]] = {
    # letter, French: everything right
    "a": {"doc_type": "letter", "languages": ["fr"], "date": "1921-03-03", "place_sent": "Lyon",
          "date_year_in_text": True, "place_in_text": True,
          "senders": [{"name": "Paul Durand", "in_text": True}],
          "addressees": [{"name": "Directeur de la Bibliothèque", "in_text": True}]},
    # letter, English: day wrong (year right), addressee missed, one sender of two found
    "b": {"doc_type": "letter", "languages": ["en"], "date": "1921-03-04", "place_sent": "London",
          "date_year_in_text": True, "place_in_text": True,
          "senders": [{"name": "John Smith", "in_text": True}, {"name": "Mary Brown", "in_text": False}],
          "addressees": [{"name": "Robert Jones", "in_text": True}]},
    # article, English: typed as a letter, no date in the text, author found
    "c": {"doc_type": "article", "languages": ["en"], "date": "1862", "place_sent": None,
          "date_year_in_text": False, "senders": [], "addressees": [],
          "authors": [{"name": "R. H. Vane", "name_alternatives": ["Richard Vane"], "in_text": True}]},
}

PREDICTED = {
    "a": _record(DocType.LETTER, "fr", "1921-03-03", "Lyon", (person("Paul Durand"),),
                 (office("le Directeur de la Bibliothèque municipale"),),
                 text="Lyon, 3 mars 1921. Monsieur le Directeur de la Bibliothèque, ... Paul Durand"),
    "b": _record(DocType.TELEGRAM, "en", "1921-03-03", "London, England", (person("John Smith"),), (),
                 text="London, 3 March 1921. Dear Mr. Jones, Robert Jones wrote ... Smith"),
    "c": _record(DocType.LETTER, "de", None, None, authors=(person("Richard Vane"),), text="... by Vane"),
}


@pytest.fixture
def devset(tmp_path: Path) -> tuple[Path, Path]:
    texts, truth = tmp_path / "texts", tmp_path / "truth"
    texts.mkdir()
    truth.mkdir()
    for doc_id, t in TRUTH.items():
        (texts / f"{doc_id}.txt").write_text(f"text of {doc_id}\n", encoding="utf-8")
        (truth / f"{doc_id}.json").write_text(json.dumps({"id": doc_id, **t}), encoding="utf-8")
    return texts, truth


def test_figures_are_the_hand_count(devset: tuple[Path, Path]) -> None:
    texts, truth = devset

    def fake(source: SourceDocument) -> Record:
        return PREDICTED[source.stem]

    summary = summarise(evaluate(texts, truth, fake))
    overall = summary["groups"]["overall"]

    def fig(field: str, subset: str = "all") -> tuple[int, int]:
        return overall[field][subset]["correct"], overall[field][subset]["n"]

    # Hand count, document by document (a / b / c):
    assert fig("date_exact") == (1, 3)              # right / wrong day / nothing
    assert fig("date_year") == (2, 3)               # right / right / nothing
    assert fig("date_exact", "recoverable") == (1, 2)  # c's year is not in its text
    assert fig("place") == (2, 2)                   # Lyon / "London" in "London, England"; c has none
    assert fig("sender") == (2, 3)                  # Durand / Smith found, Brown missed
    assert fig("sender", "recoverable") == (2, 2)   # Brown is not in the text
    assert fig("addressee") == (1, 2)               # the office is found / Jones missed
    # matchable: the text holds 60 % of the name's tokens (b's text says only "Smith")
    assert fig("sender", "matchable") == (1, 1)     # Durand; Smith is 1 of 2 tokens, Brown absent
    assert fig("addressee", "matchable") == (1, 2)  # both names are in their texts
    assert fig("author", "matchable") == (1, 1)     # "R. H. Vane" is {vane} once initials go
    assert fig("date_exact", "matchable") == (1, 2)  # other fields: the same as recoverable
    assert fig("author") == (1, 1)                  # found through name_alternatives
    assert fig("language") == (2, 3)                # fr / en / de≠en
    assert fig("type") == (2, 3)                    # letter / telegram→letter / letter≠article
    assert summary["groups"]["language=en"]["type"]["all"]["correct"] == 1
    assert summary["groups"]["type=article"]["type"]["all"] == {"correct": 0, "n": 1, "percent": 0.0}


def test_eval_command_prints_a_table_and_a_final_json_line(
    devset: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    texts, truth = devset
    assert main(["eval", str(texts), str(truth), "--per-doc"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    final = json.loads(out[-1])
    assert final["documents"] == 3 and "overall" in final["groups"]
    assert any(line.startswith("overall") and "type" in line for line in out)
    assert any(line.strip().startswith("b: date: expected 1921-03-04") for line in out)


def test_eval_on_a_missing_folder_exits_3(tmp_path: Path) -> None:
    assert main(["eval", str(tmp_path / "no"), str(tmp_path / "no")]) == 3
