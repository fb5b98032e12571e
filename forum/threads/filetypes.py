"""What a file really is, read from a bounded number of its bytes, and whether its name agrees.

A file is accepted only if its bytes are a PDF, an office document (docx/xlsx/pptx by their
[Content_Types].xml; odt/ods/odp by their `mimetype` entry), a PNG/JPEG/GIF/WebP image or
plain UTF-8 text that is not HTML, and only if its name ends as that kind of file does.

An office document is a zip archive, and an archive can be a bomb (a 1 MB file whose
[Content_Types].xml inflates to 1 GiB). Detection never inflates a whole entry: it refuses an
archive with too many entries, an entry that says it inflates past ENTRY_LIMIT or expands more
than RATIO_LIMIT times, and reads at most PEEK_BYTES of the one entry it needs (the zip reader
inflates only as much as it is asked for, whatever the archive claims). OWASP's file-upload
guidance and the limits of common office-document validators are the model for these numbers.
"""

from __future__ import annotations

import io
import struct
import zipfile

import filetype
from flask_babel import gettext as _

from forum.errors import Invalid
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
ODF = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
TEXT = "text/plain; charset=utf-8"
# The names each kind of file may carry ("" is a name with no extension).
EXTENSIONS = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {"pptx"},
    "application/vnd.oasis.opendocument.text": {"odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {"ods"},
    "application/vnd.oasis.opendocument.presentation": {"odp"},
    TEXT: {"txt", "text", "md", "csv", "log", ""},
}
NAMES: dict[str, Text] = {
    "application/pdf": _l("a PDF"),
    TEXT: _l("plain text"),
}
HTML_MARKERS = (b"<!doctype", b"<html", b"<script", b"<body", b"<head", b"<svg", b"<iframe")
SIGNATURE_BYTES = 8192  # what filetype needs to recognise any kind it knows
PEEK_BYTES = 64 * 1024  # of [Content_Types].xml or `mimetype`: both are a few hundred bytes
MAX_ENTRIES = 2_000
ENTRY_LIMIT = 64 * 1024 * 1024
RATIO_LIMIT = 200

REFUSED = _l(
    "This kind of file is not accepted. Attach PDFs, office documents, images "
    "(PNG, JPEG, GIF, WebP) or plain text."
)
BOMB = _l(
    "This archive inflates to far more than its size (it looks like a zip bomb), "
    "so it was refused. Save the document again and attach that copy."
)

TOO_MANY = _l("This archive holds too many files to be an office document, so it was refused.")


class FileTypeError(Invalid):
    """The file was refused; the message is a plain sentence, said at the attachment field."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, field="attachment")


def _peek(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as entry:
        head = entry.read(PEEK_BYTES + 1)
    if len(head) > PEEK_BYTES:
        raise FileTypeError(str(BOMB))
    return head


def _declared_entries(data: bytes) -> int:
    """How many entries the archive's end record says it holds, read before the zip reader
    builds one object per entry (a zip64 record means far more than any office document)."""
    tail = data[-(65536 + 22) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 12 > len(tail):
        return 0
    count = int(struct.unpack_from("<H", tail, at + 10)[0])
    return MAX_ENTRIES + 1 if count == 0xFFFF else count


def _office_type(data: bytes) -> str | None:
    if _declared_entries(data) > MAX_ENTRIES:
        raise FileTypeError(str(TOO_MANY))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise FileTypeError(str(TOO_MANY))
        for info in entries:
            if info.file_size > ENTRY_LIMIT or info.file_size > RATIO_LIMIT * max(
                info.compress_size, 1024
            ):
                raise FileTypeError(str(BOMB))
        by_name = {info.filename: info for info in entries}
        if "mimetype" in by_name:
            declared = _peek(archive, by_name["mimetype"]).decode("ascii", "replace").strip()
            return declared if declared in ODF else None
        if "[Content_Types].xml" in by_name:
            types = _peek(archive, by_name["[Content_Types].xml"]).decode("utf-8", "replace")
            for marker, mime in OOXML.items():
                if marker in types:
                    return mime
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        KeyError,
        RuntimeError,
        NotImplementedError,
        EOFError,
        ValueError,
    ):
        return None
    return None


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text[:4096].lstrip().lower().encode()
    return not any(marker in head for marker in HTML_MARKERS)


def detect_type(data: bytes) -> str:
    """The content type of the bytes, if they are of an accepted kind; FileTypeError otherwise."""
    kind = filetype.guess(data[:SIGNATURE_BYTES])
    if kind is not None:
        if kind.mime == "application/pdf" or kind.mime in IMAGE_TYPES:
            return str(kind.mime)
        if kind.mime == "application/zip" or kind.extension in {
            "docx",
            "xlsx",
            "pptx",
            "odt",
            "ods",
            "odp",
        }:
            office = _office_type(data)
            if office:
                return office
        raise FileTypeError(str(REFUSED))
    if data and _is_plain_text(data):
        return TEXT
    raise FileTypeError(
        _(
            "This file is not what its name says, or not of a kind the Exchange accepts. Attach "
            "PDFs, office documents, images (PNG, JPEG, GIF, WebP) or plain text."
        )
    )


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].casefold() if "." in name.lstrip(".") else ""


def check_name(mime: str, filename: str, declared: str | None = None) -> None:
    """Refuse a file whose name (or the type the browser declared) says another kind than its bytes."""
    extension = _extension(filename)
    allowed = EXTENSIONS.get(mime, set())
    declared_kind = (declared or "").split(";")[0].strip().casefold()
    known = {m.split(";")[0] for m in EXTENSIONS} - {"text/plain"}
    if extension not in allowed or (declared_kind in known and declared_kind != mime):
        what = NAMES.get(mime, _l("an image") if mime in IMAGE_TYPES else _l("an office document"))
        shown = f"“.{extension}”" if extension else _("no extension")
        raise FileTypeError(
            _(
                "This file is named with %(name)s but its content is %(kind)s: "
                "the name and the content must agree. Rename it, or attach the right file.",
                name=shown,
                kind=what,
            )
        )
