"""Forms of the alerts feature (every POST goes through a `forum.forms.Form`: CSRF is checked,
a service's refusal lands at its field, and `payload()` is what the service takes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forum.alerts.audience import REGIONS
from forum.alerts.coordination import THREAD_LABELS
from forum.alerts.models import ANSWERS, KINDS, LABELS, REVIEW_PROMPTS, SEVERITIES
from forum.countries import CountriesField, CountryField
from forum.db import utcnow
from forum.forms import Form
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.security.pii import PersonalDataGuard


def _choices(pairs: Iterable[tuple[str, Text]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RaiseForm(PersonalDataGuard, Form):
    """Raise an alert: a few taps on a phone."""

    pii_fields = ("title", "needs")

    kind = RadioField(
        _l("Kind"), choices=_choices(KINDS.items()), default="attack", validators=[InputRequired()]
    )
    severity = RadioField(
        _l("Severity"),
        choices=_choices(SEVERITIES.items()),
        default="high",
        validators=[InputRequired()],
    )
    title = StringField(
        _l("Short title"),
        validators=[DataRequired(_l("Please give the alert a short title.")), Length(max=140)],
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    country = CountryField(
        _l("Country"),
        blank=_l("Choose a country…"),
        validators=[DataRequired(_l("Choose the country from the list."))],
    )
    occurred_at = DateTimeLocalField(
        _l("When it happened (your time)"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Please say when it happened."))],
    )
    nationalities = CountriesField(
        _l("Nationalities known or feared among the victims"),
        validators=[Optional()],
        description=_l("Their contact points are always alerted."),
    )
    needs = TextAreaField(
        _l("What is needed"),
        validators=[DataRequired(_l("Please say what is needed.")), Length(max=4000)],
    )
    label = SelectField(
        _l("TLP label"),
        choices=_choices((code, f"TLP:{code}") for code in LABELS),
        default="AMBER",
        description=_l("What readers may do with the alert outside the Exchange."),
    )
    regions = MultiCheckboxField(
        _l("Only these regions"),
        choices=_choices((k, v[0]) for k, v in REGIONS.items()),
        validators=[Optional()],
    )
    countries = CountriesField(_l("Only these countries"), validators=[Optional()])
    expertise = StringField(
        _l("Only members with this expertise"), validators=[Optional(), Length(max=300)]
    )

    def payload(self, zone: str = "UTC") -> dict[str, Any]:
        """The service's keyword arguments."""
        local: datetime = self.occurred_at.data
        try:
            tz = ZoneInfo(zone)
        except (KeyError, ValueError):
            tz = ZoneInfo("UTC")
        return {
            "kind": self.kind.data,
            "severity": self.severity.data,
            "title": self.title.data,
            "city": self.city.data or "",
            "country": self.country.data,
            "occurred_at": local.replace(tzinfo=tz),
            "nationalities": list(self.nationalities.data or []),
            "needs": self.needs.data,
            "label": self.label.data,
            "regions": list(self.regions.data or []),
            "countries": list(self.countries.data or []),
            "expertise": [e.strip() for e in (self.expertise.data or "").split(",") if e.strip()],
        }


