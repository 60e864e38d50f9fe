"""Shared fixtures: a default company, CSV writing and in-process CLI calls; Hypothesis profiles.

Nothing here imports Django at import time, and the per-test Django resets only run when
pytest-django is active: `make unit` runs tests/domain with `-p no:django`, Django-free.
"""

from __future__ import annotations

import csv
import email
import json
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from click.testing import CliRunner, Result

# "default" (Hypothesis's own) locally and its built-in "ci" profile when it detects CI, as before;
# HYPOTHESIS_PROFILE=quick runs a tenth of the examples, for the fast local loop (`make unit`).
# Tests that ask for more examples say so as a multiple of the profile's count, so they shrink too.
hypothesis.settings.register_profile("quick", max_examples=10)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis.settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture
def company(db):
    from relance.services.organisation.companies import ensure_default_company, get_company

    ensure_default_company()
    return get_company("default")


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv("invoices", [header...], [row...]) -> path of a UTF-8 CSV file."""

    def write(name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
        path = tmp_path / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        from relance.cli.main import cli

        return self.runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def relance(db) -> Cli:
    """Call the `relance` command in-process, against the test database."""
    return Cli()


def _new_customer(company: Any, ext: str, name: str, rep: Any = None) -> Any:
    from relance.models import Customer

    return Customer.objects.create(
        company=company,
        external_id=ext,
        name=name,
        currency="EUR",
        country="FR",
        time_zone="Europe/Paris",
        sales_rep=rep,
    )


def _new_invoice(customer: Any, ext: str, total: str, days_late: int) -> Any:
    """An open EUR invoice of `total`, `days_late` days past its due date as of today."""
    from datetime import timedelta
    from decimal import Decimal

    from relance.models import Invoice
    from relance.services.ledger import balances
    from relance.services.organisation import hours

    due = hours.company_today(customer.company) - timedelta(days=days_late)
    invoice = Invoice.objects.create(
        company=customer.company,
        customer=customer,
        external_id=ext,
        number=f"F-{ext}",
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=Decimal(total),
    )
    balances.refresh([customer.pk])  # as the import does
    return invoice


@pytest.fixture
def new_customer() -> Callable[..., Any]:
    """new_customer(company, external id, name, sales rep=None): a French EUR customer."""
    return _new_customer


@pytest.fixture
def new_invoice() -> Callable[..., Any]:
    """new_invoice(customer, external id, total, days late)."""
    return _new_invoice


def _without_django(request: pytest.FixtureRequest) -> bool:
    """True when pytest-django is off (`-p no:django`): there is no cache or language to reset."""
    return not request.config.pluginmanager.hasplugin("django")


@pytest.fixture(autouse=True)
def _empty_cache(request: pytest.FixtureRequest) -> None:
    """Each test starts with an empty cache: rate limits and cached trends are per test."""
    if _without_django(request):
        return
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_by_default(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts in English: Django's LocaleMiddleware leaves the language of the last
    request active in the thread, which would make a later test's messages French."""
    if _without_django(request):
        yield
        return
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


class Sink:
    """An SMTP server's handler that keeps what it receives, refusing some recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = email.message_from_bytes(envelope.original_content, policy=default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[Sink]:
    """A real SMTP server on localhost (aiosmtpd) that the email channel delivers to."""
    from aiosmtpd.controller import Controller

    from relance.services.dunning import outbox

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "relance.channels.email.SmtpBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_USE_TLS = False
        settings.RELANCE_CHANNELS = {
            **settings.RELANCE_CHANNELS,
            "email": "relance.channels.email.EmailChannel",
        }
        outbox.channel_for.cache_clear()
        yield sink
    finally:
        outbox.channel_for.cache_clear()
        controller.stop()


class Receiver:
    """A real HTTP server on localhost that records what is posted to it and answers with the
    next status of `statuses` (200 once they run out): a webhook endpoint of a customer's."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.url = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            found.received.append({"headers": dict(self.headers), "body": body})
            status = found.statuses.pop(0) if found.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/relance"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()
