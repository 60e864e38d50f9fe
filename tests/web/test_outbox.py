"""The outbox monitor: messages by state within one's reach, and retry / cancel done with
compare-and-set, so that a message sent or in flight meanwhile is never touched."""

from __future__ import annotations

import pytest
from django.urls import reverse

from relance.models import Event, OutboxMessage
from relance.services.dunning import outbox

Status = OutboxMessage.Status


def message(world, customer: str, key: str, status: str, **values) -> OutboxMessage:
    c = world.customers[customer]
    return OutboxMessage.objects.create(
        key=key,
        company=c.company,
        customer=c,
        channel="email",
        status=status,
        to=[f"{key}@example.test"],
        **values,
    )


@pytest.fixture
def queue(world):
    return {
        "dead": message(world, "dupont", "k-dead", Status.DEAD, attempts=5, last_error="550 no"),
        "failed": message(world, "martin", "k-failed", Status.FAILED, attempts=1),
        "planned": message(world, "dupont", "k-planned", Status.PLANNED),
        "claimed": message(world, "dupont", "k-claimed", Status.CLAIMED, claimed_by="w1"),
        "sent": message(world, "dupont", "k-sent", Status.SENT, attempts=1, subject="Rappel"),
        "theirs": message(world, "smith", "k-theirs", Status.DEAD),
    }


