"""Attachments: checked by content (forum.threads.filetypes), sealed, stored under a server-made name.

Each attachment is sealed under a data key of its own (deleting its post shreds it). The file is
written sealed to a temporary file in the store and renamed into place, so a full disk leaves
nothing half-written. A file sent with a form that comes back with an error (a personal-data
warning, a missing title …) is kept as a *pending* attachment: sealed, tied to its uploader, no
post yet, claimed when the form is sent again, removed after PENDING_HOURS. Downloads from a
TLP:RED thread are written to the audit log, as reads of RED threads are.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from forum import db as uow
from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.errors import NotFound
from forum.extensions import db
from forum.markup import tlp
from forum.security import audit
from forum.threads import content, filetypes, policy
from forum.threads.filetypes import detect_type
from forum.threads.models import Attachment, Post, Thread

if TYPE_CHECKING:
    from forum.members.models import Member

log = logging.getLogger(__name__)

AttachmentError = filetypes.FileTypeError
PENDING_HOURS = 24

__all__ = ["AttachmentError", "Checked", "add", "check", "detect_type"]


@dataclass(frozen=True)
class Checked:
    """An uploaded file that passed the checks: its cleaned name, bytes and detected type."""

    name: str
    data: bytes
    mime: str


def store_path() -> Path:
    """The folder attachments are stored in (uploads.path, or <instance>/attachments)."""
    configured = current_app.config["EXCHANGE"]["uploads"]["path"]
    path = Path(configured) if configured else Path(current_app.instance_path) / "attachments"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def max_bytes() -> int:
    """The largest file accepted (uploads.max_bytes)."""
    return int(current_app.config["EXCHANGE"]["uploads"]["max_bytes"])


def too_large_message() -> str:
    """The plain sentence for a file over the limit."""
    return _(
        "The file is larger than %(size)d MB, so it was not attached. "
        "Your text is kept: attach a smaller file, or send it without one.",
        size=max_bytes() // (1024 * 1024),
    )


def check(filename: str, data: bytes | IO[bytes], declared: str | None = None) -> Checked:
    """Check a file's size, kind and name; AttachmentError (a plain sentence) if refused.

    A stream is measured before it is read, so a file over the limit is never held in memory.
    """
    if not isinstance(data, bytes):
        data.seek(0, os.SEEK_END)
        size = data.tell()
        data.seek(0)
        if size > max_bytes():
            raise AttachmentError(too_large_message())
        data = data.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise AttachmentError(too_large_message())
    if not data:
        raise AttachmentError(_("The file is empty."))
    mime = detect_type(data)
    clean_name = os.path.basename(filename.replace("\\", "/")).strip()[:200] or "attachment"
    filetypes.check_name(mime, clean_name, declared)
    return Checked(clean_name, data, mime)


def checked_upload(
    filename: str, stream: IO[bytes], declared: str | None = None
) -> tuple[Checked | None, str]:
    """`check` for a form's file: the checked file, or None and the sentence saying why not."""
    try:
        return check(filename, stream, declared), ""
    except AttachmentError as error:
        return None, str(error)


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
                _(
                    "The server has no room to store this file just now. Nothing was saved; "
                    "please tell a coordinator."
                )
            ) from None
        raise AttachmentError(_("The file could not be stored. Nothing was saved.")) from None


def _store(
    uploader: Member, checked: Checked, thread: Thread | None, post: Post | None
) -> Attachment:
    key = envelope.new_data_key("attachment")
    attachment = Attachment(
        id=new_id(),
        dek_id=key.id,
        thread_id=thread.id if thread else None,
        post_id=post.id if post else None,
        uploader_id=uploader.id,
        content_type=checked.mime,
        size=len(checked.data),
        storage_name=secrets.token_hex(24),
        created_at=utcnow(),
    )
    attachment.seal("filename", checked.name)
    sealed = envelope.seal(key.id, attachment.sealed_context("content"), checked.data)
    _write_atomically(store_path(), attachment.storage_name, sealed)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _may_attach(uploader: Member, thread: Thread, post: Post) -> None:
    if not policy.can_post(uploader, thread) or post.author_id != uploader.id:
        raise AttachmentError(_("You cannot attach files here."))


