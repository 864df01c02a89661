"""The manifest is streamed: written piece by piece from the run's ledger, read back one entry at a time.

The streamed bytes must be exactly those ``json.dumps`` gives for the whole manifest, and
an atomic write of pieces must behave like one of the whole: same bytes, nothing
rewritten when nothing changed, nothing left behind when it fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ingest.ledger import Ledger, compact_json, pretty_json
from ingest.manifest import manifest_chunks
from ingest.serialize import write_atomic_chunks

ENTRY = {"id": "doc-a", "title": "Lettre à « Mme » X\n", "tei": {"path": "a.xml", "bytes": 3, "sha256": "0" * 64},
         "languages": [{"code": "fr", "percent": 100}], "date": None, "senders": [], "type": "letter",
         "language": "fr"}


def _entries(n: int) -> list[dict[str, Any]]:
    return [{**ENTRY, "id": f"doc-{i}", "tei": {**ENTRY["tei"], "path": f"{i:03d}.xml"}} for i in range(n)]


@pytest.mark.parametrize("count", [0, 1, 3, 200])
@pytest.mark.parametrize("with_pending", [False, True])
def test_streamed_manifest_is_byte_for_byte_json_dumps(count: int, with_pending: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.manifest

    monkeypatch.setattr(ingest.manifest, "CHUNK_BYTES", 512)  # many pieces, cut anywhere
    head = {"manifest_version": "1.0", "corpus": {"title": 'A "documents" corpus', "n": [1, 2]},
            "rejected": [{"source": {"path": "x.txt"}}], "totals": {"accepted": count},
            "deleted": [{"tei_path": "z.xml"}]}
    documents = _entries(count)
    pending = [{"document": documents[0] if documents else None, "previous": None}] if with_pending else []
    whole = {**head, "documents": documents, **({"pending": pending} if with_pending else {})}

    compact = b"".join(manifest_chunks(head, map(compact_json, documents),
                                       map(compact_json, pending) if with_pending else None, compact=True))
    assert compact == (compact_json(whole) + "\n").encode()
    if not with_pending:  # the finished manifest has no journal
        indented = b"".join(manifest_chunks(head, map(pretty_json, documents)))
        assert indented == (json.dumps(whole, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def test_atomic_write_of_pieces(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    pieces = [b"abc", b"", b"defgh", b"i" * 5000]
    assert write_atomic_chunks(path, iter(pieces)) is True
    assert path.read_bytes() == b"".join(pieces)
    inode = path.stat().st_ino
    # the same bytes, cut differently: the file is left alone
    assert write_atomic_chunks(path, iter([b"abcdefgh", b"i" * 5000])) is False
    assert path.stat().st_ino == inode
    # a prefix of the file, the file and more, a change in the middle: each is written
    for data in (b"abcdefgh", b"".join(pieces) + b"j", b"abcdeXgh" + b"i" * 5000):
        assert write_atomic_chunks(path, iter([data[:4], data[4:]])) is True
        assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_a_failing_stream_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"old")

    def pieces() -> Any:
        yield b"new and longer"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        write_atomic_chunks(path, pieces())
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_the_ledger_reads_what_the_manifest_lists_and_only_what_is_there(tmp_path: Path) -> None:
    """An entry counts as listed when its file is there with its digest; tombstones and the journal are read."""
    import hashlib

    there, changed = b"<TEI/>\n", b"<TEI>changed</TEI>\n"
    (tmp_path / "a.xml").write_bytes(there)
    (tmp_path / "b.xml").write_bytes(changed)

    def entry(name: str, data: bytes) -> dict[str, Any]:
        return {"id": f"doc-{name}", "title": name, "type": "letter", "language": "fr",
                "tei": {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}}

    manifest = {"documents": [entry("a.xml", there), entry("b.xml", there)],
                "pending": [{"document": entry("c.xml", there), "previous": None}],
                "deleted": [{"id": "doc-z", "tei_path": "z.xml", "title": "z", "deleted": "2026-01-01T00:00:00Z"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    with Ledger(tmp_path) as ledger:
        assert ledger.size == 1
        assert [json.loads(e)["tei"]["path"] for e in ledger.listed()] == ["a.xml"]
        assert ledger.listed_entry("a.xml") == (hashlib.sha256(there).hexdigest(),
                                                json.dumps(manifest["documents"][0], sort_keys=True,
                                                           separators=(",", ":")))
        assert ledger.listed_entry("b.xml") is None  # its file changed
        assert [t["tei_path"] for t in ledger.earlier_tombstones()] == ["z.xml"]
        # nothing written this run: every document once listed (a, b, and c of the journal) gets a tombstone
        assert [t["tei_path"] for t in ledger.tombstones("2026-12-01T00:00:00Z")] == ["a.xml", "b.xml", "c.xml",
                                                                                     "z.xml"]


@pytest.mark.parametrize("damage", [b"", b"{", b'{"documents": [{"tei": {"path": "a.xml"', b"\xff\xfe",
                                    b"[1, 2]", b'{"documents": 3}', b'{"documents": [1, "x", null, {"tei": 2}]}'])
def test_a_manifest_that_cannot_be_read_lists_nothing(tmp_path: Path, damage: bytes) -> None:
    (tmp_path / "a.xml").write_bytes(b"<TEI/>\n")
    (tmp_path / "manifest.json").write_bytes(damage)
    with Ledger(tmp_path) as ledger:
        assert ledger.size == 0
        assert list(ledger.listed()) == []


def test_the_ledger_lives_on_disk_not_in_the_folder(tmp_path: Path) -> None:
    """The ledger's database is a private temporary file: nothing of it appears in the output folder."""
    with Ledger(tmp_path) as ledger:
        for i in range(2000):
            ledger.add_written(1999 - i, f"{i:05d}.xml", 10, "letter", "fr", pretty_json(ENTRY), (f"{i:05d}", "y"))
        assert sum(1 for _ in ledger.written()) == 2000
        rows = list(ledger.rows())  # in source order (seq), not by name
        assert rows[0] == ("01999", "y") and rows[-1] == ("00000", "y") and len(rows) == 2000
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("at", [0, 1, 5, 6, 7, 8, 30])
def test_a_key_is_found_wherever_the_blocks_cut_it(tmp_path: Path, at: int) -> None:
    from ingest.ledger import _mentions

    path = tmp_path / "m.json"
    path.write_bytes(b"x" * at + b'"pending"' + b"y" * 20)
    with path.open("rb") as fh:
        assert _mentions(fh, b'"pending"', block=7)
        assert not _mentions(fh, b'"deleted"', block=7)
