"""Forms of the notify feature (every POST goes through a Form, even a single button)."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from forum.forms import EmptyForm, Form
from forum.notify.preferences import CATEGORIES, CHOICES

__all__ = ["EmptyForm", "NotificationSettingsForm", "OpenForm", "WebhookForm"]


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


class NotificationSettingsForm(Form):
    """How the member hears of each kind of event, and their quiet hours.

    One radio group per category of forum/notify/preferences.py (fields named after the
    categories, so a service's refusal lands at its group); urgent alerts offer no "off"."""

    quiet_on = BooleanField("Hold notifications during quiet hours")
    quiet_start = TimeField("Quiet from", validators=[Optional()])
    quiet_end = TimeField("Until", validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        """Quiet hours switched on need both times."""
        valid = bool(super().validate(extra_validators))
        if self.quiet_on.data:
            for field in (self.quiet_start, self.quiet_end):
                if field.data is None and not field.errors:
                    field.errors = ["Please give a time of day, such as 22:00."]
                    valid = False
            if valid and self.quiet_start.data == self.quiet_end.data:
                self.quiet_end.errors = ["Quiet hours need an end that is not their start."]
                valid = False
        return valid

    def category_fields(self) -> list[Any]:
        """The radio group of each category, in the order of CATEGORIES."""
        return [getattr(self, category.name) for category in CATEGORIES]


for _category in CATEGORIES:
    setattr(
        NotificationSettingsForm,
        _category.name,
        RadioField(
            _category.label,
            choices={
                value: label
                for value, label, push, email in CHOICES
                if _category.may_be_off or push or email
            },
            validators=[DataRequired(message="Please choose one of the options.")],
            # The service decides what may be chosen (urgent alerts never off) and says why.
            validate_choice=False,
        ),
    )
