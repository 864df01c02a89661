"""langdetect's language profiles, kept packed in the disk cache and unpacked as they are used.

langdetect reads its 55 JSON profiles into one table: each of some 88,000 n-grams maps
to a list of 55 probabilities, about 0.4 s of work and 70 MB before a process can detect
anything. Detection only looks at the n-grams of the passage it is given. So the table
langdetect builds is packed once into the disk cache (for each n-gram, the languages it
occurs in and their probabilities, as the exact doubles langdetect computed), and a
process after the first reads it back in some 20 ms: an n-gram's list is rebuilt on first
use, the same list of floats langdetect's own table holds.

The languages keep the order langdetect read them in (the order of its profiles folder on
this machine), on which its sums, and so its probabilities, depend: a detector made from
this table gives exactly the answers of one langdetect made itself.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from array import array
from typing import Any

from .. import cache as disk

#: Layout of the cached table (bump when it changes).
_FORMAT = 1


class _Packed(dict):  # type: ignore[type-arg]
    """n-gram -> probabilities by language: ``in`` as a dict; a value is unpacked on first ``[]``."""

    __slots__ = ("_languages",)

    def __init__(self, packed: dict[str, bytes], languages: int) -> None:
        super().__init__(packed)
        self._languages = languages

    def __getitem__(self, word: str) -> list[float]:
        value = dict.__getitem__(self, word)
        if type(value) is bytes:
            n = len(value) // 9  # n language indexes (one byte each), then n doubles
            probabilities = [0.0] * self._languages
            for i, p in zip(value[:n], array("d", value[n:]), strict=True):
                probabilities[i] = p
            dict.__setitem__(self, word, probabilities)
            return probabilities
        return value  # type: ignore[no-any-return]


def _pack(table: dict[str, list[float]]) -> dict[str, bytes]:
    packed = {}
    for word, probabilities in table.items():
        where = [i for i, p in enumerate(probabilities) if p != 0.0]
        packed[word] = bytes(where) + array("d", [probabilities[i] for i in where]).tobytes()
    return packed


def _key(folder: str, names: list[str]) -> str:
    """Return the cache key of a profiles folder: langdetect's location, its files in order, their sizes and times."""
    parts = [str(_FORMAT), folder]
    for name in names:
        st = os.stat(os.path.join(folder, name))
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def factory() -> Any:
    """Return a langdetect DetectorFactory with every profile loaded, from the cache when it is there."""
    from langdetect import detector_factory

    folder = detector_factory.PROFILES_DIRECTORY
    names = os.listdir(folder)  # the order langdetect itself reads them in
    key = _key(folder, names)
    made = detector_factory.DetectorFactory()
    stored = disk.read("langdetect", f"{key}.marshal")
    if stored is not None:
        try:
            languages, packed = marshal.loads(stored)
            if len(languages) < 2 or not packed:
                raise ValueError("no profiles")
            made.langlist = list(languages)
            made.word_lang_prob_map = _Packed(packed, len(languages))
            return made
        except (ValueError, TypeError, EOFError):
            made = detector_factory.DetectorFactory()  # a damaged entry: loaded and stored again
    made.load_profile(folder)
    if all(len(p) == len(made.langlist) for p in made.word_lang_prob_map.values()) and len(made.langlist) < 256:
        disk.write(marshal.dumps((list(made.langlist), _pack(made.word_lang_prob_map))), "langdetect",
                   f"{key}.marshal")
    return made
