"""Attachments are checked by their content, sealed on disk under a server-made name, served
only to readers as downloads that are never cached or sniffed, and never left half-written."""

from __future__ import annotations

import errno
import io
import os
import zipfile

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.threads import attachments
from forum.threads.attachments import AttachmentError, detect_type
from forum.threads.models import Attachment, Post

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


DOCX = _zip(
    {
        "[Content_Types].xml": '<Types><Override ContentType="application/vnd.'
        'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": "<w:document/>",
    }
)
ODT = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (ODT, "application/vnd.oasis.opendocument.text"),
        (b"Plain notes from the debrief.\n", "text/plain; charset=utf-8"),
    ],
)
def test_accepted_types_are_recognised_by_content(app, data, expected):
    assert detect_type(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",  # an "invoice.pdf" that is HTML
        b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        _zip({"evil.exe": "MZ"}),  # a zip that is not an office document
        b"\x00\x01\x02binary",
    ],
)
def test_other_content_is_refused_whatever_its_name(app, data):
    with pytest.raises(AttachmentError):
        detect_type(data)


def _upload(browser, thread_id: str, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return browser.post(
        f"/threads/{thread_id}/posts",
        {"body": "see the file", "attachment": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_pdf_that_is_really_html_is_refused_and_the_reply_text_kept(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author)
    response = _upload(make_browser(author), thread.id, b"<html><body>x</body></html>", "a.pdf")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "see the file" in page and "not what its name says" in page
    assert db.session.scalar(select(Attachment.id)) is None
    assert db.session.scalar(select(Post.id).where(Post.seq == 2)) is None


def test_reader_downloads_attachment_sealed_on_disk_with_safe_headers(
    members, threads, make_browser, instance
):
    author, reader = members.make(), members.make()
    thread = threads.start(author)
    assert _upload(make_browser(author), thread.id, PDF, "Report 2026.pdf").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    stored = instance / "attachments" / attachment.storage_name
    assert stored.exists() and b"%PDF" not in stored.read_bytes()
    assert "Report" not in attachment.storage_name
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    response = make_browser(reader).get(f"/threads/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Report_2026.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_file_over_the_size_limit_is_refused(members, threads, make_browser, app):
    app.config["EXCHANGE"]["uploads"]["max_bytes"] = 1000
    author = members.make()
    thread = threads.start(author)
    response = _upload(make_browser(author), thread.id, b"a" * 2000, "big.txt")
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)


def test_full_disk_leaves_nothing_half_written_and_says_so(
    members, threads, monkeypatch, instance, app
):
    author = members.make()
    thread = threads.start(author)
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))

    def full(fd: int) -> None:  # the disk fills while the file is being flushed to it
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(AttachmentError, match="no room"):
        attachments.add(
            uploader=author, thread=thread, post=post, filename="a.txt", data=b"some text"
        )
    monkeypatch.undo()
    assert list((instance / "attachments").iterdir()) == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"Plain notes, not a PDF at all.\n", "minutes.pdf"),
        (PDF, "minutes.txt"),
        (PNG, "photo.jpg.exe"),
        (b"just text", "script.exe"),
    ],
)
def test_file_whose_content_does_not_match_its_name_is_refused_in_plain_words(
    members, threads, make_browser, data, name
):
    author = members.make()
    thread = threads.start(author)
    response = _upload(make_browser(author), thread.id, data, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "the name and the content must agree" in page
    assert "see the file" in page
    assert db.session.scalar(select(Attachment.id)) is None


def test_text_file_is_served_as_a_text_download_with_the_detected_type(
    members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author)
    assert _upload(make_browser(author), thread.id, b"notes\n", "notes.txt").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    response = make_browser(author).get(f"/threads/attachments/{attachment.id}")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
