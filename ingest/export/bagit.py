"""BagIt 1.0 bag of the corpus (RFC 8493), with an RO-Crate in its payload: ``DIR/bag/``.

The payload (``data/``) is the corpus as it stands: every TEI file the manifest lists and
``manifest.json``, byte for byte, plus ``ro-crate-metadata.json``, which makes ``data/``
an RO-Crate 1.1 root (see :mod:`ingest.export.rocrate`). Fixity is given twice, sha512
and sha256 (RFC 8493 §2.4 recommends both), for the payload (§2.1.3) and for the tag
files (§2.2.1). ``bag-info.txt`` (§2.2.2) is taken from the manifest's description of
the corpus, so that it says what the bagged manifest says, and names the BagIt profile
the bag follows (``schemas/bagit-profile.json``). The bag is built in memory and written
as a whole folder, so a reader never sees a bag whose manifests do not match its files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import CorpusError, Issue
from ..manifest import MANIFEST_NAME
from . import ExportContext, write_folder
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


def build_bag(ctx: ExportContext) -> dict[str, bytes]:
    """Return every file of the bag (relative POSIX path to bytes)."""
    payload = read_payload(ctx)
    files: dict[str, bytes] = dict(payload)
    files["bagit.txt"] = BAGIT_TXT
    for algorithm in ALGORITHMS:
        files[f"manifest-{algorithm}.txt"] = render_manifest(algorithm, payload)
    # Bag-Size counts the whole bag, bag-info.txt and the tag manifests included; their size
    # depends on the value written, so it is computed again until it no longer changes.
    size = ""
    for _ in range(4):
        files["bag-info.txt"] = render_bag_info(ctx, payload, size)
        tags = {name: files[name] for name in ("bagit.txt", "bag-info.txt", *(f"manifest-{a}.txt" for a in ALGORITHMS))}
        for algorithm in ALGORITHMS:
            files[f"tagmanifest-{algorithm}.txt"] = render_manifest(algorithm, tags)
        total = format_size(sum(len(data) for data in files.values()))
        if total == size:
            break
        size = total
    return files


def read_payload(ctx: ExportContext) -> dict[str, bytes]:
    """Return the payload: the TEI files and the manifest as they are on disk, and the RO-Crate metadata."""
    corpus = ctx.corpus
    payload: dict[str, bytes] = {}
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
        payload[f"data/{tei['path']}"] = data
    manifest_path = corpus.folder / MANIFEST_NAME
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError as exc:
        raise CorpusError(
            Issue("manifest.unreadable", manifest_path.as_posix(), f"cannot be read: {exc.strerror}")
        ) from None
    try:
        unchanged = json.loads(manifest_bytes) == corpus.manifest
    except ValueError:
        unchanged = False
    if not unchanged:
        raise CorpusError(
            Issue(
                "fixity.changed", manifest_path.as_posix(), "changed while the bag was being made; run the export again"
            )
        )
    payload[f"data/{MANIFEST_NAME}"] = manifest_bytes
    payload[f"data/{METADATA_NAME}"] = encode_crate(build_crate(ctx, manifest_bytes))
    return dict(sorted(payload.items()))


def encode_path(path: str) -> str:
    """Return a file path as a manifest line writes it: CR, LF and % percent-encoded (RFC 8493 §2.1.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_manifest(algorithm: str, files: Mapping[str, bytes]) -> bytes:
    """Return a (tag) manifest: one ``checksum  path`` line per file, sorted by path (RFC 8493 §2.1.3)."""
    lines = [f"{hashlib.new(algorithm, files[path]).hexdigest()}  {encode_path(path)}\n" for path in sorted(files)]
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


def render_bag_info(ctx: ExportContext, payload: Mapping[str, bytes], bag_size: str) -> bytes:
    """Return ``bag-info.txt``: the reserved tags of RFC 8493 §2.2.2, sorted by label."""
    info = ctx.corpus.info
    tags: list[tuple[str, str]] = [
        ("Bag-Software-Agent", f"tei-ingest {ctx.build.version}"),
        ("BagIt-Profile-Identifier", PROFILE_ID),
        ("Bagging-Date", ctx.build.date),
        ("External-Identifier", info["id"]),
        ("Payload-Oxum", f"{sum(len(data) for data in payload.values())}.{len(payload)}"),
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
