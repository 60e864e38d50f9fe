"""Staff side of the portal: a customer's open disputes with their deadlines and proof, the link
to see the portal as the customer does, and withdrawing every link; who may do what."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from relance.models import Dispute, Event, Invoice, OutboxMessage
from relance.services.dialogue import portal_disputes
from relance.services.organisation import hours
from relance.services.portal import links


def _portal_dispute(world, proof: bytes = b"%PDF-1.4 proof"):
    now = timezone.now()
    dispute = Dispute(
        company=world.alpha,
        customer=world.customers["dupont"],
        invoice=Invoice.objects.get(external_id="I1"),
        opened_on=hours.company_today(world.alpha),
        reason="Delivered broken",
        category=Dispute.Category.QUALITY,
        source="portal",
        opened_at=now - timedelta(days=3),
        acknowledge_by=now - timedelta(days=2),
        resolve_by=now + timedelta(days=7),
    )
    dispute.proof.save("photo.pdf", ContentFile(proof), save=False)
    dispute.save()
    return dispute


def test_the_customer_page_shows_open_disputes_with_deadlines_and_proof(world):
    dispute = _portal_dispute(world)
    page = world.client("controller").get(f"/customers/{world.customers['dupont'].pk}/")
    text = page.content.decode()
    assert "Open disputes" in text
    assert "Quality problem" in text
    assert "Delivered broken" in text
    assert 'class="badge late"' in text  # acknowledgement overdue
    proof = world.client("reader").get(f"/disputes/{dispute.pk}/proof/")
    assert b"".join(proof.streaming_content) == b"%PDF-1.4 proof"
    assert world.client("beta_admin").get(f"/disputes/{dispute.pk}/proof/").status_code == 404
    assert world.client("other_rep").get(f"/disputes/{dispute.pk}/proof/").status_code == 404


def test_acting_staff_open_the_portal_and_withdraw_its_links(world):
    dupont = world.customers["dupont"]
    page = world.client("controller").get(f"/customers/{dupont.pk}/").content.decode()
    assert "Open the portal as the customer sees it" in page
    sent = links.token(dupont)
    assert Client().get(f"/p/{sent}/").status_code == 200
    assert world.client("reader").post(f"/customers/{dupont.pk}/portal/revoke/").status_code == 403
    assert (
        "Open the portal"
        not in world.client("reader").get(f"/customers/{dupont.pk}/").content.decode()
    )
    world.client("controller").post(f"/customers/{dupont.pk}/portal/revoke/")
    assert Client().get(f"/p/{sent}/").status_code == 403


def test_staff_acknowledge_answer_and_resolve_a_dispute(world):
    dispute = _portal_dispute(world)
    client = world.client("controller")
    client.post(f"/disputes/{dispute.pk}/", {"action": "reply", "text": "We check with the depot."})
    dispute.refresh_from_db()
    assert dispute.acknowledged_at is not None
    answer = OutboxMessage.objects.get(key__startswith="dispute-reply:")
    assert answer.to == ["jeanne@dupont.test"]
    assert "We check with the depot." in answer.body
    refused = client.post(f"/disputes/{dispute.pk}/", {"action": "resolve", "outcome": "rejected"})
    assert refused.status_code == 302
    dispute.refresh_from_db()
    assert dispute.resolved_on is None  # a rejection must say why
    client.post(
        f"/disputes/{dispute.pk}/",
        {
            "action": "resolve",
            "outcome": "rejected",
            "explanation": "Delivered intact: signed note.",
        },
    )
    dispute.refresh_from_db()
    assert dispute.resolved_on == hours.company_today(world.alpha)
    assert dispute.resolution == "The invoice stands. Delivered intact: signed note."
    told = OutboxMessage.objects.get(key__startswith="dispute-resolved:")
    assert "Delivered intact: signed note." in told.body
    assert Event.objects.filter(kind="dispute.resolved").exists()
    assert world.client("reader").post(f"/disputes/{dispute.pk}/", {}).status_code == 404


def test_a_reader_cannot_act_on_a_dispute(world):
    dispute = _portal_dispute(world)
    assert (
        world.client("reader")
        .post(f"/disputes/{dispute.pk}/", {"action": "acknowledge"})
        .status_code
        == 403
    )
    assert (
        world.client("beta_admin")
        .post(f"/disputes/{dispute.pk}/", {"action": "acknowledge"})
        .status_code
        == 404
    )


def test_late_disputes_are_escalated_to_admins_and_owner_once(world):
    dispute = _portal_dispute(world)  # its acknowledgement is two days late
    assert portal_disputes.escalate() == 1
    assert portal_disputes.escalate() == 0
    notice = OutboxMessage.objects.get(key=f"dispute-breach:{dispute.pk}:acknowledge")
    assert notice.to == ["admin@ar.test"]
    assert notice.customer is None
    later = timezone.now() + timedelta(days=8)  # past the resolution deadline too
    assert portal_disputes.escalate(later) == 1
    assert Event.objects.filter(kind="dispute.escalated").count() == 2
