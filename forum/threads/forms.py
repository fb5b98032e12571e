"""Forms of the threads feature (every POST goes through a FlaskForm, so it carries CSRF)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from forum.forms import EmptyForm, Form
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.markup import tlp
from forum.security.pii import PII_CONFIRM
from forum.threads.services import BODY_TOO_LONG, MAX_BODY, MAX_TITLE, TITLE_TOO_LONG

__all__ = ["PII_CONFIRM", "EmptyForm", "choices"]


def choices(pairs: Iterable[tuple[str, Text]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class ThreadForm(Form):
    """Start a thread."""

    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Please give the thread a title.")),
            Length(max=MAX_TITLE, message=TITLE_TOO_LONG),
        ],
    )
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    label = SelectField(_l("TLP label"), choices=choices(tlp.CHOICES), default=tlp.AMBER)
    tags = StringField(
        _l("Tags (comma-separated)"),
        validators=[Optional(), Length(max=400, message=_l("Please use fewer tags."))],
    )
    participants = SelectMultipleField(_l("Participants (TLP:RED only)"), choices=[])
    body = TextAreaField(
        _l("First post (Markdown)"),
        validators=[
            DataRequired(_l("Please write something.")),
            Length(max=MAX_BODY, message=BODY_TOO_LONG),
        ],
    )
    attachment = FileField(_l("Attach a file (optional)"))
    pending_attachment = HiddenField()
    drop_attachment = BooleanField(_l("Do not attach it"))
    confirm_pii = BooleanField(PII_CONFIRM)

    def payload(self) -> dict[str, Any]:
        """compose.start_thread's arguments."""
        return {
            "title": self.title.data or "",
            "category": self.category.data or None,
            "label": self.label.data or "",
            "tags": self.tags.data or "",
            "participants": self.participants.data or [],
            "body": self.body.data or "",
            "pii_confirmed": bool(self.confirm_pii.data),
        }


class ReplyForm(Form):
    """Reply in a thread."""

    body = TextAreaField(
        _l("Your reply (Markdown)"),
        validators=[
            DataRequired(_l("Please write something.")),
            Length(max=MAX_BODY, message=BODY_TOO_LONG),
        ],
    )
    quote_of = HiddenField()
    attachment = FileField(_l("Attach a file (optional)"))
    pending_attachment = HiddenField()
    drop_attachment = BooleanField(_l("Do not attach it"))
    confirm_pii = BooleanField(PII_CONFIRM)

    def payload(self) -> dict[str, Any]:
        """compose.reply's arguments."""
        return {
            "body": self.body.data or "",
            "quote_of": self.quote_of.data or "",
            "pii_confirmed": bool(self.confirm_pii.data),
        }


class EditForm(Form):
    """Edit a post."""

    body = TextAreaField(
        _l("Post (Markdown)"),
        validators=[
            DataRequired(_l("Please write something.")),
            Length(max=MAX_BODY, message=BODY_TOO_LONG),
        ],
    )
    confirm_pii = BooleanField(PII_CONFIRM)

    def payload(self) -> dict[str, Any]:
        """services.edit_post's arguments."""
        return {"body": self.body.data or "", "pii_confirmed": bool(self.confirm_pii.data)}


class FlagForm(Form):
    """Flag a post to the coordinators."""

    reason = TextAreaField(
        _l("Why should a coordinator look at this post?"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=1000)],
    )


class LabelForm(Form):
    """Change a thread's TLP label."""

    label = SelectField(_l("New TLP label"), choices=choices(tlp.CHOICES))
    confirm_lowering = BooleanField(
        _l("I confirm lowering the label, so more people may read and share this thread")
    )


class ParticipantForm(Form):
    """Add or remove a participant of a RED thread."""

    member_id = SelectField(_l("Member"), choices=[], validate_choice=False)
    action = HiddenField(default="add")


class WatchForm(Form):
    """Follow, mute or reset a thread or category."""

    level = HiddenField()


class MoveForm(Form):
    """Move a thread to another category."""

    category = SelectField(_l("Move to category"), choices=[], validate_choice=False)


class CategoryForm(Form):
    """Create a category."""

    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Please give a name.")), Length(max=120)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])


class SearchForm(Form):
    """Search (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    q = StringField(_l('Words or "a phrase"'), validators=[Optional(), Length(max=300)])
    author = SelectField(_l("Author"), choices=[], validators=[Optional()])
    category = SelectField(_l("Category"), choices=[], validators=[Optional()])
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=40)])
    label = SelectField(
        _l("Label"), choices=choices([("", _l("Any label")), *tlp.CHOICES]), validators=[Optional()]
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def payload(self) -> dict[str, Any]:
        """forum.threads.search.Query's arguments (dates as whole UTC days)."""
        return {
            "text": self.q.data or "",
            "author_id": self.author.data or None,
            "category_id": self.category.data or None,
            "tag": (self.tag.data or "").strip() or None,
            "label": self.label.data or None,
            "date_from": _day(self.date_from.data),
            "date_to": _day(self.date_to.data, end=True),
        }


def _day(value: date | None, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    moment = datetime.combine(value, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment
