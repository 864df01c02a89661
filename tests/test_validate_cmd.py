"""`tei-ingest validate`: every file gets a verdict; hostile XML is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.validate import MAX_BYTES, FileVerdict, _read

from .conftest import ROOT

TEI = "http://www.tei-c.org/ns/1.0"

#: Ten levels of entities, each ten of the one before: 10 GB of "lol" from a file of 1 KB.
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    + ']>\n<x>&l9;</x>\n'
)
EXTERNAL = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY p SYSTEM "file:///etc/passwd">]>\n<x>&p;</x>\n'


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "good": ROOT / "tei" / "000_22c6ae8344106c7e.xml",
        "laughs": tmp_path / "laughs.xml",
        "external": tmp_path / "external.xml",
        "broken": tmp_path / "broken.xml",
        "invalid": tmp_path / "invalid.xml",
    }
    out["laughs"].write_text(BILLION_LAUGHS, encoding="utf-8")
    out["external"].write_text(EXTERNAL, encoding="utf-8")
    out["broken"].write_text("<TEI><teiHeader></TEI>\n", encoding="utf-8")
    out["invalid"].write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0"><foo/></TEI>\n', encoding="utf-8")
    return out


def test_every_file_gets_a_verdict(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", *(str(p) for p in files.values()), "--format", "json"])
    assert code == 1
    verdicts = {Path(v["path"]).stem: v for v in json.loads(capsys.readouterr().out)}
    assert verdicts["000_22c6ae8344106c7e"]["valid"] is True
    for name, rule in (("laughs", "xml.entities"), ("external", "xml.entities"),
                       ("broken", "well-formed"), ("invalid", "project-rng")):
        assert verdicts[name]["valid"] is False
        assert verdicts[name]["problems"][0]["rule"] == rule


def test_entities_are_expanded_or_refused_with_a_reason(files: dict[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    declared = tmp_path / "declared.xml"
    declared.write_text('<!DOCTYPE TEI [<!ENTITY who "<persName>Jean</persName>">]>\n'
                        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><x>&who;</x></TEI>\n', encoding="utf-8")
    undeclared = tmp_path / "undeclared.xml"
    undeclared.write_text('<!DOCTYPE TEI SYSTEM "tei_all.dtd">\n<TEI>a&mdash;b</TEI>\n', encoding="utf-8")
    (tmp_path / "tei_all.dtd").write_text('<!ENTITY mdash "&#x2014;">\n', encoding="utf-8")  # there, not read
    main(["validate", str(files["laughs"]), str(files["external"]), str(declared), str(undeclared),
          "--format", "json"])
    laughs, external, declared_v, undeclared_v = json.loads(capsys.readouterr().out)
    assert "billion laughs" in laughs["problems"][0]["message"]
    assert "the external entity 'p'; external entities are not read" in external["problems"][0]["message"]
    assert "'mdash', which it does not declare itself: DTDs are not read" in undeclared_v["problems"][0]["message"]
    assert [(p["rule"], p["line"]) for p in declared_v["problems"]][:1] == [("project-rng", 2)]
    # the entity is expanded, its element in the TEI namespace where it is referred to (libxml2
    # alone leaves it in none), its xmlns="" kept where the document undeclares the namespace
    declared.write_text('<!DOCTYPE TEI [<!ENTITY who "<persName>Jean</persName>">]>\n'
                        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>&who;<q xmlns="">&who;</q></p></TEI>\n',
                        encoding="utf-8")
    read = _read(declared, MAX_BYTES)
    assert isinstance(read, tuple)
    assert [el.tag for el in read[0].iter()] == [f"{{{TEI}}}TEI", f"{{{TEI}}}p", f"{{{TEI}}}persName", "q",
                                                 "persName"]


def test_defaults_and_parameter_entities_of_the_doctype_read_no_dtd(tmp_path: Path) -> None:
    # the internal subset's attribute defaults and parameter entities are applied; the DTD the
    # DOCTYPE names is not read, though it is there (its default and its entity are not applied)
    (tmp_path / "local.dtd").write_text('<!ATTLIST q colour CDATA "red">\n<!ENTITY who "Paul">\n',
                                        encoding="utf-8")
    doc = tmp_path / "doc.xml"
    doc.write_text('<!DOCTYPE TEI SYSTEM "local.dtd" [\n<!ATTLIST p rend CDATA "b">\n'
                   '<!ENTITY % decl "<!ENTITY who \'Jean\'>">\n%decl;\n]>\n'
                   '<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>&who;<q/></p></TEI>\n', encoding="utf-8")
    read = _read(doc, MAX_BYTES)
    assert not isinstance(read, FileVerdict), read
    p = read[0].getroot()[0]
    assert (p.get("rend"), p.text, dict(p[0].attrib)) == ("b", "Jean", {})
    # with an external entity declared, parameter entities are left as before: refused, with a reason
    doc.write_text('<!DOCTYPE TEI [\n<!ENTITY ext SYSTEM "local.dtd">\n<!ENTITY % decl "<!ENTITY who \'J\'>">\n'
                   '%decl;\n]>\n<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>&ext;</p></TEI>\n', encoding="utf-8")
    read = _read(doc, MAX_BYTES)
    assert isinstance(read, FileVerdict)
    assert read.problems[0].rule == "xml.entities"
    assert "parameter entity 'decl' in a DOCTYPE that also declares external entities" in read.problems[0].message


def test_text_lines_name_file_line_and_rule(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(files["broken"])]) == 1
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"{files['broken']}:1:") and line.endswith("[well-formed]") and ": error: " in line


def test_corpus_is_valid_against_its_declared_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "tei"), "--schema", "declared"]) == 0


def test_github_annotations(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", str(files["broken"]), "--format", "github"])
    assert capsys.readouterr().out.startswith(f"::error file={files['broken']},line=1,")


def test_a_folder_named_like_a_file_is_searched_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "letters.xml" / "1921").mkdir(parents=True)
    (tmp_path / "letters.xml" / "1921" / "a.xml").write_text("<TEI><x/></TEI>\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not TEI", encoding="utf-8")
    main(["validate", "--format", "json", str(tmp_path)])
    assert [Path(v["path"]).relative_to(tmp_path).as_posix() for v in json.loads(capsys.readouterr().out)] == [
        "letters.xml/1921/a.xml"]


def test_missing_schema_file_exit_3(files: dict[str, Path]) -> None:
    assert main(["validate", str(files["good"]), "--schema", "/nonexistent.rng"]) == 3


def test_a_declared_schema_that_cannot_be_used_is_its_files_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # missing or not compilable: the files declaring it get an error, the others their verdict
    (tmp_path / "bad.rng").write_text('<grammar xmlns="http://relaxng.org/ns/structure/1.0">'
                                      '<start><ref name="nope"/></start></grammar>', encoding="utf-8")
    (tmp_path / "good.rng").write_text('<element name="doc" xmlns="http://relaxng.org/ns/structure/1.0">'
                                       "<text/></element>", encoding="utf-8")
    model = '<?xml-model href="{}" schematypens="http://relaxng.org/ns/structure/1.0"?>\n<doc>x</doc>\n'
    for name, href in (("a-missing", "nowhere.rng"), ("b-bad", "bad.rng"), ("c-good", "good.rng")):
        (tmp_path / f"{name}.xml").write_text(model.format(href), encoding="utf-8")
    assert main(["validate", "--schema", "declared", "--format", "json", str(tmp_path)]) == 1
    got = {Path(v["path"]).stem: v["problems"] for v in json.loads(capsys.readouterr().out)}
    assert got["c-good"] == []
    assert [(p["rule"], "no such schema file" in p["message"]) for p in got["a-missing"]] == [("declared", True)]
    assert [(p["rule"], "cannot be compiled" in p["message"]) for p in got["b-bad"]] == [("declared", True)]


#: Runs the command line in a fresh interpreter, then reports the peak memory of that
#: interpreter alone: VmHWM of its own address space (ru_maxrss would also count the pages
#: of the test process it was forked from).
_CHILD = """
import re, sys
from ingest.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
status = open("/proc/self/status", encoding="ascii").read()
print(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1), file=sys.stderr)
sys.exit(code)
"""


def _validate_in_child(*args: str) -> tuple[int, str, int]:
    """Run `tei-ingest validate` in a child process; return its exit code, stdout and peak memory (KiB)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _CHILD, "validate", "--schema", "project", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    return done.returncode, done.stdout, int(done.stderr.splitlines()[-1])


