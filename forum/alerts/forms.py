"""Forms of the alerts feature (every POST goes through a FlaskForm, so CSRF is checked)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
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
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forum.alerts.audience import REGIONS
from forum.alerts.coordination import THREAD_LABELS
from forum.alerts.models import ANSWERS, KINDS, REVIEW_PROMPTS, SEVERITIES
from forum.security.pii import PersonalDataGuard

CODE = re.compile(r"^[A-Za-z]{2}$")


def _choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def split_codes(text: str) -> list[str]:
    """Country codes typed as "FR, de ; IT" -> ["FR", "DE", "IT"]."""
    return [p.strip().upper() for p in re.split(r"[\s,;]+", text or "") if p.strip()]


def _check_codes(form: FlaskForm, field: Any) -> None:
    bad = [c for c in split_codes(field.data) if not CODE.match(c)]
    if bad:
        raise ValidationError(
            "Use two-letter country codes separated by commas, e.g. FR, DE "
            f"(not understood: {', '.join(bad[:3])})."
        )


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RaiseForm(PersonalDataGuard, FlaskForm):
    """Raise an alert: a few taps on a phone."""

    pii_fields = ("title", "needs")

    kind = RadioField(
        "Kind", choices=_choices(KINDS.items()), default="attack", validators=[InputRequired()]
    )
    severity = RadioField(
        "Severity",
        choices=_choices(SEVERITIES.items()),
        default="high",
        validators=[InputRequired()],
    )
    title = StringField(
        "Short title",
        validators=[DataRequired("Please give the alert a short title."), Length(max=140)],
    )
    city = StringField("City", validators=[Optional(), Length(max=120)])
    country = StringField(
        "Country (two letters)",
        validators=[DataRequired("Please give the country (e.g. FR)."), Length(min=2, max=2)],
    )
    occurred_at = DateTimeLocalField(
        "When it happened (your time)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Please say when it happened.")],
    )
    nationalities = StringField(
        "Nationalities known or feared among the victims",
        validators=[Optional(), Length(max=300)],
        description="Two-letter codes, e.g. FR, DE, IT. Their contact points are always alerted.",
    )
    needs = TextAreaField(
        "What is needed", validators=[DataRequired("Please say what is needed."), Length(max=4000)]
    )
    regions = MultiCheckboxField(
        "Only these regions",
        choices=_choices((k, v[0]) for k, v in REGIONS.items()),
        validators=[Optional()],
    )
    countries = StringField("Only these countries", validators=[Optional(), Length(max=300)])
    expertise = StringField(
        "Only members with this expertise", validators=[Optional(), Length(max=300)]
    )

    def validate_nationalities(self, field: Any) -> None:
        _check_codes(self, field)

    def validate_countries(self, field: Any) -> None:
        _check_codes(self, field)

    def validate_country(self, field: Any) -> None:
        if not CODE.match(field.data or ""):
            raise ValidationError("Please give the country as two letters, e.g. FR.")

    def payload(self, zone: str) -> dict[str, Any]:
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
            "nationalities": split_codes(self.nationalities.data),
            "needs": self.needs.data,
            "regions": list(self.regions.data or []),
            "countries": split_codes(self.countries.data),
            "expertise": [e.strip() for e in (self.expertise.data or "").split(",") if e.strip()],
        }


class AnswerForm(PersonalDataGuard, FlaskForm):
    """One tap: the answer is the button pressed; a note is optional."""

    pii_fields = ("note",)

    answer = RadioField(
        "Your answer", choices=_choices(ANSWERS.items()), validators=[InputRequired()]
    )
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class UpdateForm(PersonalDataGuard, FlaskForm):
    """A timeline update, maybe with a status change."""

    pii_fields = ("text",)

    status = SelectField(
        "Status",
        choices=_choices([("", "Keep status"), ("open", "Open"), ("coordinating", "Coordinating")]),
        validators=[Optional()],
    )
    text = TextAreaField("Update", validators=[Optional(), Length(max=4000)])


class ThreadForm(FlaskForm):
    """Open the coordination thread."""

    label = SelectField(
        "TLP label",
        choices=_choices((code, f"TLP:{code}") for code in THREAD_LABELS),
        default=THREAD_LABELS[0],
    )


class CallForm(FlaskForm):
    """Start the emergency call."""

    starts_in = IntegerField(
        "Starts in (minutes)", default=5, validators=[InputRequired(), NumberRange(min=0, max=1440)]
    )
    duration = IntegerField(
        "Duration (minutes)", default=60, validators=[InputRequired(), NumberRange(min=15, max=480)]
    )
    joining_details = TextAreaField(
        "Joining details (dial-in, link)", validators=[Optional(), Length(max=2000)]
    )


class ResolveForm(PersonalDataGuard, FlaskForm):
    """Resolve the alert."""

    pii_fields = ("note",)

    note = TextAreaField("Closing note (optional)", validators=[Optional(), Length(max=4000)])


class ReviewForm(PersonalDataGuard, FlaskForm):
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
