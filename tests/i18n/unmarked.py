"""Find user-facing text that is not marked for translation: words in templates outside `_()` /
`{% trans %}`, and string literals handed to flash(), form fields, validators and the domain
errors in forum/. Run it as `python -m tests.i18n.unmarked [paths...]` to list what is left.

Extraction (pybabel) only sees what is marked, so a test that compares catalogues with the
extracted messages cannot notice a forgotten sentence; this scan can.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PACKAGE = ROOT / "forum"

# Attributes whose value a person reads or a screen reader speaks.
SPOKEN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
# Words that are the same in every language: TLP labels as TLP 2.0 writes them, codes, units.
SAME_EVERYWHERE = re.compile(
    r"^(TLP:(CLEAR|GREEN|AMBER|AMBER\+STRICT|RED)|TLP|INVICTM|ICS|iCal|UTC|TOTP|URL|ID|SMS|"
    r"PDF|CSV|OK|[A-Z]{2}|[a-z]{1,3}\.?|[A-Z][a-z]?\.?)$"
)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
COMMENT = re.compile(r"\{#.*?#\}", re.S)
TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.S)
WORD = re.compile(r"[^\W\d_]{2,}")


def _words_left(text: str) -> str:
    text = text.replace("\x00", " ")
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    words = [w for w in re.split(r"[\s·—–|/(),:;.!?…“”\"'’+•×]+", text) if WORD.search(w)]
    words = [w for w in words if not SAME_EVERYWHERE.match(w)]
    return " ".join(words)


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            spoken = name in SPOKEN_ATTRIBUTES or (
                name == "value" and values.get("type") in {"submit", "button", "reset"}
            )
            if spoken and value and _words_left(value):
                self.found.append((self.getpos()[0], f'{name}="{value.strip()}"'))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and _words_left(data):
            self.found.append((self.getpos()[0], data.strip()))


def _blank(match: re.Match[str]) -> str:
    # Keep line numbers: a blanked span keeps its newlines.
    return " " + "\n" * match.group(0).count("\n")


def template_text(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every unmarked piece of words in one template."""
    source = path.read_text("utf-8")
    source = COMMENT.sub(_blank, source)
    source = TRANS_BLOCK.sub(_blank, source)
    source = JINJA.sub(_blank, source)
    if path.suffix == ".txt":
        return [
            (n, line.strip()) for n, line in enumerate(source.splitlines(), 1) if _words_left(line)
        ]
    scan = _Scan()
    scan.feed(source)
    scan.close()
    return scan.found


# Calls whose string argument a person reads.
MESSAGE_CALLS = {
    "flash",
    "ValidationError",
    "Invalid",
    "NotFound",
    "NotAllowed",
    "AlertError",
    "AlertNotFound",
    "CallError",
    "ThreadError",
    "AttachmentError",
    "FileTypeError",
    "RecurrenceError",
    "WebhookError",
    "DataRequired",
    "InputRequired",
}
MESSAGE_KEYWORDS = {"message", "label", "description", "placeholder"}
MARKERS = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_literal_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words_left(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _words_left(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp):  # "a" + "b", "…%s" % x
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    return False


def python_text(path: Path) -> list[tuple[int, str]]:
    """(line, text) of string literals handed unmarked to what a person reads."""
    tree = ast.parse(path.read_text("utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) in MARKERS:
            continue
        name = _name(node.func)
        candidates: list[ast.expr] = []
        if name in MESSAGE_CALLS or name.endswith("Field"):
            candidates += node.args[:1]
        candidates += [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS]
        for k in node.keywords:
            if k.arg == "render_kw" and isinstance(k.value, ast.Dict):
                candidates += [
                    v
                    for key, v in zip(k.value.keys, k.value.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value in SPOKEN_ATTRIBUTES
                ]
        for candidate in candidates:
            if _is_literal_text(candidate):
                found.append((candidate.lineno, ast.unparse(candidate)[:100]))
    return found


def unmarked(paths: Iterable[Path] | None = None) -> Iterator[str]:
    """`file:line: text` for every unmarked piece under the paths (default: the whole app)."""
    roots = list(paths) if paths else [TEMPLATES, PACKAGE]
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.suffix in {".html", ".txt"} and TEMPLATES in path.parents:
                pieces = template_text(path)
            elif path.suffix == ".py" and PACKAGE in path.parents:
                pieces = python_text(path)
            else:
                continue
            for line, text in pieces:
                yield f"{path.relative_to(ROOT)}:{line}: {text}"


if __name__ == "__main__":
    left = list(unmarked([Path(p).resolve() for p in sys.argv[1:]]))
    print("\n".join(left))
    print(f"{len(left)} unmarked", file=sys.stderr)
