"""Read source files: raw bytes -> :class:`SourceDocument` (fixity, encoding, text).

Decoding tries, in order: a byte-order mark (UTF-8, UTF-16, UTF-32), strict UTF-8,
UTF-16 without a BOM (recognised by its NUL pattern), then Windows-1252 or ISO-8859-1.
A file that is mostly UTF-8 with some invalid sequences is refused rather than guessed,
so that no character of the evidence is silently replaced.

Normalisation never changes a word: line ends become LF and the text is put in Unicode
NFC (canonical composition, TEI Guidelines vi.2 "Characters and Character Sets").
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import unicodedata
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from .errors import Issue, SourceError
from .model import SourceDocument

#: Magic numbers of formats that people put in a text folder by mistake.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF file: extract its text first (for example with pdftotext)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image: run OCR on it first"),
    (b"\xff\xd8\xff", "a JPEG image: run OCR on it first"),
    (b"GIF8", "a GIF image: run OCR on it first"),
    (b"II*\x00", "a TIFF image: run OCR on it first"),
    (b"MM\x00*", "a TIFF image: run OCR on it first"),
    (b"PK\x03\x04", "a ZIP container (DOCX, ODT, ...): export it as plain text first"),
    (b"\xd0\xcf\x11\xe0", "an OLE document (DOC, XLS): export it as plain text first"),
    (b"{\\rtf", "an RTF document: export it as plain text first"),
)

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16BE"),
)

# C0/C1 controls other than TAB, LF, CR and FF (a form feed is a page break in
# PDF extractions and is kept as such).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


def _line_of(data: bytes, offset: int) -> int:
    """Return the 1-based line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def _looks_utf16(data: bytes) -> str | None:
    """Return 'utf-16-le' or 'utf-16-be' when the NUL bytes fall like UTF-16 text's."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nul = data[0::2].count(0)
    odd_nul = data[1::2].count(0)
    half = len(data) // 2
    if odd_nul > 0.4 * half and even_nul < 0.05 * half:
        return "utf-16-le"
    if even_nul > 0.4 * half and odd_nul < 0.05 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, path: str) -> tuple[str, str]:
    """Decode raw bytes; return (text, encoding label) or raise SourceError."""
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise SourceError(Issue("source.binary", path, f"is {what}"))
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError as exc:
                raise SourceError(
                    Issue(
                        "source.undecodable",
                        path,
                        f"starts with a {label} byte-order mark but byte {exc.start} is not "
                        f"valid {label}: re-save the file as UTF-8",
                        _line_of(data, exc.start),
                    )
                ) from None
    utf8_error: UnicodeDecodeError | None = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:
        if b"\x00" not in data:
            return text, "UTF-8"
    utf16 = _looks_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), utf16.upper()
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise SourceError(
            Issue(
                "source.binary",
                path,
                "contains NUL bytes and is not UTF-16 text: it looks like a binary file; "
                "convert it to plain text first",
                _line_of(data, data.index(b"\x00")),
            )
        )
    # Valid UTF-8 multi-byte sequences before the first invalid byte mean the file is
    # UTF-8 with damage, not a legacy single-byte encoding: refuse rather than guess.
    if utf8_error is None:  # pragma: no cover - NUL-free UTF-8 returned above
        raise SourceError(Issue("source.binary", path, "is not text"))
    head = data[: utf8_error.start]
    if re.search(rb"[\xc2-\xf4][\x80-\xbf]", head):
        raise SourceError(
            Issue(
                "source.undecodable",
                path,
                f"is UTF-8 but byte {utf8_error.start} (0x{data[utf8_error.start]:02x}) is not "
                "valid UTF-8: repair or re-export the file",
                _line_of(data, utf8_error.start),
            )
        )
    if _CP1252_ONLY.search(data):
        try:
            return data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            pass
    return data.decode("iso-8859-1"), "ISO-8859-1"


def normalise_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Normalise line ends to LF and Unicode to NFC; return text and what was done."""
    done: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
        done.append("byte-order mark removed")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        done.append("line ends normalised to LF")
    nfc = unicodedata.normalize("NFC", text)
    if nfc != text:
        text = nfc
        done.append("Unicode normalised to NFC")
    return text, tuple(done)


#: A source larger than this is refused: an archival document is far smaller, and a file
#: this size is almost always several documents run together or a damaged export.
MAX_SOURCE_BYTES = 8 * 1024 * 1024
#: A line longer than this means the text lost its line breaks (a damaged export).
MAX_LINE_CHARS = 200_000


def _refuse_unbroken(path: Path, shown: str) -> None:
    """Refuse a file too large to read whose start has no line break: one long line, not many documents.

    Only the start is read (at most four bytes a character of the longest line allowed), so
    the diagnosis costs no more memory than a source within the limits.
    """
    with open(path, "rb") as fh:
        head = fh.read(4 * MAX_LINE_CHARS + 4)
    if b"\n" not in head and b"\r" not in head:
        raise SourceError(Issue(
            "source.long-line", shown,
            f"has no line break in its first {len(head):,} bytes (the limit for a line is {MAX_LINE_CHARS:,} "
            "characters): the text lost its line breaks; re-export it with its lines"))


def read_source(path: Path, display: str | None = None, *, max_bytes: int = MAX_SOURCE_BYTES) -> SourceDocument:
    """Read one source file from disk and return it decoded, with its fixity."""
    shown = display or path.as_posix()
    try:
        st = path.stat()
        if not S_ISREG(st.st_mode) and not S_ISDIR(st.st_mode):  # (a folder: said below)
            raise SourceError(Issue("source.unreadable", shown, "is not a regular file (a device or a pipe): "
                                    "not read; leave it out of the sources"))
        size = st.st_size
        if size > max_bytes:
            _refuse_unbroken(path, shown)
            raise SourceError(Issue(
                "source.too-large", shown,
                f"is {size:,} bytes, over the limit of {max_bytes:,}: split it into its documents "
                "(or raise the limit with --max-bytes if it really is one document)"))
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError(Issue("source.unreadable", shown,
                                "is a directory, not a file: rename it or leave it out of the sources")) from None
    except PermissionError:
        raise SourceError(
            Issue("source.unreadable", shown, "cannot be read (permission denied): check its permissions")
        ) from None
    except OSError as exc:
        hint = "fix or remove the link" if exc.errno == errno.ELOOP else "check that it exists and can be read"
        raise SourceError(Issue("source.unreadable", shown, f"cannot be read ({exc.strerror}): {hint}")) from None
    if not data:
        raise SourceError(Issue("source.empty", shown, "is empty (0 bytes): nothing to encode"))
    raw_text, encoding = decode_bytes(data, shown)
    text, done = normalise_text(raw_text)
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise SourceError(
            Issue(
                "source.control",
                shown,
                f"contains the control character U+{ord(bad.group()):04X}, which XML cannot "
                "carry: remove it or convert the file properly",
                line,
            )
        )
    if not text.strip():
        raise SourceError(Issue("source.empty", shown, "contains only white space: nothing to encode"))
    longest = max(map(len, text.split("\n")))
    if longest > MAX_LINE_CHARS:
        raise SourceError(Issue(
            "source.long-line", shown,
            f"has a line of {longest:,} characters (the limit is {MAX_LINE_CHARS:,}): the text lost its "
            "line breaks; re-export it with its lines"))
    name = os.path.basename(shown)
    return SourceDocument(
        path=shown,
        name=name,
        stem=Path(name).stem,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        media_type="text/plain",
        text=text,
        normalisations=done,
    )
