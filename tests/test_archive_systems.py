"""The corpus as archive systems meet it: format identification by Siegfried, queries in BaseX.

Both are the tools archives use, run here as they run there: Siegfried (through
``pygfried``) gives each file its PRONOM format, and BaseX, a native XML database,
loads the TEI files and answers XQuery over a client connection to a server bound to
127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ExportCorpus


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


# --- Siegfried ---------------------------------------------------------------------------


def _puid(path: Path) -> tuple[str, str]:
    import pygfried

    result = pygfried.identify(str(path), detailed=True)
    (match,) = result["files"][0]["matches"]
    return match["id"], match["mime"]


def test_siegfried_identifies_every_tei_file_as_the_manifest_says(export_corpus: ExportCorpus) -> None:
    manifest = _manifest(export_corpus.folder)
    for d in manifest["documents"]:
        puid, mime = _puid(export_corpus.folder / d["tei"]["path"])
        assert (puid, mime) == (d["tei"]["puid"], d["tei"]["media_type"]) == ("fmt/1476", "application/tei+xml")


def test_siegfried_tells_a_file_that_is_not_tei(export_corpus: ExportCorpus, tmp_path: Path) -> None:
    """The identification can fail: the same file outside the TEI namespace is not fmt/1476."""
    name = _manifest(export_corpus.folder)["documents"][0]["tei"]["path"]
    data = (export_corpus.folder / name).read_bytes().replace(b"http://www.tei-c.org/ns/1.0", b"urn:x-not-tei")
    (tmp_path / name).write_bytes(data)
    assert _puid(tmp_path / name)[0] != "fmt/1476"


# --- BaseX -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BaseX:
    """A BaseX server on 127.0.0.1 with its own home folder, and its command-line client."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.env = {**os.environ, "HOME": str(home)}
        self.process = subprocess.Popen(
            ["basexserver", "-n127.0.0.1", f"-p{self.port}", "-z"], env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        pytest.fail("the BaseX server did not start within 60 s")

    def client(self, *args: str) -> str:
        """Run basexclient against the server; return what it prints."""
        done = subprocess.run(
            ["basexclient", "-n127.0.0.1", f"-p{self.port}", "-Uadmin", "-Padmin", *args],
            env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"basexclient {args} failed: {done.stderr}")
        return done.stdout

    def query(self, xquery: str) -> list[str]:
        """Run an XQuery; return its result lines."""
        return self.client("-q", xquery).splitlines()

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def basex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseX]:
    """Start a BaseX server for the module's tests; `make test` installs the Debian package."""
    if shutil.which("basexserver") is None or shutil.which("basexclient") is None:
        pytest.fail("BaseX is not installed; `make test` installs the Debian package basex")
    server = BaseX(tmp_path_factory.mktemp("basex-home"))
    try:
        yield server
    finally:
        server.stop()


TEI = 'declare namespace tei = "http://www.tei-c.org/ns/1.0"; '

#: For every document: its path, its senders (letters) or authors, and its date attributes.
FACTS = TEI + """
for $d in db:open('{db}')/tei:TEI
let $h := $d/tei:teiHeader
let $sent := $h//tei:correspAction[@type = 'sent']
let $who := if ($sent/tei:persName) then $sent/tei:persName
            else if ($sent/tei:orgName) then $sent/tei:orgName
            else $h/tei:fileDesc/tei:titleStmt/tei:author/(tei:persName | tei:orgName)
let $date := ($h//tei:correspAction[@type = 'sent']/tei:date, $h/tei:profileDesc/tei:creation/tei:date)[1]
order by db:path($d)
return string-join((db:path($d), string-join($who ! normalize-space(.), ';'),
                    string-join(for $a in $date/(@when, @from, @to, @notBefore, @notAfter)
                                order by name($a) return name($a) || '=' || $a, ' ')), ' | ')
"""


def _expected(manifest: dict) -> list[str]:
    lines = []
    for d in sorted(manifest["documents"], key=lambda d: d["tei"]["path"]):
        who = [p["label"] for p in d["senders"] or d["authors"]]
        date = d["date"] or {}
        attrs = " ".join(f"{k}={date[k]}" for k in sorted(("when", "from", "to", "notBefore", "notAfter"))
                         if k in date)
        lines.append(f"{d['tei']['path']} | {';'.join(who)} | {attrs}")
    return lines


def test_basex_holds_what_the_manifest_says(basex: BaseX, export_corpus: ExportCorpus) -> None:
    basex.client("-c", f"CREATE DB corpus {export_corpus.folder}")
    manifest = _manifest(export_corpus.folder)
    assert basex.query(TEI + "count(db:open('corpus')/tei:TEI)") == [str(manifest["totals"]["accepted"])]
    facts = basex.query(FACTS.format(db="corpus"))
    assert facts == _expected(manifest)
    # Every letter's sender is there, with its date.
    assert "lettre_dupont_1921.xml | Jean Dupont | when=1921-03-03" in facts
    letters = basex.query(TEI + "count(db:open('corpus')//tei:correspDesc)")
    assert letters == [str(sum(d["type"] == "letter" for d in manifest["documents"]))]


def test_basex_sees_a_corpus_that_differs(basex: BaseX, export_corpus: ExportCorpus, tmp_path: Path) -> None:
    """The comparison can fail: a sender and a date changed in one file no longer match the manifest."""
    corpus = Path(shutil.copytree(export_corpus.folder, tmp_path / "tei"))
    letter = corpus / "lettre_dupont_1921.xml"
    letter.write_bytes(letter.read_bytes().replace(b">Jean Dupont</persName>", b">Jean Durand</persName>")
                       .replace(b'when="1921-03-03"', b'when="1921-03-04"'))
    (corpus / "lettre_sans_date.xml").unlink()
    basex.client("-c", f"CREATE DB altered {corpus}")
    facts = basex.query(FACTS.format(db="altered"))
    expected = _expected(_manifest(export_corpus.folder))
    assert facts != expected
    assert "lettre_dupont_1921.xml | Jean Durand | when=1921-03-04" in facts
    assert len(facts) == len(expected) - 1
