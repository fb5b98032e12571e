"""Posts are Markdown rendered to HTML through an allow-list: no script, no event handlers,
no javascript: or data: URLs, no raw HTML, no images from anywhere but the Exchange's attachments."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from forum.markup.markdown import ALLOWED_TAGS, quote, render

OWN_IMAGE = "/threads/attachments/" + "ab" * 16

VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![tracker](https://evil.example/pixel.png)",
    "![tracker](//evil.example/pixel.png)",
    "<iframe src='https://evil.example'></iframe>",
    "<a href='https://evil.example' onclick='steal()'>x</a>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](vbscript:msgbox(1))",
    "<form action='https://evil.example'><input name=p></form>",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def _elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("vector", VECTORS)
def test_sanitiser_removes_every_active_or_remote_content(vector):
    html = render(vector)
    for tag, attributes in _elements(html):
        assert tag in ALLOWED_TAGS, (vector, html)
        for name, value in attributes.items():
            assert not name.startswith("on") and name != "style", (vector, html)
            lowered = value.strip().lower()
            assert not lowered.startswith(("javascript:", "data:", "vbscript:")), (vector, html)
        if tag == "img":
            assert attributes["src"].startswith("/threads/attachments/"), (vector, html)


def test_raw_html_is_shown_as_text_not_rendered():
    html = render("<b>bold?</b>")
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_markdown_formatting_links_and_own_images_survive():
    html = render(
        f"**strong** _em_ `code`\n\n- item\n\n[site](https://example.org)\n\n![chart]({OWN_IMAGE})"
    )
    assert (
        "<strong>strong</strong>" in html and "<em>em</em>" in html and "<code>code</code>" in html
    )
    assert "<li>item</li>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert f'<img src="{OWN_IMAGE}" alt="chart">' in html


def test_remote_image_is_dropped_entirely():
    assert "<img" not in render("![x](https://example.org/a.png)")


def test_quote_prefixes_every_line_and_names_the_author():
    assert (
        quote("line one\n\nline two", "Ana") == "> **Ana** wrote:\n>\n> line one\n>\n> line two\n\n"
    )
    assert "<blockquote>" in render(quote("hello", "Ana"))
