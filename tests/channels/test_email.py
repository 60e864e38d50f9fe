"""Email delivery over real SMTP to a local aiosmtpd server: the MIME that arrives (parts, headers,
CC, Reply-To, a stable Message-ID), refusals that bounce a contact, and temporary failures."""

from __future__ import annotations

from datetime import date

import pytest

from relance.channels.email import message_id
from relance.models import ActionItem, Contact, Event, OutboxMessage
from relance.services.dunning import outbox
from relance.services.dunning.run import run as run_cycle

PLAN = """
code: mail
name: Mail
min_contact_delay_days: 0
steps:
  - name: Reminder
    trigger: {days: 1}
    channel: email
    recipients: [role:billing]
    cc: [role:escalation]
    subject: "Invoice {{ reference.number }} is overdue"
    body: |
      Dear {{ customer.name }},

      These invoices are unpaid:
      {% for inv in invoices %}
      - {{ inv.number }}: {{ inv.amount_due }}
      {% endfor %}

      Pay at https://pay.example.com/{{ customer.id }} <today>.
  - name: Second
    trigger: {days: 10}
    channel: email
    recipients: [role:billing]
    subject: "Second notice"
    body: "Still unpaid: {{ totals }}"
"""


@pytest.fixture
def ledger(company, relance, write_csv, tmp_path):
    company.sender_email = "ar@bakery.example"
    company.reply_to = "accounts@bakery.example"
    company.registration_number = "552 100 554"
    company.save()
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    relance.json("plan", "load", plan)
    relance.json(
        "import",
        "customers",
        write_csv(
            "c",
            ["external_id", "name", "language", "owner_email", "plan"],
            [["C1", "Acme", "en", "claire@bakery.example", "mail"]],
        ),
    )
    relance.json(
        "import",
        "contacts",
        write_csv(
            "k",
            ["external_id", "customer_id", "name", "email", "roles"],
            [
                ["K1", "C1", "Ann", "ann@acme.example", "billing"],
                ["K2", "C1", "Bob", "boss@acme.example", "escalation"],
                ["K3", "C1", "Pat", "pat@acme.example", "primary"],
            ],
        ),
    )
    relance.json(
        "import",
        "invoices",
        write_csv(
            "i",
            ["external_id", "customer_id", "number", "issue_date", "due_date", "currency", "total"],
            [
                ["I1", "C1", "F-1", "2026-01-01", "2026-02-01", "EUR", "1200.00"],
                ["I2", "C1", "F-2", "2026-01-05", "2026-02-05", "EUR", "300.50"],
            ],
        ),
    )
    return relance


def test_the_message_that_arrives(ledger, smtp):
    run_cycle(date(2026, 2, 6), deliver=False)
    report = outbox.deliver_due(date(2026, 2, 6))
    [message] = OutboxMessage.objects.all()
    assert report.statuses == {message.key: "sent"}
    [received] = smtp.messages
    assert received["Subject"] == "Invoice F-1 is overdue"
    assert received["From"] == "Default company <ar@bakery.example>"
    assert received["To"] == "ann@acme.example"
    assert received["Cc"] == "boss@acme.example"  # the step's CC (the "CC the boss" step)
    assert received["Reply-To"] == "claire@bakery.example"  # the customer's owner
    assert received["Message-ID"] == message_id(message.key, "bakery.example")
    assert smtp.envelopes == [("ar@bakery.example", ["ann@acme.example", "boss@acme.example"])]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "- F-1: €1,200.00" in text
    assert "- F-2: €300.50" in text
    assert "<li>F-1: €1,200.00</li>" in html
    assert '<a href="https://pay.example.com/C1">' in html
    assert "&lt;today&gt;" in html  # text is escaped, never taken as markup
    assert "552 100 554" in html  # the company's legal mentions in the footer
    message.refresh_from_db()
    assert message.body == text.replace("\r\n", "\n").rstrip("\n")


def test_a_retry_is_the_same_message(ledger, smtp):
    run_cycle(date(2026, 2, 6), deliver=False)
    [message] = OutboxMessage.objects.all()
    from relance.channels.email import EmailChannel
    from relance.services.dunning.delivery import compose

    message.subject, message.body = "Invoice F-1 is overdue", "text"
    delivery = compose(message)
    channel = EmailChannel()
    channel.send(delivery)
    channel.send(delivery)  # e.g. the worker died before recording the first send
    channel.close()
    assert len({m["Message-ID"] for m in smtp.messages}) == 1


def test_a_refused_address_bounces_the_contact_and_the_next_message_falls_back(ledger, smtp):
    smtp.refuse["ann@acme.example"] = "550 5.1.1 no such user"
    run_cycle(date(2026, 2, 6), deliver=False)
    report = outbox.deliver_due(date(2026, 2, 6))
    [message] = OutboxMessage.objects.all()
    assert report.statuses == {message.key: "dead"}
    assert Contact.objects.get(external_id="K1").bounced
    assert Event.objects.filter(kind="contact.bounced", customer__external_id="C1").exists()
    # The next step goes to the primary contact instead (no billing contact can receive).
    run_cycle(date(2026, 2, 12), deliver=False)
    second = OutboxMessage.objects.exclude(pk=message.pk).get()
    assert second.to == ["pat@acme.example"]
    outbox.deliver_due(date(2026, 2, 12))
    assert smtp.messages[-1]["To"] == "pat@acme.example"


