"""Forms of the notify feature (every POST goes through a FlaskForm, even a single button)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A button: only the CSRF token."""


class OpenForm(FlaskForm):  # type: ignore[misc]
    """Mark a notification read, and open it when `go` is set."""

    go = HiddenField()


class WebhookForm(FlaskForm):  # type: ignore[misc]
    """Register an organisation's webhook."""

    organisation_id = SelectField(
        "Organisation", validators=[DataRequired(message="Choose an organisation.")]
    )
    url = StringField(
        "Address (https)",
        validators=[
            DataRequired(message="Please give the webhook's address."),
            Length(max=500, message="The address is longer than 500 characters."),
        ],
    )
