"""Forms of the calls feature. Each POST goes through a FlaskForm (CSRF included)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.calls.models import ANSWER_LABELS
from forum.calls.recurrence import WEEKDAY_NAMES, zone_names
from forum.markup import tlp
from forum.security.pii import PersonalDataGuard

# Choices are {value: label} dicts (WTForms 3.3 deprecates tuples).
PATTERN_CHOICES = {
    "nth_weekday": "On a weekday of the month (e.g. the second Thursday)",
    "last_weekday": "On the last weekday of the month (e.g. the last Tuesday)",
    "day_of_month": "On a day of the month (e.g. the 15th)",
    "weekly": "Every week",
    "biweekly": "Every other week",
}
ORDINAL_CHOICES = {"1": "first", "2": "second", "3": "third", "4": "fourth"}
WEEKDAY_CHOICES = {str(i): name for i, name in enumerate(WEEKDAY_NAMES)}
REMINDER_CHOICES = {
    "20160": "14 days before",
    "10080": "7 days before",
    "4320": "3 days before",
    "1440": "1 day before",
    "180": "3 hours before",
    "60": "1 hour before",
    "15": "15 minutes before",
}
TIME_MESSAGE = "Give a time of day like 14:00."


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _zone_choices() -> dict[str, str]:
    return {name: name.replace("_", " ") for name in zone_names()}


class SeriesForm(FlaskForm):
    """A recurring call series, with a Preview button that shows the next six dates."""

    title = StringField(
        "Title", validators=[DataRequired("Please give the call a title."), Length(max=200)]
    )
    description = TextAreaField("Description", validators=[Length(max=5000)])
    joining_details = TextAreaField(
        "Joining details (dial-in numbers, video link, access codes)",
        validators=[Length(max=2000)],
        description="Shown to members on the call's page only; sealed at rest.",
    )
    timezone = SelectField("Organiser's time zone", validators=[DataRequired()])
    pattern = SelectField("How often", choices=PATTERN_CHOICES)
    ordinal = SelectField("Which one", choices=ORDINAL_CHOICES, default="2")
    weekday = SelectField("Weekday", choices=WEEKDAY_CHOICES, default="3")
    day_of_month = IntegerField(
        "Day of the month",
        validators=[Optional(), NumberRange(1, 31, "A day of the month is 1 to 31.")],
    )
    time_of_day = TimeField("Time", validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    rotation_time = TimeField(
        "Alternate with this time (optional, fair rotation)",
        validators=[Optional()],
        format="%H:%M",
    )
    duration_minutes = IntegerField(
        "Duration in minutes",
        default=60,
        validators=[
            InputRequired("Give the duration."),
            NumberRange(5, 10080, "Between 5 minutes and 7 days."),
        ],
    )
    starts_on = DateField("First possible date", validators=[InputRequired("Give a start date.")])
    reminders = MultiCheckboxField("Reminders", choices=REMINDER_CHOICES, default=["10080", "60"])
    is_email_joining_allowed = BooleanField(
        "Allow the joining details in reminder e-mails (e-mail is not confidential)"
    )
    organisers = MultiCheckboxField("Organisers (coordinators organise every call)", choices={})
    preview = SubmitField("Preview")
    save = SubmitField("Save")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def start_at(self, zone: str) -> datetime:
        """The first possible date as midnight in the organiser's zone."""
        day: date = self.starts_on.data
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


