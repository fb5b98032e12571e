"""Forms of the calls feature. Each POST goes through a `forum.forms.Form` (CSRF included)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import wtforms
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.calls.models import ANSWER_LABELS, CallSeries, Minutes
from forum.calls.recurrence import WEEKDAY_NAMES, zone_names
from forum.calls.series_fields import SeriesFields, aware
from forum.errors import refusal
from forum.forms import Form
from forum.lazytext import lazy_gettext as _l
from forum.markup import tlp
from forum.security.pii import PersonalDataGuard

# Choices are {value: label} dicts (WTForms 3.3 deprecates tuples).
PATTERN_CHOICES = {
    "nth_weekday": _l("On a weekday of the month (e.g. the second Thursday)"),
    "last_weekday": _l("On the last weekday of the month (e.g. the last Tuesday)"),
    "day_of_month": _l("On a day of the month (e.g. the 15th)"),
    "weekly": _l("Every week"),
    "biweekly": _l("Every other week"),
}
ORDINAL_CHOICES = {"1": _l("first"), "2": _l("second"), "3": _l("third"), "4": _l("fourth")}
WEEKDAY_CHOICES = {str(i): name for i, name in enumerate(WEEKDAY_NAMES)}
REMINDER_CHOICES = {
    "20160": _l("14 days before"),
    "10080": _l("7 days before"),
    "4320": _l("3 days before"),
    "1440": _l("1 day before"),
    "180": _l("3 hours before"),
    "60": _l("1 hour before"),
    "15": _l("15 minutes before"),
}
TIME_MESSAGE = _l("Give a time of day like 14:00.")


class CallsForm(Form):
    """A form whose refusals naming none of its fields land at `refusal_field`, beside the text."""

    refusal_field = "title"

    def validate_on_submit(self, extra_validators: Any = None) -> bool:
        """Whether the form was submitted and is valid, and no service refused it yet."""
        error = refusal()
        if error is not None and not (error.field and hasattr(self, error.field)):
            error.field = self.refusal_field
        return bool(super().validate_on_submit(extra_validators))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _options(labels: dict[str, Any]) -> list[SelectChoice]:
    """{value: label} as WTForms options; the labels may be lazy (translated when shown)."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def _zone_choices() -> dict[str, str]:
    return {name: name.replace("_", " ") for name in zone_names()}


class SeriesForm(CallsForm):
    """A recurring call series, with a Preview button that shows the next six dates."""

    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please give the call a title.")), Length(max=200)]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    joining_details = TextAreaField(
        _l("Joining details (dial-in numbers, video link, access codes)"),
        validators=[Length(max=2000)],
        description=_l("Shown to members on the call's page only; sealed at rest."),
    )
    timezone = SelectField(_l("Organiser's time zone"), validators=[DataRequired()])
    pattern = SelectField(_l("How often"), choices=_options(PATTERN_CHOICES))
    ordinal = SelectField(_l("Which one"), choices=_options(ORDINAL_CHOICES), default="2")
    weekday = SelectField(_l("Weekday"), choices=_options(WEEKDAY_CHOICES), default="3")
    day_of_month = IntegerField(
        _l("Day of the month"),
        validators=[Optional(), NumberRange(1, 31, _l("A day of the month is 1 to 31."))],
    )
    time_of_day = TimeField(_l("Time"), validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    rotation_time = TimeField(
        _l("Alternate with this time (optional, fair rotation)"),
        validators=[Optional()],
        format="%H:%M",
    )
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=60,
        validators=[
            InputRequired(_l("Give the duration.")),
            NumberRange(5, 10080, _l("Between 5 minutes and 7 days.")),
        ],
    )
    starts_on = DateField(
        _l("First possible date"), validators=[InputRequired(_l("Give a start date."))]
    )
    reminders = MultiCheckboxField(
        _l("Reminders"), choices=_options(REMINDER_CHOICES), default=["10080", "60"]
    )
    is_email_joining_allowed = BooleanField(
        _l("Allow the joining details in reminder e-mails (e-mail is not confidential)")
    )
    organisers = MultiCheckboxField(_l("Organisers (coordinators organise every call)"), choices={})
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def start_at(self, zone: str) -> datetime:
        """The first possible date as midnight in the organiser's zone."""
        day: date = self.starts_on.data
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))

    def payload(self) -> dict[str, Any]:
        """The series service's arguments: the chosen rule and fields, and the organisers' ids."""
        zone = self.timezone.data or "UTC"
        pattern = self.pattern.data
        fields = SeriesFields(
            title=self.title.data or "",
            description=self.description.data or "",
            joining_details=self.joining_details.data or "",
            timezone=zone,
            time_of_day=self.time_of_day.data.strftime("%H:%M"),
            rotation_time=self.rotation_time.data.strftime("%H:%M")
            if self.rotation_time.data
            else None,
            pattern=pattern,
            ordinal=int(self.ordinal.data) if pattern == "nth_weekday" else None,
            weekday=int(self.weekday.data) if pattern != "day_of_month" else None,
            day_of_month=self.day_of_month.data if pattern == "day_of_month" else None,
            starts_at=self.start_at(zone),
            duration_minutes=self.duration_minutes.data,
            reminder_offsets=[int(x) for x in self.reminders.data or []],
            is_email_joining_allowed=bool(self.is_email_joining_allowed.data),
        )
        return {"fields": fields, "organiser_ids": list(self.organisers.data or [])}

    def fill(self, series: CallSeries, viewer_zone: tzinfo) -> None:
        """Show a series' current settings."""
        self.title.data = series.title
        self.description.data = series.open("description")
        self.joining_details.data = series.open("joining")
        self.timezone.data = series.timezone
        self.pattern.data = series.pattern
        self.ordinal.data = str(series.ordinal or 2)
        self.weekday.data = str(series.weekday if series.weekday is not None else 3)
        self.day_of_month.data = series.day_of_month
        self.time_of_day.data = datetime.strptime(series.time_of_day, "%H:%M").time()
        if series.rotation_time:
            self.rotation_time.data = datetime.strptime(series.rotation_time, "%H:%M").time()
        self.duration_minutes.data = series.duration_minutes
        self.starts_on.data = series.starts_at.astimezone(viewer_zone).date()
        self.reminders.data = [str(o) for o in series.offsets]
        self.is_email_joining_allowed.data = series.is_email_joining_allowed
        self.organisers.data = sorted(series.organiser_ids)


