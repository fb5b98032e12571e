"""The errors of the threads feature: the shared domain errors, with what threads add to them."""

from __future__ import annotations

from forum.errors import Invalid, NotAllowed, NotFound, refusal
from forum.threads import pii

__all__ = ["Invalid", "NotAllowed", "NotFound", "PersonalDataWarning", "ThreadError"]


class ThreadError(Invalid):
    """A rule about threads was broken; the message is a plain sentence for the user.

    `field` names the form field the message belongs at (the body unless said otherwise).
    """

    def __init__(self, message: str = "", *, field: str | None = "body") -> None:
        super().__init__(message, field=field)


class PersonalDataWarning(ThreadError):
    """The text looks like it contains personal data; the author must confirm or edit.

    The form shows it above the text with the confirmation box (not at a field): its `field`
    is the box, whose errors no template prints.
    """

    def __init__(self, findings: list[pii.Finding]) -> None:
        super().__init__(pii.summary(findings), field="confirm_pii")
        self.findings = findings
        self.details["findings"] = findings


def personal_data_warning() -> str | None:
    """The warning this request's form is shown again for, if any."""
    error = refusal()
    return str(error) if isinstance(error, PersonalDataWarning) else None
