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
from pathlib import Path
from typing import NamedTuple

from ..errors import CorpusError, Issue
from ..manifest import MANIFEST_NAME
from . import ExportContext, StagedFolder, staged_folder
from .rocrate import METADATA_NAME, build_crate, crate_chunks, is_email

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
    """Write the bag as the folder ``out_dir/bag``; return its path.

    The payload is copied into the new folder file by file (each checked against the
    manifest's digest as it is copied), then the tag files are written from the digests
    gathered on the way: the corpus is never held in memory.
    """
    target = out_dir / BAG_NAME
    with staged_folder(target) as folder:
        payload = write_payload(ctx, folder)
        write_tags(ctx, folder, payload)
    return [target]


class Payload(NamedTuple):
    """What the tag files say of a payload file: its size and its digests (in ``ALGORITHMS`` order)."""

    size: int
    digests: tuple[str, ...]

    @classmethod
    def of(cls, data: bytes) -> Payload:
        return cls(len(data), tuple(hashlib.new(a, data).hexdigest() for a in ALGORITHMS))


_CHANGED = "changed while the bag was being made; run the export again"


def write_payload(ctx: ExportContext, folder: StagedFolder) -> dict[str, Payload]:
    """Write the payload: the TEI files and the manifest as they are on disk, and the RO-Crate metadata.

    Return the size and digests of each payload file, by path.
    """
    corpus = ctx.corpus
    payload: dict[str, Payload] = {}
    for entry in corpus.documents:
        tei = entry["tei"]
        if tei["path"] == METADATA_NAME:
            raise CorpusError(
                Issue(
                    "bag.name",
                    corpus.tei_path(entry).as_posix(),
                    f"is named like the RO-Crate metadata file {METADATA_NAME}; rename the source and ingest again",
                )
            )
        # The corpus was checked when it was opened; a file changed since must not be bagged
        # with the fixity of its former self.
        rel = f"data/{tei['path']}"
        digests = folder.copy(rel, corpus.tei_path(entry), tei["bytes"], tei["sha256"], _CHANGED, ALGORITHMS)
        payload[rel] = Payload(tei["bytes"], tuple(digests[a] for a in ALGORITHMS))
    manifest = corpus.manifest
    rel = f"data/{MANIFEST_NAME}"
    digests = folder.copy(rel, corpus.folder / MANIFEST_NAME, manifest.size, manifest.sha256, _CHANGED, ALGORITHMS)
    payload[rel] = Payload(manifest.size, tuple(digests[a] for a in ALGORITHMS))
    # The RO-Crate is written an entity at a time (ingest.export.rocrate.crate_chunks).
    size, digests = folder.write(f"data/{METADATA_NAME}", crate_chunks(build_crate(ctx, manifest.size)), ALGORITHMS)
    payload[f"data/{METADATA_NAME}"] = Payload(size, tuple(digests[a] for a in ALGORITHMS))
    return payload


def write_tags(ctx: ExportContext, folder: StagedFolder, payload: Mapping[str, Payload]) -> None:
    """Write bagit.txt, bag-info.txt, the payload manifests and the tag manifests."""
    tags: dict[str, bytes] = {"bagit.txt": BAGIT_TXT}
    for algorithm in ALGORITHMS:
        tags[f"manifest-{algorithm}.txt"] = render_manifest(algorithm, payload)
    # Bag-Size counts the whole bag, bag-info.txt and the tag manifests included; their size
    # depends on the value written, so it is computed again until it no longer changes.
    payload_size = sum(p.size for p in payload.values())
    size = ""
    manifests: dict[str, bytes] = {}
    for _ in range(4):
        tags["bag-info.txt"] = render_bag_info(ctx, payload, size)
        described = {name: Payload.of(data) for name, data in tags.items()}
        manifests = {f"tagmanifest-{algorithm}.txt": render_manifest(algorithm, described) for algorithm in ALGORITHMS}
        total = format_size(payload_size + sum(len(data) for data in (*tags.values(), *manifests.values())))
        if total == size:
            break
        size = total
    for name, data in (*tags.items(), *manifests.items()):
        folder.add(name, data)


def encode_path(path: str) -> str:
    """Return a file path as a manifest line writes it: CR, LF and % percent-encoded (RFC 8493 §2.1.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_manifest(algorithm: str, files: Mapping[str, Payload]) -> bytes:
    """Return a (tag) manifest: one ``checksum  path`` line per file, sorted by path (RFC 8493 §2.1.3)."""
    k = ALGORITHMS.index(algorithm)
    lines = [f"{files[path].digests[k]}  {encode_path(path)}\n" for path in sorted(files)]
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
