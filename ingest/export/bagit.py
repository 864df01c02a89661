"""BagIt 1.0 bag of the corpus (RFC 8493), with an RO-Crate in its payload: ``DIR/bag/``.

The payload (``data/``) is the corpus as it stands: every TEI file the manifest lists and
``manifest.json``, byte for byte, plus ``ro-crate-metadata.json``, which makes ``data/``
an RO-Crate 1.1 root (see :mod:`ingest.export.rocrate`). Fixity is given twice, sha512
and sha256 (RFC 8493 §2.4 recommends both), for the payload (§2.1.3) and for the tag
files (§2.2.1). ``bag-info.txt`` (§2.2.2) is taken from the manifest's description of
the corpus, so that it says what the bagged manifest says, and names the BagIt profile
the bag follows (``schemas/bagit-profile.json``). The bag is written as a whole folder
(its files are copied from the corpus, checked against their digests as they are), so a
reader never sees a bag whose manifests do not match its files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusError, Issue
from ..manifest import MANIFEST_NAME
from . import ExportContext, FileCopy, write_folder
from .rocrate import METADATA_NAME, build_crate, encode_crate, is_email

BAG_NAME = "bag"
#: The profile the bag follows; the identifier of ``schemas/bagit-profile.json`` (BagIt Profiles 1.3.0).
PROFILE_ID = "https://tei-ingest.invalid/schemas/bagit-profile.json"
#: Payload and tag manifests, strongest first (RFC 8493 §2.4).
ALGORITHMS = ("sha512", "sha256")
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
# RFC 8493 §2.2.2 allows long values to be folded; RFC 5322 §2.1.1 asks for lines of at most 78
# characters, which keeps bag-info.txt readable in any terminal.
_LINE = 78


def write(ctx: ExportContext, out_dir: Path) -> list[Path]:
    """Write the bag as the folder ``out_dir/bag``; return its path."""
    return [write_folder(out_dir / BAG_NAME, build_bag(ctx))]


@dataclass(frozen=True, slots=True)
class Payload:
    """A payload file: its size and digests, and where its bytes are (a corpus file, or made here)."""

    size: int
    digests: Mapping[str, str]
    content: bytes | FileCopy

    @classmethod
    def of(cls, data: bytes) -> Payload:
        return cls(len(data), {a: hashlib.new(a, data).hexdigest() for a in ALGORITHMS}, data)


def build_bag(ctx: ExportContext) -> dict[str, bytes | FileCopy]:
    """Return every file of the bag (relative POSIX path to its bytes, or to the corpus file it copies)."""
    payload = read_payload(ctx)
    files: dict[str, bytes | FileCopy] = {path: p.content for path, p in payload.items()}
    tags: dict[str, Payload] = {"bagit.txt": Payload.of(BAGIT_TXT)}
    for algorithm in ALGORITHMS:
        tags[f"manifest-{algorithm}.txt"] = Payload.of(render_manifest(algorithm, payload))
    # Bag-Size counts the whole bag, bag-info.txt and the tag manifests included; their size
    # depends on the value written, so it is computed again until it no longer changes.
    size = ""
    payload_size = sum(p.size for p in payload.values())
    for _ in range(4):
        tags["bag-info.txt"] = Payload.of(render_bag_info(ctx, payload, size))
        manifests = {f"tagmanifest-{algorithm}.txt": Payload.of(render_manifest(algorithm, tags))
                     for algorithm in ALGORITHMS}
        total = format_size(payload_size + sum(p.size for p in (*tags.values(), *manifests.values())))
        if total == size:
            break
        size = total
    for name, p in (*tags.items(), *manifests.items()):
        files[name] = p.content
    return files


def read_payload(ctx: ExportContext) -> dict[str, Payload]:
    """Return the payload: the TEI files and the manifest as they are on disk, and the RO-Crate metadata.

    Each corpus file is read once for its digests and copied when the bag is written,
    checked again then; the corpus is never held in memory.
    """
    corpus = ctx.corpus
    payload: dict[str, Payload] = {}
    for entry in corpus.documents:
        tei = entry["tei"]
        shown = corpus.tei_path(entry).as_posix()
        if tei["path"] == METADATA_NAME:
            raise CorpusError(
                Issue(
                    "bag.name",
                    shown,
                    f"is named like the RO-Crate metadata file {METADATA_NAME}; rename the source and ingest again",
                )
            )
        try:
            data = corpus.tei_bytes(entry)
        except OSError as exc:
            raise CorpusError(Issue("fixity.unreadable", shown, f"cannot be read: {exc.strerror}")) from None
        # The corpus was checked when it was opened; a file changed since must not be bagged
        # with the fixity of its former self.
        if len(data) != tei["bytes"] or hashlib.sha256(data).hexdigest() != tei["sha256"]:
            raise CorpusError(
                Issue("fixity.changed", shown, "changed while the bag was being made; run the export again")
            )
        payload[f"data/{tei['path']}"] = Payload(
            len(data), {"sha512": hashlib.sha512(data).hexdigest(), "sha256": tei["sha256"]},
            FileCopy(corpus.tei_path(entry), len(data), tei["sha256"]))
    manifest_path = corpus.folder / MANIFEST_NAME
    digests = {a: hashlib.new(a) for a in ALGORITHMS}
    size = 0
    try:
        with manifest_path.open("rb") as fh:
            while block := fh.read(1 << 20):
                size += len(block)
                for d in digests.values():
                    d.update(block)
    except OSError as exc:
        raise CorpusError(
            Issue("manifest.unreadable", manifest_path.as_posix(), f"cannot be read: {exc.strerror}")
        ) from None
    if size != corpus.manifest.size or digests["sha256"].hexdigest() != corpus.manifest.sha256:
        raise CorpusError(
            Issue(
                "fixity.changed", manifest_path.as_posix(), "changed while the bag was being made; run the export again"
            )
        )
    payload[f"data/{MANIFEST_NAME}"] = Payload(size, {a: d.hexdigest() for a, d in digests.items()},
                                               FileCopy(manifest_path, size, corpus.manifest.sha256))
    payload[f"data/{METADATA_NAME}"] = Payload.of(encode_crate(build_crate(ctx, size)))
    return dict(sorted(payload.items()))


def encode_path(path: str) -> str:
    """Return a file path as a manifest line writes it: CR, LF and % percent-encoded (RFC 8493 §2.1.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_manifest(algorithm: str, files: Mapping[str, Payload]) -> bytes:
    """Return a (tag) manifest: one ``checksum  path`` line per file, sorted by path (RFC 8493 §2.1.3)."""
    lines = [f"{files[path].digests[algorithm]}  {encode_path(path)}\n" for path in sorted(files)]
    return "".join(lines).encode("utf-8")


def format_size(octets: int) -> str:
    """Return a size for people, as Bag-Size wants it (RFC 8493 §2.2.2: ``42.6 GB``)."""
    if octets < 1000:
        return f"{octets} bytes"
    value = float(octets)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def fold_tag(label: str, value: str) -> str:
    """Return one ``Label: value`` tag, folded before white space where longer than a line (RFC 8493 §2.2.2)."""
    # A value is one logical line: a line break in it would end the tag.
    line = f"{label}: {' '.join(value.splitlines()).strip()}"
    out: list[str] = []
    least = len(label) + 2  # never fold inside "Label: "
    while len(line) > _LINE:
        cut = line.rfind(" ", least, _LINE + 1)
        if cut < least:
            cut = line.find(" ", _LINE + 1)
            if cut < least:
                break  # a single word longer than a line is written whole
        # The continuation line starts with the space it was folded before, so that
        # unfolding (removing the line break, RFC 5322 §2.2.3) gives back the value.
        out.append(line[:cut])
        line = line[cut:]
        least = 1
    out.append(line)
    return "\n".join(out) + "\n"


def render_bag_info(ctx: ExportContext, payload: Mapping[str, Payload], bag_size: str) -> bytes:
    """Return ``bag-info.txt``: the reserved tags of RFC 8493 §2.2.2, sorted by label."""
    info = ctx.corpus.info
    tags: list[tuple[str, str]] = [
        ("Bag-Software-Agent", f"tei-ingest {ctx.build.version}"),
        ("BagIt-Profile-Identifier", PROFILE_ID),
        ("Bagging-Date", ctx.build.date),
        ("External-Identifier", info["id"]),
        ("Payload-Oxum", f"{sum(p.size for p in payload.values())}.{len(payload)}"),
        ("Source-Organization", info["publisher"]),
    ]
    if bag_size:
        tags.append(("Bag-Size", bag_size))
    if info["identifier_base"]:
        tags.append(("External-Identifier", info["identifier_base"]))
    if is_email(info["contact"]):
        tags.append(("Contact-Email", info["contact"].strip()))
    if info["description"].strip():
        tags.append(("External-Description", info["description"]))
    # A stable sort: a repeated label keeps its order (the corpus id before the identifier base).
    return "".join(fold_tag(label, value) for label, value in sorted(tags, key=lambda t: t[0])).encode("utf-8")
