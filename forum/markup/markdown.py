"""Markdown to safe HTML: markdown-it-py (raw HTML off) and then nh3 with an allow-list.

No raw HTML, no event handlers, no `javascript:` or `data:` URLs, and no remote images: an image
is kept only when it points at one of this Exchange's own attachment URLs.
"""

from __future__ import annotations

import re

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt

ATTACHMENT_URL = re.compile(r"^/threads/attachments/[0-9a-f]{32}$")

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if ATTACHMENT_URL.match(value) else None
    if tag == "a" and attribute == "href":
        lowered = value.strip().lower()
        if lowered.startswith(("javascript:", "data:", "vbscript:")):
            return None
    return value


def sanitise(html: str) -> str:
    """Clean HTML down to the allow-list (what a post may contain)."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_filter,
        strip_comments=True,
    )
    # An <img> whose src was refused is dropped entirely rather than left as a broken image.
    return re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", cleaned)


def render(text: str) -> str:
    """Render a post's Markdown to sanitised HTML."""
    return sanitise(_md.render(text))


def quote(text: str, author_name: str) -> str:
    """The Markdown that quotes a post in a reply."""
    lines = text.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    wrote = _("%(name)s wrote:", name="**" + author_name + "**")
    return f"> {wrote}\n>\n{quoted}\n\n"