class AdhocForm(CallsForm):
    """A one-off call."""

    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please give the call a title.")), Length(max=200)]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    joining_details = TextAreaField(_l("Joining details"), validators=[Length(max=2000)])
    day = DateField(_l("Date"), validators=[InputRequired(_l("Give a date."))])
    start_time = TimeField(_l("Start"), validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    duration_minutes = IntegerField(
        _l("Duration in minutes"), default=60, validators=[InputRequired(), NumberRange(5, 10080)]
    )
    save = SubmitField(_l("Schedule the call"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def suggest(self, zone: tzinfo) -> None:
        """Suggest the next full hour after an hour from now, in the viewer's zone."""
        soon = datetime.now(zone) + timedelta(hours=1)
        self.timezone.data = str(zone)
        self.day.data = soon.date()
        self.start_time.data = soon.time().replace(minute=0, second=0, microsecond=0)

    def payload(self) -> dict[str, Any]:
        """The ad-hoc call service's arguments."""
        return {
            "title": self.title.data or "",
            "starts_at": aware(self.day.data, self.start_time.data, self.timezone.data),
            "duration_minutes": self.duration_minutes.data,
            "joining_details": self.joining_details.data or "",
            "description": self.description.data or "",
        }


class EventForm(CallsForm):
    """A multi-day event such as the annual symposium."""

    refusal_field = "end_day"

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please give the event a title.")), Length(max=200)],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    place = StringField(_l("Place"), validators=[Length(max=300)])
    programme = TextAreaField(_l("Programme"), validators=[Length(max=20000)])
    joining_details = TextAreaField(
        _l("Joining details for remote participants"), validators=[Length(max=2000)]
    )
    start_day = DateField(_l("First day"), validators=[InputRequired(_l("Give the first day."))])
    start_time = TimeField(
        _l("Starts at"), validators=[InputRequired(TIME_MESSAGE)], format="%H:%M"
    )
    end_day = DateField(_l("Last day"), validators=[InputRequired(_l("Give the last day."))])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField(_l("Time zone of the place"), validators=[DataRequired()])
    save = SubmitField(_l("Create the event"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def payload(self) -> dict[str, Any]:
        """The event service's arguments."""
        zone = self.timezone.data
        return {
            "title": self.title.data or "",
            "starts_at": aware(self.start_day.data, self.start_time.data, zone),
            "ends_at": aware(self.end_day.data, self.end_time.data, zone),
            "timezone": zone,
            "place": self.place.data or "",
            "programme": self.programme.data or "",
            "description": self.description.data or "",
            "joining_details": self.joining_details.data or "",
        }


class RsvpForm(CallsForm):
    """Attending, maybe, not attending."""

    refusal_field = "answer"

    answer = RadioField(
        _l("Will you join?"),
        choices=_options(ANSWER_LABELS),
        validators=[DataRequired(_l("Choose an answer."))],
    )
    save = SubmitField(_l("Save my answer"))


class AgendaForm(PersonalDataGuard, CallsForm):
    """A member's proposal for the agenda."""

    pii_fields = ("title", "description")

    title = StringField(
        _l("Item"), validators=[DataRequired(_l("Please give the item a title.")), Length(max=200)]
    )
    description = TextAreaField(_l("Short description"), validators=[Length(max=2000)])
    presenter = StringField(_l("Presenter"), validators=[Length(max=200)])
    save = SubmitField(_l("Propose"))

    def payload(self) -> dict[str, Any]:
        """The proposal service's arguments."""
        return {name: self[name].data or "" for name in ("title", "description", "presenter")}


class DecideForm(CallsForm):
    """An organiser's decision on an agenda item."""

    refusal_field = "minutes_allotted"

    status = SelectField(
        _l("Decision"),
        choices=_options(
            {"accepted": _l("Accept"), "declined": _l("Decline"), "proposed": _l("Undecided")}
        ),
    )
    minutes_allotted = IntegerField(
        _l("Minutes allotted"), validators=[Optional(), NumberRange(1, 600)]
    )
    save = SubmitField(_l("Save"))


class MoveItemForm(CallsForm):
    """Move an agenda item up or down."""

    refusal_field = ""  # a one-button form: the refusal is flashed on the next page

    direction = SelectField(_l("Direction"), choices=_options({"-1": _l("up"), "1": _l("down")}))

    def payload(self) -> dict[str, Any]:
        """The move service's argument: -1 (up) or 1 (down)."""
        return {"direction": int(self.direction.data)}


class MoveForm(CallsForm):
    """Move one occurrence."""

    refusal_field = "start_time"

    day = DateField(_l("Date"), validators=[InputRequired(_l("Give a date."))])
    start_time = TimeField(_l("Start"), validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    duration_minutes = IntegerField(
        _l("Duration in minutes"), validators=[InputRequired(), NumberRange(5, 10080)]
    )
    save = SubmitField(_l("Move this call"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def payload(self) -> dict[str, Any]:
        """The move service's arguments: the new start and duration."""
        return {
            "starts_at": aware(self.day.data, self.start_time.data, self.timezone.data),
            "duration_minutes": self.duration_minutes.data,
        }


class JoiningForm(CallsForm):
    """Joining details of one occurrence."""

    refusal_field = "joining_details"

    joining_details = TextAreaField(
        _l("Joining details for this call only"), validators=[Length(max=2000)]
    )
    save = SubmitField(_l("Save joining details"))

    def payload(self) -> dict[str, Any]:
        """The joining service's argument."""
        return {"joining_details": self.joining_details.data or ""}


class AttendanceForm(CallsForm):
    """Who attended."""

    refusal_field = "attended"

    attended = MultiCheckboxField(_l("Attended"), choices={})
    save = SubmitField(_l("Record attendance"))


class ActionForm(wtforms.Form):
    """One action item row of the minutes."""

    text = StringField(_l("Action"), validators=[Length(max=500)])
    owner = SelectField(_l("Owner"), choices={})


class MinutesForm(PersonalDataGuard, CallsForm):
    """Minutes in Markdown, a TLP label and action items."""

    refusal_field = "body"

    pii_fields = ("body", "actions")

    body = TextAreaField(
        _l("Minutes (Markdown)"),
        validators=[DataRequired(_l("The minutes are empty.")), Length(max=100_000)],
    )
    label = SelectField(
        _l("TLP label"), choices={code: f"TLP:{code}" for code in tlp.LABELS}, default=tlp.AMBER
    )
    actions = FieldList(FormField(ActionForm), min_entries=5, max_entries=20)
    save = SubmitField(_l("Save the minutes"))

    def fill(self, existing: Minutes) -> None:
        """Show minutes already written."""
        self.process(formdata=None, body=existing.open("body"), label=existing.label)
        for entry, item in zip(self.actions.entries, existing.action_items, strict=False):
            entry.form.text.data = item.open("text")
            entry.form.owner.data = item.owner_id or ""

    def payload(self) -> dict[str, Any]:
        """The minutes service's arguments; action items name their owner by id."""
        return {
            "body": self.body.data or "",
            "label": self.label.data,
            "actions": [(e.form.text.data or "", e.form.owner.data or "") for e in self.actions],
        }