def test_the_owner_gets_a_task_when_no_contact_is_left(ledger, smtp):
    Contact.objects.update(bounced=True)
    run_cycle(date(2026, 2, 6), deliver=False)
    assert not OutboxMessage.objects.exists()
    item = ActionItem.objects.get()
    assert item.kind == ActionItem.Kind.NO_CONTACT
    assert [u.email for u in item.assignees.all()] == ["claire@bakery.example"]


def test_a_temporary_refusal_is_retried(ledger, smtp):
    smtp.refuse["ann@acme.example"] = "451 4.3.0 try again later"
    run_cycle(date(2026, 2, 6), deliver=False)
    [message] = OutboxMessage.objects.all()
    assert outbox.deliver_due(date(2026, 2, 6)).statuses == {message.key: "failed"}
    assert not Contact.objects.get(external_id="K1").bounced
    # The CC took it: the retry goes to the refused addressee alone.
    assert [m["To"] for m in smtp.messages] == ["ann@acme.example"]
    assert smtp.envelopes == [("ar@bakery.example", ["boss@acme.example"])]
    del smtp.refuse["ann@acme.example"]
    message.refresh_from_db()
    assert (message.to, message.cc) == (["ann@acme.example"], [])
    later = message.next_attempt_at
    assert outbox.deliver_due(date(2026, 2, 6), now=later).statuses == {message.key: "sent"}
    assert smtp.envelopes[-1] == ("ar@bakery.example", ["ann@acme.example"])


def test_an_unreachable_server_is_a_temporary_failure(ledger, settings):
    settings.EMAIL_BACKEND = "relance.channels.email.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.RELANCE_CHANNELS = {
        **settings.RELANCE_CHANNELS,
        "email": "relance.channels.email.EmailChannel",
    }
    outbox.channel_for.cache_clear()
    try:
        run_cycle(date(2026, 2, 6), deliver=False)
        [message] = OutboxMessage.objects.all()
        assert outbox.deliver_due(date(2026, 2, 6)).statuses == {message.key: "failed"}
        message.refresh_from_db()
        assert "mail server unavailable" in message.last_error
    finally:
        outbox.channel_for.cache_clear()


def test_html_paragraphs_join_wrapped_prose_and_keep_short_lines() -> None:
    from relance.messaging.email_html import paragraphs

    text = (
        "We would be grateful if you could arrange payment at your earliest convenience, and\n"
        "thank you if you already have.\n\n"
        "IBAN: FR76 3000\nBIC: AGRIFRPP\n\n- F-1: €10.00\n- F-2: €20.00"
    )
    assert paragraphs(text) == [
        {
            "text": "We would be grateful if you could arrange payment at your earliest "
            "convenience, and thank you if you already have."
        },
        {"text": "IBAN: FR76 3000<br>BIC: AGRIFRPP"},
        {"list": ["F-1: €10.00", "F-2: €20.00"]},
    ]


def test_the_step_attaches_imported_invoice_pdfs_and_summaries_on_request(
    ledger, smtp, settings, tmp_path
):
    from django.core.files.base import ContentFile

    from relance.models import Invoice

    settings.MEDIA_ROOT = tmp_path / "media"
    imported = b"%PDF-1.4 the ERP's own invoice"
    invoice = Invoice.objects.get(external_id="I1")
    invoice.pdf.save("F-1.pdf", ContentFile(imported))
    run_cycle(date(2026, 2, 6), deliver=False)
    outbox.deliver_due(date(2026, 2, 6))
    [received] = smtp.messages
    files = {a.get_filename(): a.get_content() for a in received.iter_attachments()}
    assert files == {"F-1.pdf": imported}  # F-2 has no PDF, and summaries are off

    settings.RELANCE_INVOICE_SUMMARIES = True
    message = OutboxMessage.objects.get()
    message.status = "planned"
    message.save()
    outbox.deliver_due(date(2026, 2, 6))
    files = {a.get_filename(): a.get_content() for a in smtp.messages[-1].iter_attachments()}
    assert files["F-1.pdf"] == imported
    assert files["F-2-summary.pdf"].startswith(b"%PDF")


def test_the_company_logo_is_an_inline_image_of_the_html_part(
    ledger, smtp, company, settings, tmp_path
):
    from django.core.files.base import ContentFile

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # the signature is what MIME types the image by
    settings.MEDIA_ROOT = str(tmp_path / "media")
    company.logo.save("brand.png", ContentFile(png))
    run_cycle(date(2026, 2, 6), deliver=False)
    outbox.deliver_due(date(2026, 2, 6))
    [received] = smtp.messages
    html = received.get_body(("html",)).get_content()
    assert '<img src="cid:logo" alt="Default company"' in html
    [image] = [part for part in received.walk() if part.get_content_maintype() == "image"]
    assert image["Content-ID"] == "<logo>"
    assert image.get_content_disposition() == "inline"
    assert image.get_filename() == "brand.png"
    assert image.get_content_type() == "image/png"
    assert image.get_payload(decode=True) == png
