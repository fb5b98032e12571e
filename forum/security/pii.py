"""A guard for victims' personal data: spot text that looks like a phone number, an e-mail
address, an identity or passport number or an IBAN, so the author confirms or edits it.

It is a prompt, not a filter: the network's rule is to share practice, not cases. It lives in
the platform so every feature uses the one guard without importing another feature: threads
call `scan` in their services (forum.threads.errors.PersonalDataWarning); alerts and calls
forms mix in `PersonalDataGuard`, which warns at the field and asks for the same confirmation
(render it with templates/_pii.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from wtforms import BooleanField

from forum.lazytext import lazy_gettext as _l

PII_CONFIRM = _l("I confirm this contains no victim's personal data")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    (
        "an IBAN",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"),
    ),
    (
        "a phone number",
        re.compile(r"(?<![\w/])(?:\+|00)?\d(?:[\s./-]?\(?\d\)?){7,14}(?![\w/])"),
    ),
    (
        "an identity or passport number",
        re.compile(
            r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{2}\d{5,10}\b"
            r"|\b\d{2}[.]\d{2}[.]\d{2}-\d{3}[.]\d{2}\b"
        ),
    ),
]
# What each kind is called in the warning (the kinds themselves stay English ids).
_KIND_LABELS = {
    "an e-mail address": _l("an e-mail address"),
    "an IBAN": _l("an IBAN"),
    "a phone number": _l("a phone number"),
    "an identity or passport number": _l("an identity or passport number"),
}
_YEAR_RANGE = re.compile(r"^\d{4}\s*[-/]\s*\d{4}$")


@dataclass(frozen=True)
class Finding:
    """One piece of text that looks like personal data."""

    kind: str
    excerpt: str


def _mask(value: str) -> str:
    value = value.strip()
    if len(value) <= 4:
        return "…"
    return value[:2] + "…" + value[-2:]


def scan(text: str) -> list[Finding]:
    """What in the text looks like personal data (each finding masked, for the warning)."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            value = match.group(0)
            if kind == "a phone number" and (
                _YEAR_RANGE.match(value.strip()) or sum(c.isdigit() for c in value) < 8
            ):
                continue
            taken.append((start, end))
            findings.append(Finding(kind, _mask(value)))
    return findings


def summary(findings: list[Finding]) -> str:
    """One plain sentence naming the kinds of personal data found."""
    kinds = sorted({f.kind for f in findings})
    if not kinds:
        return ""
    names = [str(_KIND_LABELS.get(k, k)) for k in kinds]
    listed = (
        names[0]
        if len(names) == 1
        else _("%(some)s and %(last)s", some=", ".join(names[:-1]), last=names[-1])
    )
    return _(
        "This text seems to contain %(kinds)s (%(excerpts)s). "
        "Please remove anything that could identify a victim, or confirm that it contains no "
        "victim's personal data.",
        kinds=listed,
        excerpts=", ".join(f.excerpt for f in findings[:5]),
    )


class PersonalDataGuard:
    """A FlaskForm mixin: the fields named in `pii_fields` are scanned when the form validates;
    text that looks like personal data fails the form, with the warning at its field, until the
    author ticks `confirm_pii` (or edits the text). `pii_warning` holds the sentence shown."""

    pii_fields: tuple[str, ...] = ()
    confirm_pii = BooleanField(PII_CONFIRM)
    pii_warning: str = ""

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the form, then guard its free-text fields."""
        valid: bool = super().validate(extra_validators)  # type: ignore[misc]
        self.pii_warning = ""
        if self.confirm_pii.data:  # type: ignore[attr-defined]
            return valid
        everything: list[Finding] = []
        for name in self.pii_fields:
            for field in _text_fields(self[name]):  # type: ignore[index]
                found = scan(field.data) if isinstance(field.data, str) else []
                if found:
                    field.errors = [*field.errors, summary(found)]
                    everything.extend(found)
        if everything:
            self.pii_warning = summary(everything)
            return False
        return valid


def _text_fields(field: Any) -> list[Any]:
    """The field itself, or every field inside a FieldList (of subforms)."""
    entries = getattr(field, "entries", None)
    if entries is None:
        return [field]
    result: list[Any] = []
    for entry in entries:
        inner = getattr(entry, "form", None)
        if inner is None:
            result.append(entry)
        else:
            for sub in inner:
                result.extend(_text_fields(sub))
    return result
