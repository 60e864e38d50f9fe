"""What a browser would send back from a page's form, read from its HTML: each input's value and
each select's selected option (the suggestions a page makes are what the person submits when
they change nothing)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Form(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.select = form_id, False, None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("type") not in ("submit", "checkbox", "radio", "file"):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values[a["name"]] = a.get("value", "on")
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(a["name"], "")
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def form_values(page: Any, form_id: str) -> dict[str, str]:
    parser = _Form(form_id)
    parser.feed(page.content.decode())
    parser.values.pop("csrfmiddlewaretoken", None)
    return parser.values


def columns_of(page: Any) -> dict[str, str]:
    """The import wizard's column form as suggested."""
    return form_values(page, "columns-form")
