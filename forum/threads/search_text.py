"""The text side of search: how words are normalised, what a query is, and excerpts with
the query's words highlighted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

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
        return not (self.words or self.author_id or self.category_id or self.tag or self.label
                    or self.date_from or self.date_to)  # fmt: skip


def has_phrase(words: list[str], phrase: list[str]) -> bool:
    """Whether the words contain the phrase's words in a row."""
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def excerpt(text: str, words: list[str], width: int = 220) -> Markup:
    """A short piece of the text around the first query word, with query words in <mark>."""
    wanted = set(words)
    matches = [m for m in WORD.finditer(text) if normalise(m.group(0)) in wanted]
    start = max(matches[0].start() - width // 3, 0) if matches else 0
    end = min(start + width, len(text))
    pieces: list[str] = ["…" if start else ""]
    cursor = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(str(escape(text[cursor : match.start()])))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        cursor = match.end()
    pieces.append(str(escape(text[cursor:end])))
    pieces.append("…" if end < len(text) else "")
    return Markup("".join(pieces))  # noqa: S704 - every piece of text was escaped above
