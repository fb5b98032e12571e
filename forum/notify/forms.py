"""Forms of the notify feature (every POST goes through a Form, even a single button)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from forum.forms import EmptyForm, Form
from forum.lazytext import lazy_gettext as _l
from forum.notify.preferences import CATEGORIES, CHOICES, Category

__all__ = ["EmptyForm", "NotificationSettingsForm", "OpenForm", "WebhookForm"]


class OpenForm(Form):
    """Mark a notification read, and open it when `go` is set."""

    go = HiddenField()


class WebhookForm(Form):
    """Register an organisation's webhook."""

    organisation_id = SelectField(
        _l("Organisation"), validators=[DataRequired(message=_l("Choose an organisation."))]
    )
    url = StringField(
        _l("Address (https)"),
        validators=[
            DataRequired(message=_l("Please give the webhook's address.")),
            Length(max=500, message=_l("The address is longer than 500 characters.")),
        ],
    )


class NotificationSettingsForm(Form):
    """How the member hears of each kind of event, and their quiet hours.

    One radio group per category of forum/notify/preferences.py (fields named after the
    categories, so a service's refusal lands at its group); urgent alerts offer no "off"."""

    quiet_on = BooleanField(_l("Hold notifications during quiet hours"))
    quiet_start = TimeField(_l("Quiet from"), validators=[Optional()])
    quiet_end = TimeField(_l("Until"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        """Quiet hours switched on need both times."""
        valid = bool(super().validate(extra_validators))
        if self.quiet_on.data:
            for field in (self.quiet_start, self.quiet_end):
                if field.data is None and not field.errors:
                    field.errors = [_("Please give a time of day, such as 22:00.")]
                    valid = False
            if valid and self.quiet_start.data == self.quiet_end.data:
                self.quiet_end.errors = [_("Quiet hours need an end that is not their start.")]
                valid = False
        return valid

    def category_fields(self) -> list[Any]:
        """The radio group of each category, in the order of CATEGORIES."""
        return [getattr(self, category.name) for category in CATEGORIES]


def _choices_of(category: Category) -> Callable[[], dict[str, str]]:
    """The options of one category's group, labelled in the language of the request."""

    def choices() -> dict[str, str]:
        return {
            value: str(label)
            for value, label, push, email in CHOICES
            if category.may_be_off or push or email
        }

    return choices


for _category in CATEGORIES:
    setattr(
        NotificationSettingsForm,
        _category.name,
        RadioField(
            _category.label,
            choices=_choices_of(_category),
            validators=[DataRequired(message=_l("Please choose one of the options."))],
            # The service decides what may be chosen (urgent alerts never off) and says why.
            validate_choice=False,
        ),
    )
