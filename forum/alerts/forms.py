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
from forum.alerts.models import ANSWERS, KINDS, LABELS, REVIEW_PROMPTS, SEVERITIES
from forum.members.countries import is_country, select_choices

NOT_A_COUNTRY = "Choose the country from the list"


def _choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def split_codes(text: str) -> list[str]:
    """Country codes typed as "FR, de ; IT" -> ["FR", "DE", "IT"]."""
    return [p.strip().upper() for p in re.split(r"[\s,;]+", text or "") if p.strip()]


def _country_choices(blank: str | None = None) -> list[SelectChoice]:
    return select_choices(blank)


class CountryField(SelectField):
    """One country, chosen by name from the ISO 3166-1 list (a searchable picker with JS)."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"data-picker": "country"})
        super().__init__(label, choices=[], validate_choice=False, **kwargs)

    def pre_validate(self, form: Any) -> None:
        code = (self.data or "").strip().upper()
        if code and not is_country(code):
            raise ValidationError(f"{NOT_A_COUNTRY} (not a country: {code[:20]}).")
        self.data = code


class CountriesField(SelectMultipleField):
    """Several countries by name; "FR, DE" typed into one value (no JS, API) is split."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"data-picker": "country"})
        super().__init__(label, choices=[], validate_choice=False, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        codes: list[str] = []
        for value in valuelist:
            codes += [c for c in split_codes(value) if c not in codes]
        self.data = codes

    def pre_validate(self, form: Any) -> None:
        bad = [c for c in self.data or [] if not is_country(c)]
        if bad:
            raise ValidationError(f"{NOT_A_COUNTRY} (not a country: {', '.join(bad[:3])[:40]}).")


def _with_countries(form: FlaskForm) -> None:
    for field in form:
        if isinstance(field, CountryField):
            field.choices = _country_choices("Choose a country…")
        elif isinstance(field, CountriesField):
            field.choices = _country_choices()


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RaiseForm(FlaskForm):
    """Raise an alert: a few taps on a phone."""

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
    country = CountryField("Country", validators=[DataRequired(f"{NOT_A_COUNTRY}.")])
    occurred_at = DateTimeLocalField(
        "When it happened (your time)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Please say when it happened.")],
    )
    nationalities = CountriesField(
        "Nationalities known or feared among the victims",
        validators=[Optional()],
        description="Their contact points are always alerted.",
    )
    needs = TextAreaField(
        "What is needed", validators=[DataRequired("Please say what is needed."), Length(max=4000)]
    )
    label = SelectField(
        "TLP label",
        choices=_choices((code, f"TLP:{code}") for code in LABELS),
        default="AMBER",
        description="What readers may do with the alert outside the Exchange.",
    )
    regions = MultiCheckboxField(
        "Only these regions",
        choices=_choices((k, v[0]) for k, v in REGIONS.items()),
        validators=[Optional()],
    )
    countries = CountriesField("Only these countries", validators=[Optional()])
    expertise = StringField(
        "Only members with this expertise", validators=[Optional(), Length(max=300)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_countries(self)

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
            "nationalities": list(self.nationalities.data or []),
            "needs": self.needs.data,
            "label": self.label.data,
            "regions": list(self.regions.data or []),
            "countries": list(self.countries.data or []),
            "expertise": [e.strip() for e in (self.expertise.data or "").split(",") if e.strip()],
        }


class AnswerForm(FlaskForm):
    """One tap: the answer is the button pressed; a note is optional."""

    answer = RadioField(
        "Your answer", choices=_choices(ANSWERS.items()), validators=[InputRequired()]
    )
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class UpdateForm(FlaskForm):
    """A timeline update, maybe with a status change."""

    status = SelectField(
        "Status",
        choices=_choices([("", "Keep status"), ("open", "Open"), ("coordinating", "Coordinating")]),
        validators=[Optional()],
    )
    text = TextAreaField(
        "Update",
        validators=[
            Optional(),
            Length(max=4000, message="The update is too long: at most 4000 characters."),
        ],
    )


class CorrectForm(FlaskForm):
    """Correct what an open alert says; the change is kept on its timeline."""

    title = StringField(
        "Short title",
        validators=[DataRequired("Please give the alert a short title."), Length(max=140)],
    )
    city = StringField("City", validators=[Optional(), Length(max=120)])
    country = CountryField("Country", validators=[DataRequired(f"{NOT_A_COUNTRY}.")])
    nationalities = CountriesField(
        "Nationalities known or feared among the victims", validators=[Optional()]
    )
    needs = TextAreaField(
        "What is needed", validators=[DataRequired("Please say what is needed."), Length(max=4000)]
    )
    severity = SelectField("Severity", choices=_choices(SEVERITIES.items()))
    reason = StringField("What was wrong (optional)", validators=[Optional(), Length(max=300)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_countries(self)

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


class CancelForm(FlaskForm):
    """Cancel the alert as a false alarm."""

    reason = StringField(
        "Why (optional, kept on the timeline)", validators=[Optional(), Length(max=300)]
    )


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


class ResolveForm(FlaskForm):
    """Resolve the alert."""

    note = TextAreaField("Closing note (optional)", validators=[Optional(), Length(max=4000)])


class ReviewForm(FlaskForm):
    """The after-action review, with the network's prompts."""

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
