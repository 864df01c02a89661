"""Places in the text, linked to GeoNames only when the match is unambiguous."""

from __future__ import annotations

import pytest

from ingest.extract.structure import parse_structure
from ingest.gazetteer import find_places, lookup


@pytest.mark.parametrize(
    ("name", "geonames_id"),
    [
        ("Bamako", 2460596),
        ("Paris", 2988507),       # Paris, France is more than twenty times larger than Paris, Texas
        ("New York", 5128581),
        ("Genf", 2660646),        # another language's name of a large city
        ("Le Caire", 360630),
        ("Mali", 2453866),        # the country, not a town of that name
    ],
)
def test_unambiguous_names_are_linked(name: str, geonames_id: int) -> None:
    entry = lookup(name)
    assert entry is not None and entry.id == geonames_id


@pytest.mark.parametrize("name", ["Springfield", "Washington", "Portland", "Nowhere-sur-Rien", ""])
def test_ambiguous_or_unknown_names_stay_unlinked(name: str) -> None:
    assert lookup(name) is None


def test_places_in_running_text() -> None:
    text = ("La délégation est arrivée à Ouagadougou puis à New York. Selon le rapport, la mission "
            "du comité est terminée. Mission accomplie.\n")
    places = find_places(parse_structure(text).blocks)
    assert [(p.name, p.geonames.id if p.geonames else None) for p in places] == [
        ("Ouagadougou", 2357048), ("New York", 5128581)]
    assert all(p.span is not None and text.replace("\n", "")[p.span.start:p.span.end] == p.name for p in places)


def test_dateline_place_is_linked_whatever_its_case() -> None:
    structure = parse_structure("NEW YORK - 25 SEPTEMBRE 2013\n\nLe groupe s'est réuni.\n")
    from ingest.model import Place, Span

    (place,) = find_places(structure.blocks, (Place("NEW YORK", span=Span(0, 0, 8)),))[:1]
    assert place.geonames is not None and place.geonames.id == 5128581


def test_the_index_read_back_from_the_disk_cache_is_the_one_built(tmp_path, monkeypatch) -> None:
    from ingest import gazetteer

    monkeypatch.setenv("TEI_INGEST_CACHE", str(tmp_path))
    monkeypatch.setattr(gazetteer, "_index", None)
    built = dict(gazetteer._load())  # built, then stored
    assert built and not any(isinstance(v, bytes) for v in built.values())
    assert list(tmp_path.rglob("gazetteer/*.marshal"))

    def read_back() -> dict[str, object]:
        monkeypatch.setattr(gazetteer, "_index", None)
        assert any(isinstance(v, bytes) for v in gazetteer._load().values())  # packed, unpacked on use
        return {key: gazetteer._entries(key) for key in built}

    assert read_back() == built
    for entry in tmp_path.rglob("gazetteer/*.marshal"):
        entry.write_bytes(b"damaged")
    monkeypatch.setattr(gazetteer, "_index", None)
    assert gazetteer._load() == built  # a damaged entry is rebuilt
