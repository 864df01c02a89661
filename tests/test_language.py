"""Language detection: CLD2 first, langdetect wherever CLD2 is unsure or reads another language."""

from __future__ import annotations

import pytest

import ingest.extract.language as language
from ingest.extract.language import assign_languages, quick_detect
from ingest.extract.structure import parse_structure
from ingest.model import Cert

FRENCH = ("Nous avons l'honneur de vous informer que la réunion annuelle de l'association se tiendra "
          "au siège, en présence des membres du bureau et des représentants des communes voisines.")
ITALIAN = ("Non altramente il tauro ove l'irriti geloso amor con stimoli pungenti, orribilmente mugge, "
           "e col muggito empie le selve e i campi e i monti e le valli.")


@pytest.fixture
def langdetect_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every passage langdetect is asked about (a short one it is never asked about)."""
    calls: list[str] = []
    real = language.detect

    def counting(text: str) -> tuple[str, float] | None:
        if language.is_long_enough(text):
            calls.append(text)
        return real(text)

    monkeypatch.setattr(language, "detect", counting)
    return calls


def test_passages_in_the_main_language_are_read_by_cld2_alone(langdetect_calls: list[str]) -> None:
    text = f"Lyon, le 3 mars 1921\n\n{FRENCH}\n\n{FRENCH}\n\nJean Dupont\n"
    blocks, main, shares = assign_languages(parse_structure(text).blocks)
    assert main == "fr" and [s.code for s in shares] == ["fr"]
    assert langdetect_calls == []
    long_ones = [b for b in blocks if FRENCH in b.text]
    assert len(long_ones) == 2 and all(b.lang == "fr" and b.lang_cert is Cert.HIGH for b in long_ones)


def test_a_passage_in_another_language_is_decided_by_langdetect(langdetect_calls: list[str]) -> None:
    text = f"Lyon, le 3 mars 1921\n\n{FRENCH}\n\n{ITALIAN}\n\n{FRENCH}\n\nJean Dupont\n"
    blocks, main, _ = assign_languages(parse_structure(text).blocks)
    assert main == "fr"
    (quote,) = [b for b in blocks if "tauro" in b.text]
    assert quote.lang == "it"
    assert any("tauro" in t for t in langdetect_calls)  # CLD2 alone did not decide it
    assert not any(FRENCH in t for t in langdetect_calls)


def test_cld2_keeps_only_reliable_answers() -> None:
    assert quick_detect(FRENCH) == "fr"
    assert quick_detect("Bamako le 06 Novembre 2017") is None  # too short for n-grams
    assert quick_detect("Paul Bonnetain. J.-H. Rosny. Lucien Descaves. Paul Margueritte. Gustave Guiches. "
                        "Marcel Prévost. Henri Lavedan. Octave Mirbeau.") in (None, "fr", "en")
    assert quick_detect("\ud800" + FRENCH) in (None, "fr")  # a lone surrogate never raises


def test_a_reliable_cld2_answer_other_than_the_main_language_is_checked_by_langdetect(
        langdetect_calls: list[str]) -> None:
    english = ("The committee considered the proposals put forward at its last meeting with great care, "
               "and the members of the board approved the financial report without a dissenting vote.")
    assert quick_detect(english) == "en"
    text = f"Lyon, le 3 mars 1921\n\n{FRENCH}\n\n{english}\n\n{FRENCH} {FRENCH}\n\nJean Dupont\n"
    blocks, main, _ = assign_languages(parse_structure(text).blocks)
    assert main == "fr"
    assert [t for t in langdetect_calls if language.is_long_enough(t)] == [english]
    (quoted,) = [b for b in blocks if b.text == english]
    assert quoted.lang == "en"
