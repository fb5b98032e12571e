"""Attachments: checked by content, sealed under the thread's key, stored under a server-made name.

A file is accepted only if its bytes are a PDF, an office document (docx/xlsx/pptx by their
[Content_Types].xml; odt/ods/odp by their `mimetype` entry), a PNG/JPEG/GIF/WebP image or
plain UTF-8 text that is not HTML. It is written sealed to a temporary file in the store and
renamed into place, so a full disk leaves nothing half-written.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import secrets
import tempfile
import zipfile
from pathlib import Path

import filetype
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.threads import content, policy
from forum.threads.models import Attachment, Post, Thread

log = logging.getLogger(__name__)

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
HTML_MARKERS = (b"<!doctype", b"<html", b"<script", b"<body", b"<head", b"<svg", b"<iframe")
REMOVE_KEY = "exchange.threads.remove_files"


class AttachmentError(Exception):
    """The file was refused or could not be stored; the message is a plain sentence."""


def store_path() -> Path:
    """The folder attachments are stored in (uploads.path, or <instance>/attachments)."""
    configured = current_app.config["EXCHANGE"]["uploads"]["path"]
    path = Path(configured) if configured else Path(current_app.instance_path) / "attachments"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _office_type(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if "mimetype" in names:
            declared = archive.read("mimetype").decode("ascii", "replace").strip()
            return declared if declared in ODF else None
        if "[Content_Types].xml" in names:
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
            for marker, mime in OOXML.items():
                if marker in types:
                    return mime
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
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
    """The content type of the bytes, if they are of an accepted kind; AttachmentError otherwise."""
    kind = filetype.guess(data)
    if kind is not None:
        if kind.mime == "application/pdf" or kind.mime in IMAGE_TYPES:
            return str(kind.mime)
        if kind.mime == "application/zip" or kind.extension in {"docx", "xlsx", "pptx", "odt",
                                                                "ods", "odp"}:  # fmt: skip
            office = _office_type(data)
            if office:
                return office
        raise AttachmentError(
            "This kind of file is not accepted. Attach PDFs, office documents, images "
            "(PNG, JPEG, GIF, WebP) or plain text."
        )
    if data and _is_plain_text(data):
        return "text/plain; charset=utf-8"
    raise AttachmentError(
        "This file is not what its name says, or not of a kind the Exchange accepts. Attach "
        "PDFs, office documents, images (PNG, JPEG, GIF, WebP) or plain text."
    )


def _write_atomically(folder: Path, name: str, blob: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(blob)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, folder / name)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        log.error("could not store an attachment: errno %s", error.errno)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise AttachmentError(
                "The server has no room to store this file just now. Nothing was saved; "
                "please tell a coordinator."
            ) from None
        raise AttachmentError("The file could not be stored. Nothing was saved.") from None


def add(*, uploader: Member, thread: Thread, post: Post, filename: str, data: bytes) -> Attachment:
    """Check, seal and store a file on a post the uploader wrote in a thread they can post in."""
    if not policy.can_post(uploader, thread) or post.author_id != uploader.id:
        raise AttachmentError("You cannot attach files here.")
    limit = current_app.config["EXCHANGE"]["uploads"]["max_bytes"]
    if len(data) > limit:
        raise AttachmentError(f"The file is larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise AttachmentError("The file is empty.")
    mime = detect_type(data)
    attachment = Attachment(id=new_id(), thread_id=thread.id, post_id=post.id,
                            uploader_id=uploader.id, content_type=mime, size=len(data),
                            storage_name=secrets.token_hex(24), created_at=utcnow())  # fmt: skip
    clean_name = os.path.basename(filename.replace("\\", "/")).strip()[:200] or "attachment"
    attachment.filename_sealed = content.seal(thread.dek_id, "attachment", attachment.id,
                                              "filename", clean_name)  # fmt: skip
    sealed = content.seal(thread.dek_id, "attachment", attachment.id, "content", data)
    _write_atomically(store_path(), attachment.storage_name, sealed)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def get_for(member: Member, attachment_id: str) -> tuple[Attachment, Thread]:
    """The attachment and its thread, if the member may read it; LookupError otherwise."""
    attachment = db.session.get(Attachment, attachment_id) if len(attachment_id) == 32 else None
    thread = db.session.get(Thread, attachment.thread_id) if attachment else None
    post = db.session.get(Post, attachment.post_id) if attachment and attachment.post_id else None
    if attachment is None or thread is None or not policy.can_read(member, thread):
        raise LookupError(attachment_id)
    if post is not None and not policy.can_see_post(member, thread, post):
        raise LookupError(attachment_id)
    return attachment, thread


def read(attachment: Attachment) -> bytes:
    """The opened bytes of an attachment."""
    blob = (store_path() / attachment.storage_name).read_bytes()
    return envelope.open_bytes(blob, envelope.context("attachment", attachment.id, "content"))


def for_posts(post_ids: list[str]) -> dict[str, list[Attachment]]:
    """Attachments of the given posts, by post id."""
    if not post_ids:
        return {}
    rows = db.session.scalars(
        db.select(Attachment)
        .where(Attachment.post_id.in_(post_ids))
        .order_by(Attachment.created_at)
    )
    result: dict[str, list[Attachment]] = {}
    for row in rows:
        result.setdefault(row.post_id or "", []).append(row)
    return result


def remove_after_commit(storage_name: str) -> None:
    """Delete a stored file once the transaction that dropped its row commits."""
    db.session.info.setdefault(REMOVE_KEY, []).append((store_path(), storage_name))


@event.listens_for(Session, "after_commit")
def _remove_files(session: Session) -> None:
    for folder, name in session.info.pop(REMOVE_KEY, []):
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove a deleted attachment file %s", name)


@event.listens_for(Session, "after_rollback")
def _keep_files(session: Session) -> None:
    session.info.pop(REMOVE_KEY, None)
