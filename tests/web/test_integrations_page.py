"""The integrations page: only a company's admins see it; a token's secret is shown once and
works on the API; webhooks are added, their deliveries logged and retried; nothing crosses
companies."""

from __future__ import annotations

import re
import time

import pytest

from relance.models import ApiToken, WebhookDelivery, WebhookEndpoint
from relance.services.dialogue import pauses
from relance.services.integrations import api_tokens, webhooks
from relance.services.ledger import lookup
from tests import clock


def test_only_admins_of_the_company(world):
    assert world.client("admin").get("/integrations/").status_code == 200
    for user in ("controller", "reader", "rep", "outsider"):
        assert world.client(user).get("/integrations/").status_code == 403
    token, _ = api_tokens.create(world.beta, "beta's", "read")
    assert world.client("admin").post(f"/integrations/tokens/{token.pk}/revoke/").status_code == 404
    page = world.client("admin").get("/integrations/").content.decode()
    assert "beta&#x27;s" not in page
    assert "beta's" not in page


def test_a_token_is_shown_once_and_opens_the_api(world):
    admin = world.client("admin")
    answer = admin.post("/integrations/tokens/", {"name": "ERP sync", "scope": "write"})
    secret = re.search(r"rl_[0-9a-f]{8}_[\w-]+", answer.content.decode()).group(0)
    assert "not be shown again" in answer.content.decode()
    api = admin.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"})
    assert [c["external_id"] for c in api.json()["data"]] == ["A1", "A2", "A3"]
    later = admin.get("/integrations/").content.decode()
    assert secret not in later
    assert "ERP sync" in later
    token = ApiToken.objects.get(name="ERP sync")
    assert token.created_by == world.users["admin"]
    admin.post(f"/integrations/tokens/{token.pk}/revoke/")
    denied = admin.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"})
    assert denied.status_code == 401
    blank = admin.post("/integrations/tokens/", {"name": "", "scope": "write"})
    assert blank.status_code == 200
    assert ApiToken.objects.count() == 1


@pytest.fixture
def local(settings):
    """The test receiver listens on this machine: an operator's allow list lets it in."""
    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"


def test_webhooks_are_added_logged_and_retried(world, receiver, local):
    admin = world.client("admin")
    bad = admin.post("/integrations/webhooks/", {"url": "not a url", "events": ["dispute.opened"]})
    assert bad.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    admin.post("/integrations/webhooks/", {"url": receiver.url, "events": ["dispute.opened"]})
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.company, endpoint.events) == (world.alpha, ["dispute.opened"])
    receiver.statuses = [503]
    pauses.open_dispute(lookup.invoice("I1", world.alpha), clock.today())
    webhooks.deliver_due()
    page = admin.get("/integrations/").content.decode()
    assert "dispute.opened" in page
    assert "answered 503" in page
    assert "HTTP 503: ok" not in page  # the answer's body is not shown
    delivery = WebhookDelivery.objects.get()
    admin.post(f"/integrations/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(receiver.received) == 2
    assert (
        world.client("beta_admin").post(f"/integrations/webhooks/{endpoint.pk}/remove/").status_code
        == 404
    )
    admin.post(f"/integrations/webhooks/{endpoint.pk}/remove/")
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_with_a_message_on_the_url_field(world, settings):
    settings.RELANCE_WEBHOOK_ALLOW = ""
    admin = world.client("admin")
    for url in (
        "http://127.0.0.1:6379/",
        "http://[::1]:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://localhost:8000/",
    ):
        answer = admin.post("/integrations/webhooks/", {"url": url, "events": ["dispute.opened"]})
        assert answer.status_code == 200
        form = answer.context["webhook_form"]
        assert "private network" in " ".join(form.errors["url"]), url
        assert "RELANCE_WEBHOOK_ALLOW" in answer.content.decode()
    for odd in ("http://2130706433/", "http://0177.0.0.1/"):  # 127.0.0.1 spelled otherwise
        answer = admin.post("/integrations/webhooks/", {"url": odd, "events": ["dispute.opened"]})
        assert answer.context["webhook_form"].errors["url"]  # not even taken for a URL here
    assert not WebhookEndpoint.objects.exists()
    settings.RELANCE_WEBHOOK_ALLOW = "10.0.0.0/8"
    admin.post("/integrations/webhooks/", {"url": "http://10.0.0.1/", "events": ["dispute.opened"]})
    assert WebhookEndpoint.objects.get().url == "http://10.0.0.1/"


def test_the_log_shows_only_a_status_and_a_generic_reason(world):
    """Deliveries logged before the fix kept the first 200 characters of the answer: the page
    shows the status code or a generic reason instead."""
    endpoint = webhooks.subscribe(world.alpha, "https://hooks.example.test/", ["dispute.opened"])
    shared = {"endpoint": endpoint, "event_type": "dispute.opened", "payload": {}, "attempts": 1}
    WebhookDelivery.objects.create(
        **shared,
        event_id="a",
        last_status_code=500,
        last_error="HTTP 500: redis_version:7.2 SECRET",
    )
    WebhookDelivery.objects.create(
        **shared, event_id="b", last_error="Connection reset by peer SECRET-PORT-MAP"
    )
    WebhookDelivery.objects.create(**shared, event_id="c", last_error="address not allowed")
    page = world.client("admin").get("/integrations/").content.decode()
    assert "SECRET" not in page
    assert "answered 500" in page
    assert "could not connect" in page
    assert "address not allowed" in page


def test_retry_now_queues_and_posts_nothing_of_another_company(
    world, receiver, settings, new_invoice
):
    """The button makes the delivery due and hands it to the company's own pass: another
    company's due deliveries (here to a live receiver, and one to a dead address) are left to
    the tick."""
    import socket

    settings.RELANCE_WEBHOOK_ALLOW = "127.0.0.1"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    alpha = webhooks.subscribe(world.alpha, receiver.url, ["dispute.opened"])
    beta = webhooks.subscribe(world.beta, receiver.url + "?beta", ["dispute.opened"])
    webhooks.subscribe(world.beta, f"http://127.0.0.1:{dead}/", ["dispute.opened"])
    pauses.open_dispute(lookup.invoice("I1", world.alpha), clock.today())
    new_invoice(world.customers["smith"], "B-I1", "10.00", days_late=3)
    pauses.open_dispute(lookup.invoice("B-I1", world.beta), clock.today())
    mine = WebhookDelivery.objects.get(endpoint=alpha)
    WebhookDelivery.objects.filter(pk=mine.pk).update(status="dead", attempts=8)
    started = time.monotonic()
    answer = world.client("admin").post(f"/integrations/deliveries/{mine.pk}/retry/")
    assert time.monotonic() - started < 5
    assert answer.status_code == 302
    assert [r["headers"]["Relance-Delivery"] for r in receiver.received] == [str(mine.pk)]
    theirs = WebhookDelivery.objects.filter(endpoint__company=world.beta)
    assert {(d.status, d.attempts) for d in theirs} == {("pending", 0)}
    mine.refresh_from_db()
    assert (mine.status, mine.attempts) == ("delivered", 1)
    assert beta.deliveries.count() == 1
