"""Every page a French finance team reads, in French: no label of the app's own left in English.

The demo ledger (a French and a UK company, a dunning cycle run) is loaded, then the staff app is
walked from the dashboard by following its links, as the demo admin whose language is French, and
the customer portal of a French customer. A page fails when one of its texts (or a title,
placeholder or button) is exactly one of the app's English labels whose French differs: the list
is the French catalogue itself, so a label added later is checked as soon as it is translated.
Data the finance team typed or imported (customer names, a UK company's own plan names) is not
a label and passes.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.utils import translation

import relance
from relance.messaging import library
from relance.models import Company, Customer, Membership
from relance.services import demo
from relance.services.dunning.run import run as run_cycle
from relance.services.portal import links
from relance.web.plan_forms import TEMPLATE_TITLES
from relance.web.templatetags.labels import channel
from tests import clock

CATALOGUE = Path(relance.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"
#: Links not to follow: leaving, files to download, the admin's own (English-only) pages.
SKIPPED = re.compile(r"^/(logout|admin|api)/|\.(pdf|csv|yaml|xlsx|zip)$|/export")
SAME_KIND = 2  # pages of one kind visited (e.g. two customer pages), ids replaced by #
MOST = 120  # pages in all: a bound, should the links ever loop


def english_labels() -> set[str]:
    """The catalogue's English texts whose French is another text, without placeholders."""
    with CATALOGUE.open("rb") as po:
        catalog = read_po(po)
    found = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or "%" in message.id:
            continue
        if message.string and message.string != message.id and re.search("[a-z]", message.id):
            found.add(" ".join(message.id.split()))
    return found


class Texts(HTMLParser):
    """The texts a reader sees: text nodes and the attributes a browser shows."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre", "template"):
            self._hidden += 1
        values = dict(attrs)
        self.texts += [v for k, v in attrs if k in self.SHOWN and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"] or "")
        if tag == "a" and values.get("href") and "download" not in values:
            self.links.append(values["href"] or "")
        if values.get("hx-get"):  # a part of the page fetched after it: the reader sees it too
            self.links.append(values["hx-get"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def read(html: str) -> Texts:
    parsed = Texts()
    parsed.feed(html)
    return parsed


NUMBERS = re.compile(r"^[\d\s:·,.%()€$£+-]+|[\d\s:·,.%()€$£+-]+$")


def leaks(html: str, labels: set[str]) -> set[str]:
    """The page's texts that are English labels, also once a count or an amount around them is
    taken away ("email 3", "Open: 2")."""
    texts = {" ".join(t.split()) for t in read(html).texts}
    return {t for t in texts | {NUMBERS.sub("", t) for t in texts} if t in labels}


def walk(client: Client, start: list[str]) -> dict[str, str]:
    """path -> HTML of every page reached from `start` by same-site links."""
    queue, seen, kinds, pages = list(start), set(start), Counter[str](), {}
    while queue and len(pages) < MOST:
        path = queue.pop(0)
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[path] = html
        for href in read(html).links:
            url = urlsplit(href)
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.scheme or url.netloc or not url.path.startswith("/") or SKIPPED.search(url.path):
                continue
            kind = re.sub(r"\d+", "#", url.path)
            if target in seen or kinds[kind] >= SAME_KIND:
                continue
            seen.add(target)
            kinds[kind] += 1
            queue.append(target)
    return pages


@pytest.fixture
def demo_ledger(db, django_user_model):
    summary = demo.load_demo(customers=12)
    run_cycle(clock.today(), deliver=False)
    # The French team's admin: the demo's superuser would also see the UK company, whose
    # English plan and step names are its own data, not labels.
    claire = django_user_model.objects.create_user("claire", "claire@demo.test", "relance-demo")
    french = Company.objects.get(country="FR")
    Membership.objects.create(user=claire, company=french, role=Membership.Role.ADMIN)
    summary["french_admin"] = {"username": "claire", "password": "relance-demo"}
    return summary


def english_on(pages: dict[str, str]) -> dict[str, list[str]]:
    labels = english_labels()
    found = {path: sorted(leaks(html, labels)) for path, html in pages.items()}
    return {path: texts for path, texts in found.items() if texts}


def signed_in(login: dict[str, str]) -> Client:
    client = Client(headers={"accept-language": "fr"})
    client.post("/login/", {"username": login["username"], "password": login["password"]})
    return client


def test_every_staff_page_is_in_french(demo_ledger):
    pages = walk(signed_in(demo_ledger["french_admin"]), ["/dashboard/"])
    assert len(pages) > 25  # the walk reached the app, not just the dashboard
    assert english_on(pages) == {}


def test_a_sales_reps_pages_are_in_french(demo_ledger):
    pages = walk(signed_in(demo_ledger["sales_rep_login"]), ["/my-customers/"])
    assert "/my-customers/" in pages
    assert english_on(pages) == {}


def test_the_portal_is_in_french_for_a_french_customer(demo_ledger):
    customer = Customer.objects.filter(company__country="FR").order_by("pk").first()
    pages = walk(Client(), [links.path(customer)])
    assert english_on(pages) == {}


def test_a_planted_english_label_is_caught():
    """The check itself: an English label in a page is found, data and French are not."""
    html = (
        "<p>Bonjour</p><button title='Open'>Fabre Logistique</button><span> Planned </span>"
        "<script>var x = 'Planned'</script>"
    )
    assert leaks(html, {"Open", "Planned", "Fabre"}) == {"Open", "Planned"}
    assert leaks("<span>email 3</span><td>Open: 12</td>", {"email", "Open"}) == {"email", "Open"}


def test_every_library_template_has_a_title_people_know():
    """A template added to the library without a title would show as its file name."""
    assert set(library.names()) <= set(TEMPLATE_TITLES)


def test_channels_read_as_words_in_each_language():
    with translation.override("fr"):
        assert [channel(c) for c in ("email", "call", "letter", "fax")] == [
            "E-mail",
            "Appel",
            "Courrier",
            "fax",
        ]
    with translation.override("en"):
        assert channel("task") == "Task"