def page(world, user: str, **params: str) -> str:
    response = world.client(user).get(reverse("outbox"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_problems_first_with_counts_and_only_within_reach(world, queue):
    shown = page(world, "admin")
    assert "k-dead@example.test" in shown
    assert "550 no" in shown
    assert "k-failed@example.test" in shown
    assert "k-planned@example.test" not in shown  # another tab
    assert "k-theirs@example.test" not in shown  # another company
    assert "k-planned@example.test" in page(world, "admin", tab="queued")
    assert "Rappel" in page(world, "admin", tab="sent")
    rep = page(world, "rep")  # dupont's rep: not martin's failed message
    assert "k-dead@example.test" in rep
    assert "k-failed@example.test" not in rep


def test_a_controller_retries_a_dead_message_with_its_tries_counted_afresh(world, queue):
    client = world.client("controller")
    response = client.post(reverse("outbox-retry", args=[queue["dead"].pk]), follow=True)
    assert "Queued again" in response.content.decode()
    queue["dead"].refresh_from_db()
    assert queue["dead"].status == Status.PLANNED
    assert queue["dead"].attempts == 0
    assert queue["dead"].last_error == ""
    event = Event.objects.get(kind="message.retried")
    assert event.actor == world.users["controller"]
    assert event.data["previous"] == Status.DEAD


def test_nothing_sent_or_in_flight_is_retried_or_cancelled(world, queue):
    client = world.client("admin")
    for name, action in [("sent", "retry"), ("claimed", "retry"), ("claimed", "cancel")]:
        response = client.post(reverse(f"outbox-{action}", args=[queue[name].pk]), follow=True)
        assert f"the message is {queue[name].status}" in response.content.decode()
        queue[name].refresh_from_db()
        assert queue[name].status in (Status.SENT, Status.CLAIMED)
    assert not Event.objects.exists()


def test_a_message_that_changed_meanwhile_is_left_alone(world, queue):
    stale = OutboxMessage.objects.get(pk=queue["failed"].pk)  # read before the delivery...
    OutboxMessage.objects.filter(pk=stale.pk).update(status=Status.SENT)  # ...which sent it
    with pytest.raises(outbox.NotNow):
        outbox.retry(stale)
    stale.refresh_from_db()
    assert stale.status == Status.SENT


def test_cancelling_keeps_a_queued_message_from_leaving(world, queue):
    world.client("controller").post(reverse("outbox-cancel", args=[queue["planned"].pk]))
    queue["planned"].refresh_from_db()
    assert queue["planned"].status == Status.CANCELLED
    assert "cancelled by controller@ar.test" in queue["planned"].last_error


@pytest.mark.parametrize(
    ("user", "name", "status"),
    [
        ("reader", "dead", 403),
        ("rep", "dead", 403),
        ("beta_admin", "dead", 404),
        ("admin", "theirs", 404),
    ],
)
def test_who_may_not_act_changes_nothing(world, queue, user, name, status):
    url = reverse("outbox-retry", args=[queue[name].pk])
    assert world.client(user).post(url).status_code == status
    queue[name].refresh_from_db()
    assert queue[name].status == Status.DEAD
    assert world.client("admin").get(url).status_code == 405


def test_buttons_only_where_they_can_work(world, queue):
    retry, cancel = ">Retry</button>", ">Cancel</button>"
    assert retry in page(world, "controller")
    assert retry not in page(world, "reader")
    assert cancel in page(world, "controller", tab="queued")  # the planned one, not the claimed
    assert page(world, "controller", tab="queued").count(cancel) == 1
    assert cancel not in page(world, "controller", tab="sent")


def test_an_empty_outbox(world):
    assert "No message in this state." in page(world, "admin")


# ------------------------------------------------------------------------------------------------
# When each message leaves, to whom, and what the recipient gets
# ------------------------------------------------------------------------------------------------

LETTER_PLAN = """
code: letters
name: Letters
min_contact_delay_days: 15
steps:
  - name: Formal notice
    trigger: {days: 0, from: due_date}
    channel: letter
    mode: auto
    recipients: [role:billing]
    template: formal_notice
"""


def _queued_by_the_cycle(world, plan_yaml: str | None = None) -> OutboxMessage:
    from pathlib import Path

    from relance.models import Plan
    from relance.services.dunning import run
    from relance.services.dunning.plans import load_plans
    from relance.services.organisation import hours

    standard = Path(__file__).resolve().parents[2] / "relance" / "plans" / "standard.yaml"
    load_plans(plan_yaml or standard.read_text(encoding="utf-8"))
    dupont = world.customers["dupont"]
    dupont.plan = Plan.objects.get(code="letters" if plan_yaml else "standard", company=world.alpha)
    dupont.address_line1, dupont.postal_code, dupont.city = "12 rue des Lilas", "69003", "Lyon"
    dupont.save()
    run.run(hours.company_today(world.alpha), company_id=world.alpha.pk, deliver=False)
    return OutboxMessage.objects.get(customer=dupont, status=Status.PLANNED)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_queued_message_says_when_it_leaves_and_previews_its_text(world, language):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from relance.messaging import formatting

    queued = _queued_by_the_cycle(world)
    OutboxMessage.objects.filter(pk=queued.pk).update(
        next_attempt_at=datetime(2031, 3, 4, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday
    )
    client = world.client("controller", language)
    listed = client.get(reverse("outbox"), {"tab": "queued"}).content.decode()
    leaves = formatting.day(datetime(2031, 3, 4).date(), language) + " 09:30"
    assert leaves in listed  # in the company's zone, Babel's words
    assert reverse("outbox-message", args=[queued.pk]) in listed
    detail = client.get(reverse("outbox-message", args=[queued.pk])).content.decode()
    assert leaves in detail
    assert "F-I1" in detail  # the text as it would leave, composed now
    assert "1,250.00" in detail or "1\u202f250,00" in detail
    queued.refresh_from_db()
    assert queued.subject == ""
    assert queued.body == ""


def test_a_sent_message_shows_its_first_lines_and_when_it_went(world, queue):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    OutboxMessage.objects.filter(pk=queue["sent"].pk).update(
        body="Bonjour,\nLa facture F-1 reste due.\nMerci de la régler.\nCordialement",
        sent_at=datetime(2026, 12, 1, 15, 5, tzinfo=ZoneInfo("UTC")),
    )
    listed = page(world, "admin", tab="sent")
    assert "Bonjour, La facture F-1 reste due. …" in listed
    assert "sent 1 December 2026 16:05" in listed  # Paris, the company's zone
    detail = world.client("admin").get(reverse("outbox-message", args=[queue["sent"].pk]))
    assert "Merci de la régler." in detail.content.decode()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_letter_goes_to_a_postal_address_with_its_pdf_to_look_at(world, language):
    letter = _queued_by_the_cycle(world, LETTER_PLAN)
    assert letter.channel == "letter"
    client = world.client("controller", language)
    listed = client.get(reverse("outbox"), {"tab": "queued"}).content.decode()
    assert "12 rue des Lilas<br>69003 Lyon" in listed
    assert "@" not in listed.split("12 rue des Lilas")[0].rsplit("<td", 1)[-1]  # no email as "To"
    detail = client.get(reverse("outbox-message", args=[letter.pk])).content.decode()
    assert "Boulangerie Dupont<br>12 rue des Lilas<br>69003 Lyon" in detail
    assert reverse("outbox-letter", args=[letter.pk]) in detail
    pdf = client.get(reverse("outbox-letter", args=[letter.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_message_out_of_reach_is_not_found(world, queue):
    other = world.client("other_rep")  # Martin's rep: not Dupont's messages
    assert other.get(reverse("outbox-message", args=[queue["dead"].pk])).status_code == 404
    assert other.get(reverse("outbox-message", args=[queue["failed"].pk])).status_code == 200
    outsider = world.client("outsider")
    assert outsider.get(reverse("outbox-letter", args=[queue["dead"].pk])).status_code == 404
