"""Forms of the notify feature (every POST goes through a Form, even a single button)."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from forum.forms import EmptyForm, Form

__all__ = ["EmptyForm", "OpenForm", "WebhookForm"]


class OpenForm(Form):
    """Mark a notification read, and open it when `go` is set."""

    go = HiddenField()


class WebhookForm(Form):
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
