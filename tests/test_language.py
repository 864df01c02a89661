"""Language detection: CLD2 first, langdetect wherever CLD2 is unsure or reads another language."""

from __future__ import annotations

from pathlib import Path

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


def test_profiles_from_the_cache_detect_exactly_as_langdetect_does(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed table gives the same languages and the same probabilities, to the last bit."""
    from langdetect import DetectorFactory, detector_factory

    from ingest import cache as disk
    from ingest.extract import profiles

    monkeypatch.setenv("TEI_INGEST_CACHE", str(tmp_path))
    monkeypatch.setattr(DetectorFactory, "seed", 0)
    reference = detector_factory.DetectorFactory()
    reference.load_profile(detector_factory.PROFILES_DIRECTORY)
    stored = profiles.factory()  # loads the profiles and writes the cache
    assert list((disk.cache_dir() / "langdetect").glob("*.marshal"))  # type: ignore[operator]
    cached = profiles.factory()  # reads it back
    assert isinstance(cached.word_lang_prob_map, profiles._Packed)
    assert cached.langlist == stored.langlist == reference.langlist
    texts = [FRENCH, ITALIAN, "Hélène Fischer, Direktor - Awa Hartley, Direktor - Claire Diarra, Schriftführer",
             "Ousmane Diarra, Treasurer - Henry Keita, Chairman - Fatoumata Moreau, Director",
             "the committee met on tuesday and agreed the accounts of the year", "ein brief an den vorstand"]

    def answers(factory: object, text: str) -> list[tuple[str, float]]:
        detector = factory.create()  # type: ignore[attr-defined]
        detector.append(text.lower())
        return [(found.lang, found.prob) for found in detector.get_probabilities()]

    for text in texts:
        expected = answers(reference, text)
        assert answers(cached, text) == expected
        assert answers(stored, text) == expected


def test_a_damaged_profiles_cache_is_loaded_again(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import cache as disk
    from ingest.extract import profiles

    monkeypatch.setenv("TEI_INGEST_CACHE", str(tmp_path))
    profiles.factory()
    (entry,) = (disk.cache_dir() / "langdetect").glob("*.marshal")  # type: ignore[operator]
    entry.write_bytes(b"not marshal data")
    again = profiles.factory()
    assert len(again.langlist) > 2 and not isinstance(again.word_lang_prob_map, profiles._Packed)
    assert entry.read_bytes() != b"not marshal data"  # stored again
