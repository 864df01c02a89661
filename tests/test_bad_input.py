"""Bad input, tried as a new user would: one folder with good documents and every kind
of bad one. Each bad source gets a one-line error that names it and says what to do;
the run exits 1; every good document is written and valid; nothing is invented.
"""

from __future__ import annotations

import errno
import json
import os
import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from ingest.validate import ProjectSchema

from .test_cli import GOOD_LETTER, run_cli  # noqa: F401  (fixture)

TEI = "{http://www.tei-c.org/ns/1.0}"

#: name -> (bytes, expected error code or None when the file must be encoded)
CASES: dict[str, tuple[bytes, str | None]] = {
    "good.txt": (GOOD_LETTER.encode(), None),
    "empty.txt": (b"", "source.empty"),
    "blank.txt": (b"  \n\t\n \n", "source.empty"),
    "binary.txt": (bytes(range(256)) * 8, "source.binary"),
    "scan.pdf.txt": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "source.binary"),
    "photo.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "source.binary"),
    "damaged-utf8.txt": ("Lyon, le 3 mars 1921.\n\nCafé ".encode() + b"\xff\xfe au lait.\n", "source.undecodable"),
    "latin1.txt": ("Lyon, le 3 mars 1921.\n\nMonsieur, je vous écris.\n".encode("latin-1"), None),
    "cp1252.txt": ("Paris, le 4 mai 1920.\n\n« Bien sûr », dit-il — l’œuvre coûte 5 €.\n".encode("cp1252"), None),
    "utf16-bom.txt": ("Lyon, le 3 mars 1921.\n\nBonjour à tous.\n".encode("utf-16"), None),
    "utf16-nobom.txt": ("Lyon, le 3 mars 1921.\n\nBonjour à tous.\n".encode("utf-16-le"), None),
    "nul.txt": (b"Lyon, le 3 mars 1921.\n\nabc\x00def\n", "source.binary"),
    "control.txt": (b"Lyon, le 3 mars 1921.\n\nabc\x07def\n", "source.control"),
    "line-endings.txt": (b"Lyon, le 3 mars 1921.\r\n\r\nPremier\rsecond\nfin.\r\n", None),
    "only-a-date.txt": (b"3 mars 1921\n", None),
    "no-date-no-sender.txt": (b"Le comite a examine les comptes et approuve le rapport.\n", None),
    "no-language.txt": (b"xq zv 42 ++ 17\n", None),
    "name with spaces, accents é and 'quotes'.txt": (GOOD_LETTER.encode(), None),
    "-starts-with-dash.txt": (GOOD_LETTER.encode(), None),
    # 50 MB of paragraphs: several documents run together, or a damaged export
    "huge.txt": (("Lyon, le 3 mars 1921.\n\n" + "mot " * 120 + "\n\n").encode() * 100_000, "source.too-large"),
    # a single 10 MB line, over the size limit too: the diagnosis is the lost line breaks
    "one-long-line.txt": (("mot " * 2_500_000).encode() + b"\n", "source.long-line"),
    "long-line.txt": (("mot " * 60_000).encode() + b"\n", "source.long-line"),  # within the size limit
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "sources"
    src.mkdir()
    for name, (data, _) in CASES.items():
        (src / name).write_bytes(data)
    (src / "Lettre.txt").write_bytes(GOOD_LETTER.encode())
    (src / "lettre.txt").write_bytes(GOOD_LETTER.encode())  # differs only in case
    (src / unicodedata.normalize("NFC", "été.txt")).write_bytes(GOOD_LETTER.encode())
    (src / unicodedata.normalize("NFD", "été.txt")).write_bytes(GOOD_LETTER.encode())  # only in normalisation
    (src / "loop-a.txt").symlink_to("loop-b.txt")
    (src / "loop-b.txt").symlink_to("loop-a.txt")
    (src / "folder.txt").mkdir()
    (src / "locked.txt").write_bytes(GOOD_LETTER.encode())
    (src / "zero.txt").symlink_to("/dev/zero")  # of size 0 and endless: never read
    os.mkfifo(src / "pipe.txt")  # nobody writes to it: reading it would wait for ever
    return src


