"""Webhooks never reach relance's own network (SSRF): loopback, private, link-local (cloud
metadata included), shared (CGNAT), multicast, unspecified and reserved addresses are refused
when an endpoint is registered and again at each delivery, after resolving the name; the
connection goes to the very address that was checked, redirects are not followed, and an
answer's body is never stored: only its status and a generic reason. An operator allows
on-premise receivers with RELANCE_WEBHOOK_ALLOW."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from relance.models import Event, WebhookDelivery, WebhookEndpoint
from relance.services.dialogue import pauses
from relance.services.integrations import webhooks
from relance.services.ledger import lookup
from tests import clock

REFUSED = [
    "http://127.0.0.1:8000/hooks",
    "http://127.0.0.2/",
    "http://localhost:6379/",
    "http://[::1]:6379/",
    "https://[::1]/",
    "http://0.0.0.0:5432/",
    "http://[::]/",
    "http://10.1.2.3/",
    "http://172.16.0.9/",
    "http://192.168.1.1/admin",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.10/",  # documentation range: not global
    "http://[::ffff:127.0.0.1]:6379/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",  # ::ffff:169.254.169.254
    "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 written as one decimal number
    "http://0177.0.0.1/",  # octal
    "http://0x7f.1/",  # hexadecimal, short form
    "http://127.1:5432/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_addresses_are_refused_when_registered(company, url):
    with pytest.raises(webhooks.WebhookRefused, match="private network") as refused:
        webhooks.subscribe(company, url, ["dispute.opened"])
    assert "RELANCE_WEBHOOK_ALLOW" in str(refused.value)
    assert not WebhookEndpoint.objects.exists()
    assert not Event.objects.filter(kind="webhook.subscribed").exists()


def test_only_http_and_https(company):
    for url in ("ftp://example.com/", "gopher://example.com/", "file:///etc/passwd"):
        with pytest.raises(webhooks.WebhookRefused):
            webhooks.subscribe(company, url, ["dispute.opened"])
    assert not WebhookEndpoint.objects.exists()


def test_public_addresses_and_what_the_operator_allows_are_taken(company, settings):
    settings.RELANCE_WEBHOOK_ALLOW = ""
    webhooks.subscribe(company, "https://93.184.215.14/hooks", ["dispute.opened"])
    webhooks.subscribe(company, "https://[2606:4700::1111]/hooks", ["dispute.opened"])
    # A name that does not resolve yet is taken: every delivery resolves and checks it again.
    webhooks.subscribe(company, "https://hooks.example.test/h", ["dispute.opened"])
    settings.RELANCE_WEBHOOK_ALLOW = " receiver.internal , 10.0.0.0/8,192.168.1.7,fd00::/8 "
    webhooks.subscribe(company, "http://10.20.30.40:8080/in", ["dispute.opened"])
    webhooks.subscribe(company, "http://192.168.1.7/in", ["dispute.opened"])
    webhooks.subscribe(company, "http://[fd00::5]/in", ["dispute.opened"])
    webhooks.subscribe(company, "http://Receiver.Internal./in", ["dispute.opened"])
    assert WebhookEndpoint.objects.count() == 7
    for still_refused in ("http://192.168.1.8/", "http://127.0.0.1/", "http://[::1]/"):
        with pytest.raises(webhooks.WebhookRefused, match="private network"):
            webhooks.subscribe(company, still_refused, ["dispute.opened"])


def test_a_badly_written_allow_list_is_an_operator_error(company, settings):
    settings.RELANCE_WEBHOOK_ALLOW = "10.0.0.0/33"
    with pytest.raises(ValueError, match="RELANCE_WEBHOOK_ALLOW"):
        webhooks.subscribe(company, "http://10.0.0.1/", ["dispute.opened"])


# --- at delivery --------------------------------------------------------------------------------


@pytest.fixture
def dispute(company, new_customer, new_invoice):
    def open_one(external_id: str = "I1") -> None:
        customer = new_customer(company, f"C-{external_id}", "Dupont")
        new_invoice(customer, external_id, "500.00", days_late=3)
        pauses.open_dispute(lookup.invoice(external_id, company), clock.today())

    return open_one


def test_an_endpoint_allowed_once_is_checked_again_at_each_delivery(
    company, receiver, settings, dispute
):
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    webhooks.subscribe(company, receiver.url, ["dispute.opened"])
    dispute()
    settings.RELANCE_WEBHOOK_ALLOW = ""  # the operator took it back
    assert webhooks.deliver_due()["retrying"] == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.last_error) == (None, "address not allowed")
    assert receiver.received == []  # nothing was posted
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.0/8"
    webhooks.retry(delivery)
    assert webhooks.deliver_due()["delivered"] == 1
    assert len(receiver.received) == 1


def test_a_name_that_now_resolves_to_a_private_address_is_not_posted_to(
    company, receiver, settings, dispute, monkeypatch
):
    port = int(receiver.url.split(":")[2].split("/")[0])
    webhooks.subscribe(company, f"http://hooks.example.test:{port}/h", ["dispute.opened"])
    dispute()
    _resolve(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})  # DNS changed since
    webhooks.deliver_due()
    assert WebhookDelivery.objects.get().last_error == "address not allowed"
    assert receiver.received == []


def test_every_address_of_a_name_must_be_allowed(company, receiver, settings, dispute, monkeypatch):
    port = int(receiver.url.split(":")[2].split("/")[0])
    _resolve(monkeypatch, {"hooks.example.test": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(webhooks.WebhookRefused, match="private network"):
        webhooks.subscribe(company, f"http://hooks.example.test:{port}/h", ["dispute.opened"])


def test_the_connection_goes_to_the_address_checked_with_the_hostname_kept(
    company, receiver, settings, dispute, monkeypatch
):
    """A rebinding DNS answers a checked address first and another one afterwards: relance
    resolves once per delivery and connects to what it checked, keeping the Host header."""
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    port = int(receiver.url.split(":")[2].split("/")[0])
    webhooks.subscribe(company, f"http://hooks.example.test:{port}/h", ["dispute.opened"])
    dispute()
    asked = _resolve(monkeypatch, {"hooks.example.test": ["127.0.0.1"]}, then=["127.0.0.9"])
    assert webhooks.deliver_due()["delivered"] == 1
    assert asked == ["hooks.example.test"]  # resolved once: the connection did not ask again
    [posted] = receiver.received
    assert posted["headers"]["Host"] == f"hooks.example.test:{port}"


def test_a_redirect_is_not_followed(company, settings, dispute, answering):
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    answering.reply = (302, {"Location": f"{answering.url}/elsewhere"}, b"moved")
    webhooks.subscribe(company, f"{answering.url}/hooks", ["dispute.opened"])
    dispute()
    assert webhooks.deliver_due()["retrying"] == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.last_error) == (302, "redirect not followed")
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert answering.paths == ["/hooks"]


def test_the_body_of_an_answer_is_never_stored(company, settings, dispute, answering):
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    answering.reply = (500, {}, b"redis_version:7.2.4 SECRET-BANNER")
    webhooks.subscribe(company, f"{answering.url}/hooks", ["dispute.opened"])
    dispute()
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.last_error) == (500, "answered 500")
    stored = list(WebhookDelivery.objects.values_list("last_error", "payload"))
    assert "SECRET" not in repr(stored)


def test_refused_and_reset_connections_read_the_same(company, settings, dispute, resetting):
    """Telling them apart would map which ports are open."""
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    webhooks.subscribe(company, f"http://127.0.0.1:{closed}/", ["dispute.opened"])
    webhooks.subscribe(company, f"http://127.0.0.1:{resetting}/", ["dispute.opened"])
    dispute()
    assert webhooks.deliver_due()["retrying"] == 2
    reasons = set(WebhookDelivery.objects.values_list("last_status_code", "last_error"))
    assert reasons == {(None, "could not connect")}


# --- helpers ------------------------------------------------------------------------------------


def _resolve(monkeypatch, names: dict[str, list[str]], then: list[str] | None = None) -> list:
    """A DNS of our own for some names (the others resolve as usual); with `then`, a name
    answers differently after its first question, as a rebinding attacker's DNS does."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in names:
            return real(host, port, *args, **kwargs)
        addresses = names[name] if not asked or then is None else then
        asked.append(name)
        found = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            at = (address, int(port or 0)) if family == socket.AF_INET else (address, port, 0, 0)
            found.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", at))
        return found

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