class AdhocForm(FlaskForm):
    """A one-off call."""

    title = StringField(
        "Title", validators=[DataRequired("Please give the call a title."), Length(max=200)]
    )
    description = TextAreaField("Description", validators=[Length(max=5000)])
    joining_details = TextAreaField("Joining details", validators=[Length(max=2000)])
    day = DateField("Date", validators=[InputRequired("Give a date.")])
    start_time = TimeField("Start", validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField("Time zone", validators=[DataRequired()])
    duration_minutes = IntegerField(
        "Duration in minutes", default=60, validators=[InputRequired(), NumberRange(5, 10080)]
    )
    save = SubmitField("Schedule the call")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()


class EventForm(FlaskForm):
    """A multi-day event such as the annual symposium."""

    title = StringField(
        "Title", validators=[DataRequired("Please give the event a title."), Length(max=200)]
    )
    description = TextAreaField("Description", validators=[Length(max=5000)])
    place = StringField("Place", validators=[Length(max=300)])
    programme = TextAreaField("Programme", validators=[Length(max=20000)])
    joining_details = TextAreaField(
        "Joining details for remote participants", validators=[Length(max=2000)]
    )
    start_day = DateField("First day", validators=[InputRequired("Give the first day.")])
    start_time = TimeField("Starts at", validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    end_day = DateField("Last day", validators=[InputRequired("Give the last day.")])
    end_time = TimeField("Ends at", validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField("Time zone of the place", validators=[DataRequired()])
    save = SubmitField("Create the event")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()


class RsvpForm(FlaskForm):
    """Attending, maybe, not attending."""

    answer = RadioField(
        "Will you join?",
        choices=dict(ANSWER_LABELS),
        validators=[DataRequired("Choose an answer.")],
    )
    save = SubmitField("Answer")


class AgendaForm(PersonalDataGuard, FlaskForm):
    """A member's proposal for the agenda."""

    pii_fields = ("title", "description")

    title = StringField(
        "Item", validators=[DataRequired("Please give the item a title."), Length(max=200)]
    )
    description = TextAreaField("Short description", validators=[Length(max=2000)])
    presenter = StringField("Presenter", validators=[Length(max=200)])
    save = SubmitField("Propose")


class DecideForm(FlaskForm):
    """An organiser's decision on an agenda item."""

    status = SelectField(
        "Decision",
        choices={"accepted": "Accept", "declined": "Decline", "proposed": "Undecided"},
    )
    minutes_allotted = IntegerField("Minutes", validators=[Optional(), NumberRange(1, 600)])
    save = SubmitField("Save")


class MoveItemForm(FlaskForm):
    """Move an agenda item up or down."""

    direction = SelectField("Direction", choices={"-1": "up", "1": "down"})


class MoveForm(FlaskForm):
    """Move one occurrence."""

    day = DateField("Date", validators=[InputRequired("Give a date.")])
    start_time = TimeField("Start", validators=[InputRequired(TIME_MESSAGE)], format="%H:%M")
    timezone = SelectField("Time zone", validators=[DataRequired()])
    duration_minutes = IntegerField(
        "Duration in minutes", validators=[InputRequired(), NumberRange(5, 10080)]
    )
    save = SubmitField("Move this call")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()


class JoiningForm(FlaskForm):
    """Joining details of one occurrence."""

    joining_details = TextAreaField(
        "Joining details for this call only", validators=[Length(max=2000)]
    )
    save = SubmitField("Save joining details")


class EmptyForm(FlaskForm):
    """A button that posts (cancel, regenerate, revoke …)."""

    submit = SubmitField("Confirm")


class AttendanceForm(FlaskForm):
    """Who attended."""

    attended = MultiCheckboxField("Attended", choices={})
    save = SubmitField("Record attendance")


class ActionForm(Form):
    """One action item row of the minutes."""

    text = StringField("Action", validators=[Length(max=500)])
    owner = SelectField("Owner", choices={})


class MinutesForm(PersonalDataGuard, FlaskForm):
    """Minutes in Markdown, a TLP label and action items."""

    pii_fields = ("body", "actions")

    body = TextAreaField(
        "Minutes (Markdown)",
        validators=[DataRequired("The minutes are empty."), Length(max=100_000)],
    )
    label = SelectField(
        "TLP label", choices={code: f"TLP:{code}" for code in tlp.LABELS}, default=tlp.AMBER
    )
    actions = FieldList(FormField(ActionForm), min_entries=5, max_entries=20)
    save = SubmitField("Save the minutes")
