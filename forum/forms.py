"""The shared form kit: every form of every feature is a `Form`.

One way from a form to a service: a view calls `form.validate_on_submit()`, then hands
`form.payload()` (a dict of the service's keyword arguments) to one service. When the service
refuses with `forum.errors.Invalid`, the app runs the view again; this time the form that was
submitted answers False, with the message at its field, and the view renders it as it renders
any invalid form — the user's text kept.
"""

from __future__ import annotations

from typing import Any

from babel import support
from flask import g, request
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from forum.errors import refusal
from forum.i18n import current_language


def _wtforms_catalogue() -> support.NullTranslations:
    """WTForms' own messages in the reader's language, loaded once per language per process
    (Flask-WTF parses the catalogue again on every request)."""
    code = current_language()
    found = _WTFORMS_CATALOGUES.get(code)
    if found is None:
        found = _WTFORMS_CATALOGUES[code] = support.Translations.load(
            messages_path(), [code], domain="wtforms"
        )
    return found


_WTFORMS_CATALOGUES: dict[str, support.NullTranslations] = {}


class _Catalogue:
    """What WTForms asks of translations, answered from the cached catalogue."""

    def gettext(self, string: str) -> str:
        return str(_wtforms_catalogue().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(_wtforms_catalogue().ungettext(singular, plural, n))


_CATALOGUE = _Catalogue()


class Form(FlaskForm):  # type: ignore[misc]
    """A CSRF-protected form that takes a service's refusal at the field it names."""

    class Meta(FlaskForm.Meta):  # type: ignore[misc]
        def get_translations(self, form: Any) -> _Catalogue:
            return _CATALOGUE

    def validate_on_submit(self, extra_validators: Any = None) -> bool:
        """Whether the form was submitted and is valid, and no service refused it yet."""
        valid = bool(super().validate_on_submit(extra_validators))
        error = refusal()
        if not valid or error is None or g.get("exchange_refusal_shown"):
            return valid
        g.exchange_refusal_shown = True
        field = getattr(self, error.field, None) if error.field else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)
        return False

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments: every field's data but the CSRF token and buttons."""
        return {
            name: field.data
            for name, field in self._fields.items()
            if name != "csrf_token" and field.type not in {"SubmitField", "CSRFTokenField"}
        }


class EmptyForm(Form):
    """A button that changes state: only the CSRF token."""


def json_body() -> Any:
    """The request's JSON document, or None when it sent none that parses (a body nested too
    deep for the parser included: its RecursionError is not the ValueError `silent` catches)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None
