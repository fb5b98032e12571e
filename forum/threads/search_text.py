"""The text side of search: how words are normalised, what a query is, and excerpts with
the query's words highlighted."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

WORD = re.compile(r"\w+", re.UNICODE)
QUERY_PART = re.compile(r'"([^"]*)"|(\S+)')

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def normalise(text: str) -> str:
    """Text as indexed: compatibility-decomposed, accents removed, case folded."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def tokens(text: str) -> list[str]:
    """The normalised words of a text, in order."""
    return WORD.findall(normalise(text))


@dataclass
class Query:
    """What a member searches for."""

    text: str = ""
    author_id: str | None = None
    category_id: str | None = None
    tag: str | None = None
    label: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

    @property
    def words(self) -> list[str]:
        return [w for part in self.phrases + self.loose for w in tokens(part)]

    @property
    def phrases(self) -> list[str]:
        return [m.group(1) for m in QUERY_PART.finditer(self.text) if m.group(1)]

    @property
    def loose(self) -> list[str]:
        return [m.group(2) for m in QUERY_PART.finditer(self.text) if m.group(2)]

    @property
    def is_empty(self) -> bool:
        return not (
            self.words
            or self.author_id
            or self.category_id
            or self.tag
            or self.label
            or self.date_from
            or self.date_to
        )


def has_phrase(words: list[str], phrase: list[str]) -> bool:
    """Whether the words contain the phrase's words in a row."""
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def holds_phrase(text: str, phrase: list[str]) -> bool:
    """Whether a text holds the phrase's normalised words in a row (a regular expression over
    the normalised text: the same answer as has_phrase(tokens(text), phrase), at C speed)."""
    normal = normalise(text)
    pattern = r"\W+".join(re.escape(w) for w in phrase) + r"(?!\w)"  # a literal start: fast
    for match in re.finditer(pattern, normal):
        start = match.start()
        if start == 0 or not WORD.match(normal[start - 1]):
            return True
    return False


_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
_BLOCK = re.compile(
    r"</?(?:p|h[1-6]|li|ul|ol|blockquote|pre|t[rdh]|table|thead|tbody|hr|br)\b[^>]*>"
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(source: str) -> str:
    """A post's Markdown as the plain words a reader sees: no marks, no tags, one line."""
    rendered = _md.render(source)
    text = _TAG.sub("", _BLOCK.sub(" ", rendered))  # blocks part words, inline marks vanish
    return _SPACE.sub(" ", html.unescape(text)).strip()


def matcher(words: list[str], min_prefix: int) -> Callable[[str], bool]:
    """Whether a normalised word is one of the query's (or begins with one of its prefixes)."""
    exact = set(words)
    prefixes = tuple(w for w in exact if len(w) >= min_prefix)
    return lambda word: word in exact or word.startswith(prefixes)


def score(source: str, words: list[str]) -> int:
    """Roughly how many different query words a text holds (to pick a thread's best excerpt):
    substring tests on the normalised text, so a long post costs little."""
    normal = normalise(source)
    return sum(1 for w in set(words) if w in normal)


def excerpt_text(source: str, words: list[str], before: int = 400, after: int = 1200) -> str:
    """The plain text of the part of a post's Markdown around its first query word (only that
    part is rendered, so a long post costs little)."""
    normal = normalise(source)
    found = [i for i in (normal.find(w) for w in set(words)) if i >= 0]
    start = max(min(found, default=0) - before, 0)
    piece = plain_text(source[start : start + before + after])
    return f"… {piece}" if start else piece


def excerpt(text: str, matches: Callable[[str], bool], width: int = 220) -> Markup:
    """Plain text around the first matching word, escaped, with matching words in <mark>."""
    found = [m for m in WORD.finditer(text) if matches(normalise(m.group(0)))]
    start = max(found[0].start() - width // 3, 0) if found else 0
    end = min(start + width, len(text))
    pieces: list[str] = ["…" if start else ""]
    cursor = start
    for match in found:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(str(escape(text[cursor : match.start()])))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        cursor = match.end()
    pieces.append(str(escape(text[cursor:end])))
    pieces.append("…" if end < len(text) else "")
    return Markup("".join(pieces))  # noqa: S704 - every piece of text was escaped above
