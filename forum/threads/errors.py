"""The errors of the threads feature; each message is a plain sentence for the user."""

from __future__ import annotations

from forum.threads import pii


class ThreadError(Exception):
    """A rule about threads was broken; the message is a plain sentence for the user.

    `field` names the form field the message belongs at (the body unless said otherwise).
    """

    def __init__(self, message: str = "", *, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


class NotFound(ThreadError):
    """The object does not exist or the member may not see it (the same answer for both)."""


class PersonalDataWarning(ThreadError):
    """The text looks like it contains personal data; the author must confirm or edit."""

    def __init__(self, findings: list[pii.Finding]) -> None:
        super().__init__(pii.summary(findings))
        self.findings = findings
