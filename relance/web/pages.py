"""What the staff pages share: the reader's language, and a list's pages."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import get_language


def language() -> str:
    """The reader's language ("en", "fr"), for Babel's formatting of money and dates."""
    return (get_language() or "en")[:2]


def paged(request: HttpRequest, items: Any, size: int) -> dict[str, Any]:
    """The requested page of `items`, and the query string of the others without their page
    number: what templates/relance/pages.html links with, keeping searches and filters."""
    kept = request.GET.copy()
    kept.pop("page", None)
    page: Page[Any] = Paginator(items, size).get_page(request.GET.get("page"))
    return {"page": page, "querystring": kept.urlencode()}
