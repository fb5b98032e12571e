"""Lazy texts (translated when read, in the reader's or the recipient's language) that Jinja
escapes like any other string.

Flask-Babel's LazyString tells Jinja it is already HTML (`__html__` returns the text as it is),
so a lazy text carrying a value — or a translation carrying a quote inside an attribute — would
go into a page unescaped. Every lazy text of the Exchange is made here instead: the same lazy
string, escaped when a template renders it. A page that needs markup around a translated
sentence builds it in the template, with the sentence's values escaped by Jinja.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape


class LazyText(LazyString):  # type: ignore[misc]
    """A lazy gettext text that is escaped in templates."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    return LazyText(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyText:
    return LazyText(ngettext, singular, plural, num, **variables)
