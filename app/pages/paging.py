"""Page links for a paginated result: first, last and the pages around the current one.

Every link is built by the caller's ``url_for_page`` so that it keeps the query and the filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 2  # pages shown on each side of the current one


@dataclass(frozen=True)
class PageLink:
    """One entry of the pager: a page number with its link, the current page, or a gap."""

    label: str
    url: str | None = None
    current: bool = False


@dataclass(frozen=True)
class Pager:
    """The pager of one page of results."""

    total: int
    page: int
    per_page: int
    pages: int
    links: tuple[PageLink, ...]
    prev_url: str | None
    next_url: str | None

    @property
    def first_item(self) -> int:
        """1-based number of the first result on this page (0 when there are none)."""
        return 0 if self.total == 0 else min((self.page - 1) * self.per_page + 1, self.total)

    @property
    def last_item(self) -> int:
        """1-based number of the last result on this page."""
        return min(self.page * self.per_page, self.total)


def make_pager(total: int, page: int, per_page: int, url_for_page: Callable[[int], str],
               max_pages: int | None = None) -> Pager:
    """The pager for ``page`` of ``total`` results, at most ``max_pages`` pages deep."""
    pages = max((total + per_page - 1) // per_page, 1)
    if max_pages is not None:
        pages = min(pages, max_pages)
    shown = sorted({1, pages, *range(max(page - WINDOW, 1), min(page + WINDOW, pages) + 1)})
    links: list[PageLink] = []
    for number in shown:
        if links and number > int(links[-1].label) + 1:
            links.append(PageLink("…"))
        links.append(PageLink(str(number), None if number == page else url_for_page(number), number == page))
    return Pager(total, page, per_page, pages, tuple(links) if pages > 1 else (),
                 url_for_page(min(page - 1, pages)) if page > 1 else None,
                 url_for_page(page + 1) if page < pages else None)
