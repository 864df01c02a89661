"""The manifest schema's two validators agree: jsonschema-rs gives the verdict, jsonschema the words.

Every damaged manifest here, written by hand or at random, must get the same verdict
from both; only their messages may differ.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from ingest.manifest import _fast_validator, _slow_problems, check_manifest

from .conftest import ROOT


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((ROOT / "tei" / "manifest.json").read_text(encoding="utf-8"))


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def _agree(m: Any) -> bool:
    fast = _fast_validator()
    assert fast is not None, "jsonschema-rs is a dependency"
    valid = fast.is_valid(m)
    assert valid == (not _slow_problems(m)), json.dumps(m)[:300]
    return valid


def test_the_written_manifest_is_valid_for_both(manifest: dict[str, Any]) -> None:
    assert _agree(manifest)
    assert check_manifest(manifest) == []


HAND = [
    ("documents", 0, "tei", "sha256"), ("documents", 1, "source"), ("documents", 2, "date", "when"),
    ("documents", 0, "senders", 0, "cert"), ("totals", "accepted"), ("corpus", "schemas"), ("manifest_version",),
    ("documents", 3, "languages", 0, "percent"), ("documents", 4, "type"), ("documents", 0, "tei", "puid"),
]


@pytest.mark.parametrize("path", HAND, ids=lambda p: "/".join(map(str, p)))
@pytest.mark.parametrize("damage", ["delete", None, -1, "x", "0" * 63, "A" * 64, [], {}, True, "2017-13-45"])
def test_hand_damage_gets_the_same_verdict(manifest: dict[str, Any], path: tuple[Any, ...], damage: Any) -> None:
    m = copy.deepcopy(manifest)
    parent = m
    for step in path[:-1]:
        parent = parent[step]
    if damage == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = damage
    _agree(m)


def test_random_damage_gets_the_same_verdict(manifest: dict[str, Any]) -> None:
    rng = random.Random(20261201)
    paths = [p for p in _paths(manifest) if p]
    values = [None, 0, -3, 1.5, "", "x", "fr", "letter", "high", "a" * 64, [], {}, True, [1], {"x": 1}]
    invalid = 0
    for _ in range(400):
        m = copy.deepcopy(manifest)
        for path in rng.sample(paths, rng.randint(1, 3)):
            parent = m
            try:
                for step in path[:-1]:
                    parent = parent[step]
                if rng.random() < 0.3 and isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier damage removed the way there
        invalid += not _agree(m)
    assert invalid > 300  # most damage is caught, by both


def test_without_jsonschema_rs_jsonschema_decides(manifest: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.manifest

    monkeypatch.setattr(ingest.manifest, "_fast_validator", lambda part="": None)
    m = copy.deepcopy(manifest)
    m["documents"][0]["tei"]["sha256"] = "0" * 63
    assert check_manifest(manifest) == []
    (problem,) = check_manifest(m)
    assert problem.startswith("documents/0/tei/sha256: ")


def test_a_line_break_after_a_digest_is_refused(manifest: dict[str, Any]) -> None:
    """Python's `$` matches before a final line break, so jsonschema alone would let this through."""
    m = copy.deepcopy(manifest)
    m["documents"][0]["tei"]["sha256"] += "\n"
    assert not _slow_problems(m)
    (problem,) = check_manifest(m)
    assert problem.startswith("documents/0/tei/sha256: ")
