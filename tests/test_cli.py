"""The command line: exit codes, one-line errors, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.cli import main

from .conftest import EPOCH, ROOT, SEEDS

GOOD_LETTER = """Lyon, le 3 mars 1921

Monsieur le Directeur,

Je vous remercie de votre lettre du 12 février dernier et je vous confirme que la
réunion du comité aura lieu comme prévu au siège de l'association.

Veuillez agréer, Monsieur le Directeur, l'expression de mes sentiments distingués.

Jean Dupont
"""


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run main() in a temporary folder with the project configuration and a pinned date."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tei-ingest.toml").write_text(
        (ROOT / "tei-ingest.toml").read_text(encoding="utf-8").replace(
            'tei_all = "../shared', f'tei_all = "{ROOT.parent}/shared'),
        encoding="utf-8",
    )
    (tmp_path / "authorities.toml").write_text("", encoding="utf-8")

    def run(*args: str) -> int:
        return main(["ingest", *args])

    return run


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "seeds"]) == 2  # -o is required
    assert "-o" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "tei-ingest" in capsys.readouterr().out


def test_broken_sources_are_reported_and_the_rest_written(
    run_cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a_good.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (src / "b_empty.txt").write_bytes(b"")
    (src / "c_binary.txt").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (src / "d_undecodable.txt").write_bytes(
        "Une lettre écrite à Paris.\n".encode() * 40 + b"\xff\xfe\xc3(" + b"suite\n" * 40
    )
    (src / "e_good_latin1.txt").write_bytes(GOOD_LETTER.encode("latin-1"))
    code = run_cli(str(src), "-o", "out")
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert code == 1
    # the end-of-run table: a column as wide as its widest cell, the failures last
    header, rule, *rows = captured.out.split("\n\n")[0].splitlines()
    assert header.split() == ["document", "type", "date", "sender", "→", "addressee", "languages", "valid"]
    widths = [len(dashes) for dashes in rule.split("  ")]
    assert [row.split()[0] for row in rows] == [
        "a_good.xml", "e_good_latin1.xml", "b_empty.txt", "c_binary.txt", "d_undecodable.txt"]
    assert widths[0] == len("d_undecodable.txt") and widths[5] == len("project+tei_all")
    for row in (header, *rows):
        starts = [0]
        for w in widths[:-1]:
            starts.append(starts[-1] + w + 2)
        assert all(row[i - 2:i] == "  " and row[i] != " " for i in starts[1:] if i < len(row)), row
    assert rows[-1].endswith("FAILED") and rows[1].endswith("project+tei_all")
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 3
    for name, code_ in (("b_empty.txt", "source.empty"), ("c_binary.txt", "source.binary"),
                        ("d_undecodable.txt", "source.undecodable")):
        line = next(e for e in errors if name in e)
        assert f"[{code_}]" in line
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a_good.xml", "e_good_latin1.xml", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"] == {**manifest["totals"], "sources": 5, "accepted": 2, "rejected": 3}
    assert {r["source"]["path"] for r in manifest["rejected"]} == {
        "in/b_empty.txt", "in/c_binary.txt", "in/d_undecodable.txt"}
    latin1 = next(d for d in manifest["documents"] if d["id"] == "doc-e_good_latin1")
    assert latin1["source"]["encoding"] in ("ISO-8859-1", "windows-1252")


def test_all_good_exit_0_and_rerun_is_byte_identical(run_cli, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "lettre.txt").write_text(GOOD_LETTER, encoding="utf-8")
    assert run_cli(str(src), "-o", "out", "-q") == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert run_cli(str(src), "-o", "out", "-q") == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == first


def test_names_differing_only_in_case_do_not_overwrite(run_cli, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "Lettre.txt").write_text(GOOD_LETTER, encoding="utf-8")
    (src / "lettre.txt").write_text(GOOD_LETTER.replace("Jean Dupont", "Paul Martin"), encoding="utf-8")
    assert run_cli(str(src), "-o", "out", "-q") == 1
    err = capsys.readouterr().err
    assert "[output.collision]" in err and "lettre.txt" in err
    assert (tmp_path / "out" / "Lettre.xml").is_file()


def test_unwritable_output_exit_3(run_cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        target = tmp_path / "file-not-folder"
        target.write_text("x", encoding="utf-8")
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    src = tmp_path / "lettre.txt"
    src.write_text(GOOD_LETTER, encoding="utf-8")
    assert run_cli(str(src), "-o", str(target)) == 3
    assert "[output.unwritable]" in capsys.readouterr().err


def test_missing_register_exit_3(run_cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "authorities.toml").unlink()
    src = tmp_path / "lettre.txt"
    src.write_text(GOOD_LETTER, encoding="utf-8")
    assert run_cli(str(src), "-o", "out") == 3
    assert "[register.invalid]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_source_is_reported(run_cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(str(tmp_path / "nothing-here.txt"), "-o", "out", "-q") == 1
    assert "[source.missing]" in capsys.readouterr().err


def test_console_script_and_module_entry_point(tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    done = subprocess.run([sys.executable, "-m", "ingest", "--version"], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 0 and done.stdout.startswith("tei-ingest ")
    assert SEEDS, "the seeds are in seeds/"