class Answering:
    def __init__(self) -> None:
        self.reply: tuple[int, dict[str, str], bytes] = (200, {}, b"")
        self.paths: list[str] = []
        self.url = ""


@pytest.fixture
def answering() -> Iterator[Answering]:
    """An HTTP server answering every post with `reply` (status, headers, body)."""
    found = Answering()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            found.paths.append(self.path)
            status, headers, body = found.reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def resetting() -> Iterator[int]:
    """A port whose listener accepts each connection and resets it at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # RST

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


def test_https_keeps_the_hostname_for_sni_and_the_certificate(
    company, settings, dispute, monkeypatch, tmp_path
):
    """Connecting to the checked address must not weaken TLS: the server is asked for the URL's
    name (SNI) and its certificate must be for that name."""
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example.test"),
            *("-addext", "subjectAltName=DNS:hooks.example.test"),
        ],
        check=True,
        capture_output=True,
    )
    asked_for: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: asked_for.append(name)
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        _resolve(monkeypatch, {"hooks.example.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        webhooks.subscribe(company, f"https://hooks.example.test:{port}/h", ["dispute.opened"])
        webhooks.subscribe(company, f"https://other.test:{port}/h", ["dispute.opened"])
        dispute()
        assert webhooks.deliver_due()["delivered"] == 1
        assert received == [f"hooks.example.test:{port}"]
        assert "hooks.example.test" in asked_for
        wrong = WebhookDelivery.objects.get(endpoint__url__contains="other.test")
        assert (wrong.status, wrong.last_error) == ("pending", "could not connect")
    finally:
        server.shutdown()
        server.server_close()