def add(
    *,
    uploader: Member,
    thread: Thread,
    post: Post,
    filename: str = "",
    data: bytes | None = None,
    checked: Checked | None = None,
) -> Attachment:
    """Check, seal and store a file on a post the uploader wrote in a thread they can post in."""
    _may_attach(uploader, thread, post)
    return _store(uploader, checked or check(filename, data or b""), thread, post)


def stage(*, uploader: Member, checked: Checked) -> Attachment:
    """Keep a checked file as the uploader's pending attachment (sealed, no post yet)."""
    return _store(uploader, checked, None, None)


def pending_for(member: Member, attachment_id: str | None) -> Attachment | None:
    """The member's own pending attachment with this id, if it has not expired."""
    if not attachment_id or len(attachment_id) != 32:
        return None
    found = db.session.get(Attachment, attachment_id)
    if found is None or found.post_id is not None or found.uploader_id != member.id:
        return None
    if found.created_at < utcnow() - timedelta(hours=PENDING_HOURS):
        return None
    return found


def claim(*, uploader: Member, attachment: Attachment, thread: Thread, post: Post) -> None:
    """Put the uploader's pending attachment on the post they have just written."""
    _may_attach(uploader, thread, post)
    if attachment.uploader_id != uploader.id or attachment.post_id is not None:
        raise AttachmentError(_("You cannot attach files here."))
    attachment.thread_id, attachment.post_id = thread.id, post.id
    db.session.flush()


def discard(attachment: Attachment) -> None:
    """Drop an attachment: shred its key; its file goes once the transaction commits."""
    envelope.shred_ids({attachment.dek_id})
    remove_after_commit(attachment.storage_name)
    db.session.delete(attachment)
    db.session.flush()


def prune_pending() -> int:
    """Remove pending attachments older than PENDING_HOURS (a scheduled sweep)."""
    stale = db.session.scalars(
        select(Attachment).where(
            Attachment.post_id.is_(None),
            Attachment.created_at < utcnow() - timedelta(hours=PENDING_HOURS),
        )
    ).all()
    for attachment in stale:
        discard(attachment)
    return len(stale)


def get_for(member: Member, attachment_id: str) -> tuple[Attachment, Thread]:
    """The attachment and its thread, if the member may read it; NotFound otherwise."""
    attachment = db.session.get(Attachment, attachment_id) if len(attachment_id) == 32 else None
    thread = db.session.get(Thread, attachment.thread_id) if attachment else None
    post = db.session.get(Post, attachment.post_id) if attachment and attachment.post_id else None
    if attachment is None or thread is None or post is None or not policy.can_read(member, thread):
        raise NotFound()
    if not policy.can_see_post(member, thread, post):
        raise NotFound()
    return attachment, thread


def download(member: Member, attachment_id: str) -> tuple[Attachment, bytes]:
    """The attachment and its opened bytes for a reader; a RED thread's download is audited."""
    attachment, thread = get_for(member, attachment_id)
    data = read(attachment)
    if thread.label == tlp.RED:
        audit.record(
            "threads.red_attachment_downloaded",
            actor=member,
            target_type="attachment",
            target_id=attachment.id,
            thread_id=thread.id,
            post_id=attachment.post_id,
            label=tlp.RED,
        )
    return attachment, data


def disposition(attachment: Attachment) -> str:
    """The Content-Disposition of a download: always an attachment, under a plain ASCII name."""
    name = content.attachment_name(attachment)
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "file"
    return f'attachment; filename="{ascii_name}"'


def read(attachment: Attachment) -> bytes:
    """The opened bytes of an attachment."""
    blob = (store_path() / attachment.storage_name).read_bytes()
    return envelope.open_bytes(blob, attachment.sealed_context("content"))


def for_posts(post_ids: list[str]) -> dict[str, list[Attachment]]:
    """Attachments of the given posts, by post id."""
    if not post_ids:
        return {}
    rows = db.session.scalars(
        db.select(Attachment)
        .where(Attachment.post_id.in_(post_ids))
        .order_by(Attachment.created_at)
    ).all()
    envelope.preload({row.dek_id for row in rows})
    result: dict[str, list[Attachment]] = {}
    for row in rows:
        result.setdefault(row.post_id or "", []).append(row)
    return result


def remove_after_commit(storage_name: str) -> None:
    """Delete a stored file once the transaction that dropped its row commits."""
    path = store_path() / storage_name
    uow.after_commit(lambda: _remove_file(path), once=f"threads.remove:{storage_name}")


def _remove_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove a deleted attachment file %s", path.name)
