"""A zip bomb — a 1 MB DOCX whose [Content_Types].xml inflates to 1 GiB — is refused at once,
in plain words, without inflating it; a normal office document of the same size is accepted.
The bomb is built here, streamed (full-flush deflate blocks repeat byte for byte), in a second."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from forum.extensions import db
from forum.threads.attachments import AttachmentError, detect_type
from forum.threads.models import Attachment, Post
from tests.support.threads import Threads

DOCX_TYPES = (
    '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
GIB = 1 << 30


def _entry(name: bytes, raw: bytes, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    fields = (20, 0, 8, 0, 0x21, crc, len(raw), size, len(name))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + name + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset)
    return local, central + name


def bomb_docx(inflated: int = GIB) -> bytes:
    """A valid DOCX whose [Content_Types].xml inflates to `inflated` bytes of one XML document."""
    head = DOCX_TYPES.encode()
    mib = b" " * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(mib) + packer.flush(zlib.Z_FULL_FLUSH)  # the same bytes every time
    blocks = inflated >> 20
    raw = first + block * blocks + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(blocks):
        crc = zlib.crc32(mib, crc)
    size = len(head) + (blocks << 20)
    document = zlib.compressobj(9, zlib.DEFLATED, -15)
    doc_raw = document.compress(b"<w:document/>") + document.flush()
    local1, central1 = _entry(b"[Content_Types].xml", raw, crc, size, 0)
    local2, central2 = _entry(
        b"word/document.xml", doc_raw, zlib.crc32(b"<w:document/>"), 13, len(local1)
    )
    directory = central1 + central2
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), len(local1) + len(local2), 0
    )
    return local1 + local2 + directory + end


def normal_docx(size: int = 1 << 20) -> bytes:
    """An ordinary DOCX of about `size` bytes (an embedded photo that does not compress)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr(
            "word/document.xml", "<w:document>" + "<w:p>Lesson</w:p>" * 2000 + "</w:document>"
        )
        archive.writestr("word/media/image1.jpeg", os.urandom(size))
    return buffer.getvalue()


@pytest.fixture
def threads(app) -> Threads:  # type: ignore[no-untyped-def]
    """Threads built through the service (as in tests/threads)."""
    return Threads()


def test_the_bomb_is_a_real_one_mb_docx_that_inflates_to_a_gibibyte():
    bomb = bomb_docx()
    assert len(bomb) < 1_200_000
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("[Content_Types].xml")
    assert info.file_size > GIB
    with zipfile.ZipFile(io.BytesIO(bomb)).open(info) as entry:
        assert entry.read(len(DOCX_TYPES)).decode() == DOCX_TYPES


def test_zip_bomb_is_refused_in_plain_words(app):
    with pytest.raises(AttachmentError, match="zip bomb"):
        detect_type(bomb_docx())


def test_zip_bomb_attached_to_a_reply_is_refused_at_the_field_and_the_text_kept(
    members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author)
    browser = make_browser(author)
    # Encoded in memory: the test client would spool a body this large to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": browser.csrf_token(),
            "body": "Our intake form, as a document.",
            "attachment": FileStorage(io.BytesIO(bomb_docx()), "intake.docx"),
        }
    )
    response = browser._run(
        browser.client.post,
        f"/threads/{thread.id}/posts",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "zip bomb" in page and "Our intake form, as a document." in page
    assert db.session.scalar(select(Attachment.id)) is None
    assert db.session.scalar(select(Post.id).where(Post.seq == 2)) is None


def test_an_entry_that_lies_about_its_size_is_still_read_only_a_little(app):
    bomb = bytearray(bomb_docx(64 << 20))
    # Claim in the central directory that the entry inflates to only 2 KB.
    directory = bomb.index(b"PK\x01\x02")
    struct.pack_into("<I", bomb, directory + 24, 2048)
    with pytest.raises(AttachmentError):
        detect_type(bytes(bomb))


def test_a_normal_docx_of_the_same_size_is_accepted(app):
    assert detect_type(normal_docx()).endswith("wordprocessingml.document")


def test_an_archive_of_too_many_entries_is_refused_before_it_is_listed(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        for n in range(2_001):
            archive.writestr(f"word/p{n}.xml", "")
    with pytest.raises(AttachmentError, match="too many files"):
        detect_type(buffer.getvalue())
