"""The README documents every command, every export format and every Make target users learn first."""

from __future__ import annotations

import argparse
import re

from ingest.cli import build_parser
from ingest.export import FORMATS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands() -> list[str]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make ingest" in first_block and "make test" in first_block


def test_every_subcommand_is_documented() -> None:
    assert _subcommands() == ["eval", "export", "ingest", "serve", "validate", "verify"]
    for name in _subcommands():
        assert re.search(rf"tei-ingest {name}\b", README), name


def test_every_export_format_is_documented() -> None:
    for name in FORMATS:
        assert f"`{name}`" in README, name


def test_every_make_target_users_learn_first_is_documented() -> None:
    for target in ("ingest", "test", "eval", "bench", "export"):
        assert f"make {target}" in README, target