def test_huge_attribute_values_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A 1 GiB attribute value is refused by size, a 12 MB one by the parser; neither is held in memory."""
    tei = b'<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader n="'
    gib = tmp_path / "gib.xml"  # sparse: 1 GiB on paper, a few blocks on disk
    with open(gib, "wb") as fh:
        fh.write(tei)
        fh.seek(1 << 30)
        fh.write(b'"/></TEI>\n')
    twelve = tmp_path / "twelve.xml"
    twelve.write_bytes(tei + b"a" * 12_000_000 + b'"/></TEI>\n')
    code, out, rss_kib = _validate_in_child(str(gib), str(twelve))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{gib}:0:0: error: is 1,073,741,834 bytes, over the limit of 268,435,456; "
                               "raise --max-bytes to check it [size]")
    assert lines[1].startswith(f"{twelve}:1:")
    assert lines[1].endswith("a single attribute value or text node is over 10 MB (the parser's limit); "
                             "refused to bound memory [well-formed]")
    # The 12 MB file is read whole (its bytes, once); nothing near the 1 GiB value is ever allocated.
    assert rss_kib < 300 * 1024, f"peak memory {rss_kib} KiB"


#: What oXygen's TEI template writes: the RELAX NG and the Schematron model, one file.
XML_MODELS = (
    '<?xml-model href="{url}" type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>\n'
    '<?xml-model href="{url}" type="application/xml" schematypens="http://purl.oclc.org/dsdl/schematron"?>\n'
)
RELEASE = "http://www.tei-c.org/release/xml/tei/custom/schema/relaxng/tei_all.rng"


def test_declared_tei_all_at_its_tei_c_address_is_the_local_copy(
        tmp_path: Path, tei_all_file: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    letter = (ROOT / "tests" / "validate_cases" / "letter.xml").read_text(encoding="utf-8")
    vault = RELEASE.replace("release", "Vault/P5/4.6.0")
    epidoc = '<?xml-model href="https://epidoc.stoa.org/schema/latest/tei-epidoc.rng"?>\n'
    files = {
        "release": XML_MODELS.format(url=RELEASE) + letter,
        "vault": XML_MODELS.format(url=vault) + letter,
        "broken": XML_MODELS.format(url=RELEASE) + letter.replace("<salute>Mon cher ami,</salute>",
                                                                  "<salute>Mon cher ami,</salute><para/>"),
        "epidoc": epidoc + letter,
    }
    paths = []
    for name, text in files.items():
        paths.append(tmp_path / f"{name}.xml")
        paths[-1].write_text(text.replace('<?xml version="1.0" encoding="UTF-8"?>\n', ""), encoding="utf-8")
    assert main(["validate", "--schema", "declared", "--tei-all", str(tei_all_file), "--format", "json",
                 *map(str, paths)]) == 1
    got = {Path(v["path"]).stem: [(p["severity"], p["rule"], p["message"]) for p in v["problems"]]
           for v in json.loads(capsys.readouterr().out)}
    assert got["release"] == []
    # one warning, though both models name the file; the file is checked once
    ((severity, rule, message),) = got["vault"]
    assert (severity, rule) == ("warning", "declared") and "TEI P5 4.6.0" in message
    assert [(s, r) for s, r, _ in got["broken"]] == [("error", "relaxng")]
    assert "not a local file" in got["epidoc"][0][2]
    # without a local tei_all, the message says how to give one
    monkeypatch.delenv("TEI_ALL_RNG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--schema", "declared", "--format", "json", str(paths[0])]) == 1
    (problem,) = json.loads(capsys.readouterr().out)[0]["problems"]
    assert "set TEI_ALL_RNG or --tei-all" in problem["message"]