def test_every_bad_source_is_reported_and_every_good_one_written(
    run_cli, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # an unreadable file, even for root
        if self.name == "locked.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    out = tmp_path / "out"
    assert run_cli(str(folder), "-o", str(out), "-q") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    by_file: dict[str, str] = {}
    for line in errors:
        for name in [*CASES, "loop-a.txt", "loop-b.txt", "folder.txt", "locked.txt", "zero.txt", "pipe.txt",
                     "lettre.txt", "Lettre.txt",
                     unicodedata.normalize("NFC", "été.txt"), unicodedata.normalize("NFD", "été.txt")]:
            if f"/{name}:" in line or f"/{name} " in line:
                by_file.setdefault(name, line)
    for name, (_, code) in CASES.items():
        if code:
            assert name in by_file and f"[{code}]" in by_file[name], name
            assert ": " in by_file[name].split("]", 1)[1], "the message says what to do"
        else:
            assert name not in by_file, by_file.get(name)
            assert (out / f"{Path(name).stem}.xml").is_file(), name
    for name, code in (("loop-a.txt", "source.unreadable"), ("folder.txt", "source.unreadable"),
                       ("locked.txt", "source.unreadable"), ("zero.txt", "source.unreadable"),
                       ("pipe.txt", "source.unreadable")):
        assert f"[{code}]" in by_file[name], name
    assert "link" in by_file["loop-a.txt"] and "permission" in by_file["locked.txt"]
    assert "not a regular file" in by_file["zero.txt"] and "not a regular file" in by_file["pipe.txt"]
    # of two names that differ only in case or normalisation, one is written, the other refused
    assert sum("[output.collision]" in line for line in errors) == 2
    # one line per problem, each naming its file
    assert all(line.count("\n") == 0 and "/" in line for line in errors)
    # every written document is valid, and the manifest lists exactly what was written
    project = ProjectSchema()
    written = sorted(p.name for p in out.glob("*.xml"))
    for name in written:
        assert project.check(etree.parse(str(out / name)), name).valid, name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(d["tei"]["path"] for d in manifest["documents"]) == written


def test_decoding_is_recorded_and_unknowns_are_said(run_cli, folder: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    run_cli(str(folder), "-o", str(out), "-q")
    def header(name: str) -> etree._Element:
        return etree.parse(str(out / f"{name}.xml")).getroot()

    for name, label in (("latin1", "ISO-8859-1"), ("cp1252", "windows-1252"), ("utf16-bom", "UTF-16"),
                        ("utf16-nobom", "UTF-16")):
        text = etree.tostring(header(name), encoding="unicode")
        assert label.lower() in text.lower(), name
    # a text with no date, no sender, no language: the header says unknown, invents nothing
    root = header("no-language")
    assert root.find(f".//{TEI}langUsage/{TEI}language").get("ident") in ("und", "fr", "en")
    nodate = header("no-date-no-sender")
    assert nodate.find(f".//{TEI}creation/{TEI}date") is None or \
        nodate.find(f".//{TEI}creation/{TEI}date").get("when") is None
    assert not nodate.findall(f".//{TEI}correspAction[@type='sent']/{TEI}persName")


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it(
    run_cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    from ingest.pipeline import _lock

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_LETTER, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    held = _lock(out)
    try:
        assert run_cli(str(src), "-o", str(out), "-q") == 3
        assert "[output.busy]" in capsys.readouterr().err
        assert not any(out.iterdir())
    finally:
        os.close(held)
    assert run_cli(str(src), "-o", str(out), "-q") == 0


def test_a_full_disk_stops_the_run_and_leaves_the_previous_corpus(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"l{i}.txt").write_text(GOOD_LETTER.replace("12 février", f"{i + 1} février"), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(str(src), "-o", str(out), "-q") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (src / "l0.txt").write_text(GOOD_LETTER.replace("12 février", "28 février"), encoding="utf-8")

    def full(*_args: object, **_kw: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ingest.pipeline.stage_file", full)
    monkeypatch.setattr("ingest.pipeline.write_atomic_chunks", full)
    assert run_cli(str(src), "-o", str(out), "-q") == 3
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
