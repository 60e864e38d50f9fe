"""The integrations page: only a company's admins see it; a token's secret is shown once and
works on the API; webhooks are added, their deliveries logged and retried; nothing crosses
companies."""

from __future__ import annotations

import re

from django.utils import timezone

from relance.models import ApiToken, WebhookDelivery, WebhookEndpoint
from relance.services import api_tokens, dialogue, webhooks


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


def test_webhooks_are_added_logged_and_retried(world, receiver):
    admin = world.client("admin")
    bad = admin.post("/integrations/webhooks/", {"url": "not a url", "events": ["dispute.opened"]})
    assert bad.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    admin.post("/integrations/webhooks/", {"url": receiver.url, "events": ["dispute.opened"]})
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.company, endpoint.events) == (world.alpha, ["dispute.opened"])
    receiver.statuses = [503]
    dialogue.open_dispute("I1", timezone.localdate(), company=world.alpha)
    webhooks.deliver_due()
    page = admin.get("/integrations/").content.decode()
    assert "dispute.opened" in page
    assert "HTTP 503" in page
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
