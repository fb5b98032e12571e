"""The file part of the new-thread and reply forms: what was sent, and keeping it for a retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_login import current_user

from forum.errors import refusal
from forum.threads import attachments, compose, content
from forum.threads.errors import personal_data_warning
from forum.threads.forms import ReplyForm, ThreadForm
from forum.threads.models import Attachment


@dataclass
class Upload:
    """The member's kept file, the checked file just sent, and why that one was refused."""

    pending: Attachment | None
    checked: attachments.Checked | None
    error: str

    def payload(self) -> dict[str, Any]:
        """The service's file arguments."""
        return {"checked": self.checked, "pending": self.pending}


def upload_from(form: ThreadForm | ReplyForm) -> Upload:
    """The file part of a submitted form (a file the service refused is not kept)."""
    pending = compose.pending_file(
        current_user, form.pending_attachment.data, drop=bool(form.drop_attachment.data)
    )
    refused = refusal()
    sent = form.attachment.data
    if not sent or not sent.filename or (refused is not None and refused.field == "attachment"):
        return Upload(pending, None, "")
    checked, error = attachments.checked_upload(sent.filename, sent.stream, sent.mimetype)
    return Upload(pending, checked, error)


def again(form: ThreadForm | ReplyForm, upload: Upload) -> dict[str, Any]:
    """What the form needs to come back: the file kept for the next try, errors at its field."""
    kept, error = compose.keep_for_retry(current_user, upload.checked, upload.pending)
    errors = [e for e in (upload.error, error) if e]
    form.attachment.errors = [*form.attachment.errors, *errors]
    form.pending_attachment.data = kept.id if kept is not None else ""
    return {"pending": kept, "warning": personal_data_warning(), "content": content}
