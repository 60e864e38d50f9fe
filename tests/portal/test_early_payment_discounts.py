"""Early-payment discounts: offered in pre-due reminders and on the portal while they can be taken,
proposed as a credit note when a customer took one, kept out of dunning until staff decide."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client

from relance.domain.plans.model import Step
from relance.models import Company, CreditNote, DiscountProposal, Invoice, Payment
from relance.services.dialogue import discounts
from relance.services.dunning import messages
from relance.services.ledger import allocation, late_fees, snapshots
from relance.services.organisation import hours
from tests import clock


def _terms(ledger, percent="2.00", days=10):
    Company.objects.filter(pk=ledger.company.pk).update(
        early_discount_percent=Decimal(percent), early_discount_days=days
    )
    ledger.company.refresh_from_db()


def _fresh_invoice(ledger, new_invoice):
    """Issued three days ago, due in 27 days, 1,000 EUR."""
    invoice = new_invoice(ledger.dupont, "I9", "1000.00", days_late=-27)
    return invoice


def test_the_pre_due_reminder_and_the_portal_offer_the_discount(ledger, new_invoice):
    _terms(ledger)
    invoice = _fresh_invoice(ledger, new_invoice)
    today = clock.today()
    [debtor] = snapshots.debtors([ledger.dupont.pk])
    [snap] = snapshots.load([debtor], today, history_days=0)
    reference = next(i for i in snap.account.items if i.id == "I9")
    values = messages.context(
        ledger.company, debtor, reference, [reference], today, rates=late_fees.rate_table()
    )
    step = Step("Heads-up", -5, template="pre_due_reminder")
    _subject, body = messages.render_texts(messages.step_text(step, "fr"), values)
    until = invoice.issue_date + timedelta(days=10)
    assert (
        "bénéficie\nde l'escompte de 2,00\xa0% : réglez 980,00\xa0€ au lieu de 1\u202f000,00\xa0€"
        in body
    )
    assert values["discount"]["until"].startswith(str(until.day))
    page = Client().get(ledger.path()).content.decode()
    assert "Réglez 980,00\xa0€ avant le" in page
    assert "escompte de 2,00\xa0% pour paiement anticipé" in page


def test_a_discount_taken_is_proposed_kept_out_of_dunning_and_confirmed(ledger, new_invoice):
    _terms(ledger)
    invoice = _fresh_invoice(ledger, new_invoice)
    Payment.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        external_id="P-disc",
        invoice=invoice,
        date=clock.today(),
        currency="EUR",
        amount=Decimal("980.00"),
    )
    allocation.reallocate([ledger.dupont.pk])
    today = hours.company_today(ledger.company)
    assert discounts.propose(ledger.company, today) == 1
    assert discounts.propose(ledger.company, today) == 0
    proposal = DiscountProposal.objects.get()
    assert (proposal.amount, proposal.status) == (Decimal("20.00"), "proposed")
    [debtor] = snapshots.debtors([ledger.dupont.pk])
    [snap] = snapshots.load([debtor], today, history_days=0)
    assert next(i for i in snap.account.items if i.id == "I9").in_payment_plan  # not chased

    discounts.confirm(proposal)
    note = CreditNote.objects.get(external_id="DISC-I9")
    assert (note.amount, note.invoice) == (Decimal("20.00"), invoice)
    owed = {row[2]: row[7] for row in snapshots.amounts_due([ledger.dupont.pk], today)}
    assert "I9" not in owed  # settled


def test_paying_late_or_too_little_takes_no_discount(ledger, new_invoice):
    _terms(ledger, days=1)  # the window closed two days ago
    invoice = _fresh_invoice(ledger, new_invoice)
    Payment.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        external_id="P-late",
        invoice=invoice,
        date=clock.today(),
        currency="EUR",
        amount=Decimal("980.00"),
    )
    allocation.reallocate([ledger.dupont.pk])
    assert discounts.propose(ledger.company, clock.today()) == 0
    assert not Invoice.objects.filter(pk__in=DiscountProposal.objects.values("invoice_id")).exists()


def test_staff_confirm_or_decline_on_the_customer_page(ledger, new_invoice, django_user_model):
    from relance.models import Membership

    _terms(ledger)
    invoice = _fresh_invoice(ledger, new_invoice)
    proposal = DiscountProposal.objects.create(
        company=ledger.company,
        customer=ledger.dupont,
        invoice=invoice,
        currency="EUR",
        amount=Decimal("20.00"),
        paid_on=clock.today(),
    )
    claire = django_user_model.objects.create(username="claire")
    Membership.objects.create(company=ledger.company, user=claire, role="read_only")
    reader = Client()
    reader.force_login(claire)
    assert (
        "Early-payment discounts to confirm"
        in reader.get(f"/customers/{ledger.dupont.pk}/").content.decode()
    )
    assert reader.post(f"/discounts/{proposal.pk}/", {"decision": "confirm"}).status_code == 403
    Membership.objects.filter(user=claire).update(role="credit_controller")
    reader.post(f"/discounts/{proposal.pk}/", {"decision": "decline"})
    proposal.refresh_from_db()
    assert proposal.status == "declined"
    assert not CreditNote.objects.exists()