class AnswerForm(PersonalDataGuard, Form):
    """One tap: the answer is the button pressed; a note is optional."""

    pii_fields = ("note",)

    answer = RadioField(
        _l("Your answer"), choices=_choices(ANSWERS.items()), validators=[InputRequired()]
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {"answer": self.answer.data, "note": self.note.data or ""}


class UpdateForm(PersonalDataGuard, Form):
    """A timeline update, maybe with a status change."""

    pii_fields = ("text",)

    status = SelectField(
        _l("Status"),
        choices=_choices(
            [("", _l("Keep status")), ("open", _l("Open")), ("coordinating", _l("Coordinating"))]
        ),
        validators=[Optional()],
    )
    text = TextAreaField(
        _l("Update"),
        validators=[
            Optional(),
            Length(max=4000, message=_l("The update is too long: at most 4000 characters.")),
        ],
    )

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments (no status chosen: the status is kept)."""
        return {"text": self.text.data or "", "status": self.status.data or None}


class CorrectForm(Form):
    """Correct what an open alert says; the change is kept on its timeline."""

    title = StringField(
        _l("Short title"),
        validators=[DataRequired(_l("Please give the alert a short title.")), Length(max=140)],
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    country = CountryField(
        _l("Country"),
        blank=_l("Choose a country…"),
        validators=[DataRequired(_l("Choose the country from the list."))],
    )
    nationalities = CountriesField(
        _l("Nationalities known or feared among the victims"), validators=[Optional()]
    )
    needs = TextAreaField(
        _l("What is needed"),
        validators=[DataRequired(_l("Please say what is needed.")), Length(max=4000)],
    )
    severity = SelectField(_l("Severity"), choices=_choices(SEVERITIES.items()))
    reason = StringField(_l("What was wrong (optional)"), validators=[Optional(), Length(max=300)])

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {
            "title": self.title.data or "",
            "city": self.city.data or "",
            "country": self.country.data or "",
            "nationalities": list(self.nationalities.data or []),
            "needs": self.needs.data or "",
            "severity": self.severity.data,
            "reason": self.reason.data or "",
        }


class CancelForm(Form):
    """Cancel the alert as a false alarm."""

    reason = StringField(
        _l("Why (optional, kept on the timeline)"), validators=[Optional(), Length(max=300)]
    )

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {"reason": self.reason.data or ""}


class ThreadForm(Form):
    """Open the coordination thread."""

    label = SelectField(
        _l("TLP label"),
        choices=_choices((code, f"TLP:{code}") for code in THREAD_LABELS),
        default=THREAD_LABELS[0],
    )

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {"label": self.label.data}


class CallForm(Form):
    """Start the emergency call."""

    starts_in = IntegerField(
        _l("Starts in (minutes)"),
        default=5,
        validators=[InputRequired(), NumberRange(min=0, max=1440)],
    )
    duration = IntegerField(
        _l("Duration (minutes)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=15, max=480)],
    )
    joining_details = TextAreaField(
        _l("Joining details (dial-in, link)"), validators=[Optional(), Length(max=2000)]
    )

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments: the start as a UTC time on the minute."""
        starts_at = utcnow() + timedelta(minutes=self.starts_in.data)
        return {
            "starts_at": starts_at.replace(second=0, microsecond=0),
            "duration_minutes": self.duration.data,
            "joining_details": self.joining_details.data or "",
        }


class ResolveForm(PersonalDataGuard, Form):
    """Resolve the alert."""

    pii_fields = ("note",)

    note = TextAreaField(_l("Closing note (optional)"), validators=[Optional(), Length(max=4000)])

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {"note": self.note.data or ""}


class ReviewForm(PersonalDataGuard, Form):
    """The after-action review, with the network's prompts."""

    pii_fields = ("summary", "cross_border", "cooperation", "follow_up", "lessons")

    summary = TextAreaField(REVIEW_PROMPTS["summary"], validators=[Optional(), Length(max=10000)])
    cross_border = TextAreaField(
        REVIEW_PROMPTS["cross_border"], validators=[Optional(), Length(max=10000)]
    )
    cooperation = TextAreaField(
        REVIEW_PROMPTS["cooperation"], validators=[Optional(), Length(max=10000)]
    )
    follow_up = TextAreaField(
        REVIEW_PROMPTS["follow_up"], validators=[Optional(), Length(max=10000)]
    )
    lessons = TextAreaField(REVIEW_PROMPTS["lessons"], validators=[Optional(), Length(max=10000)])

    def answers(self) -> dict[str, str]:
        """The answers keyed by prompt."""
        return {prompt: getattr(self, prompt).data or "" for prompt in REVIEW_PROMPTS}

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {"answers": self.answers()}
