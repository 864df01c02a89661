"""What commands keep between runs to start fast: digests of schema files, indexed rules,
a parser built for the command named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest import cache, cli, schematron

SCH = """<schema xmlns="http://purl.oclc.org/dsdl/schematron">
  <ns prefix="t" uri="urn:t"/>
  <pattern id="p"><rule context="t:a"><assert test="@n" id="a-n">an a needs <name/> @n</assert></rule></pattern>
</schema>
"""


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_DIGESTS", {})
    return tmp_path


def _settled(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a file just written count as settled: its change time cannot be set back, so the
    racy window (2 s) is shortened to none instead of waiting it out."""
    monkeypatch.setattr(cache, "RACY_NS", 0)


def test_a_schema_digest_is_kept_only_while_the_file_keeps_its_status(
        own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = own_cache / "s.rng"
    f.write_bytes(b"<one/>")
    _settled(f, monkeypatch)
    first = cache.file_sha256(f)
    assert first[1] == b"<one/>"  # read and hashed
    monkeypatch.setattr(cache, "_DIGESTS", {})  # a new process
    assert cache.file_sha256(f) == (first[0], None)  # taken from the cache, not read
    # The same size and modification time put back: the change time differs, so it is read again.
    st = f.stat()
    f.write_bytes(b"<two/>")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    monkeypatch.setattr(cache, "_DIGESTS", {})
    again = cache.file_sha256(f)
    assert again[1] == b"<two/>" and again[0] != first[0]


def test_a_digest_taken_just_after_a_change_is_not_trusted(own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = own_cache / "s.rng"
    f.write_bytes(b"<one/>")  # changed now: within the racy window of the digest
    digest, data = cache.file_sha256(f)
    assert data == b"<one/>"
    monkeypatch.setattr(cache, "_DIGESTS", {})
    assert cache.file_sha256(f) == (digest, b"<one/>")  # read again


def test_the_indexed_rules_are_cached_and_a_damaged_entry_is_made_again(
        own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = own_cache / "rules.sch"
    f.write_text(SCH, encoding="utf-8")
    _settled(f, monkeypatch)
    read = schematron.RuleSet.load(f)
    entries = list((own_cache / "cache").rglob("*.rules"))
    assert len(entries) == 1
    monkeypatch.setattr(cache, "_DIGESTS", {})
    cached = schematron.RuleSet.load(f)
    assert cached.patterns == read.patterns and cached.namespaces == read.namespaces == {"t": "urn:t"}
    entries[0].write_bytes(b"\x00not marshal")
    monkeypatch.setattr(cache, "_DIGESTS", {})
    assert schematron.RuleSet.load(f).patterns == read.patterns
    from lxml import etree

    doc = etree.ElementTree(etree.fromstring('<r xmlns="urn:t"><a/><a n="1"/></r>'))
    findings = cached.check(doc)
    assert [(f.rule, f.message) for f in findings] == [("a-n", "an a needs a @n")]


@pytest.mark.parametrize("command", list(cli._COMMANDS))
def test_the_parser_of_one_command_is_that_command_in_the_whole_parser(command: str) -> None:
    whole = cli.build_parser()
    one = cli.build_parser(command)
    subparsers = next(a for a in whole._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    only = next(a for a in one._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    assert list(only) == [command]
    assert only[command].format_help() == subparsers[command].format_help()


def test_validate_with_tei_all_named_in_the_environment_reads_no_configuration(tmp_path: Path) -> None:
    """$TEI_ALL_RNG wins over the configuration, so the command does not import (or parse) it,
    nor JSON for a text report: each is a few milliseconds of every pre-commit call."""
    import subprocess
    import sys

    doc = tmp_path / "a.xml"
    doc.write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0"/>', encoding="utf-8")
    (tmp_path / "tei-ingest.toml").write_text("not toml [", encoding="utf-8")  # never read
    rng = tmp_path / "s.rng"
    rng.write_text('<element name="TEI" ns="http://www.tei-c.org/ns/1.0" xmlns="http://relaxng.org/ns/structure/1.0">'
                   "<empty/></element>", encoding="utf-8")
    code = ("import sys\nfrom ingest.cli import main\nrc = main(['validate', '--schema', 'tei_all', 'a.xml'])\n"
            "print(rc, 'ingest.config' in sys.modules, 'tomllib' in sys.modules, 'json' in sys.modules)")
    env = {**os.environ, "TEI_ALL_RNG": str(rng), "TEI_INGEST_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["0", "False", "False", "False"]
