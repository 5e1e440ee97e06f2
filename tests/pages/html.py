"""Read a rendered page the way a browser's parser would: its text, its elements and their attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that do not break the text around them (a block element or a table cell does).
INLINE = frozenset({"a", "mark", "span", "code", "strong", "small", "b", "i", "em", "abbr"})


@dataclass
class Parsed:
    """What a page holds: every element with its attributes, and the text a reader sees."""

    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The visible text with whitespace collapsed to single spaces."""
        return re.sub(r"\s+", " ", "".join(self.pieces)).strip()

    def tags(self, name: str) -> list[dict[str, str]]:
        """The attributes of every element with this tag name."""
        return [attrs for tag, attrs in self.elements if tag == name]

    def hrefs(self, rel: str | None = None) -> list[str]:
        """Link targets, optionally only those with this ``rel``."""
        return [a["href"] for a in self.tags("a") if "href" in a and (rel is None or a.get("rel") == rel)]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parsed = Parsed()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parsed.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in INLINE:
            self.parsed.pieces.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in INLINE:
            self.parsed.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        self.parsed.pieces.append(data)


def parse(body: bytes | str) -> Parsed:
    """Parse a page's HTML."""
    parser = _Parser()
    parser.feed(body.decode("utf-8") if isinstance(body, bytes) else body)
    parser.close()
    return parser.parsed
