"""Notices the daily tick sends when a customer's situation calls for one, each once per event:

- credit limit: the balance in the customer's currency reaches the company's
  `credit_notice_percent` of the limit (80 % by default), or exceeds it: the customer gets the
  library's `credit_limit_notice`, the owner a note; not again while it lasts, again after the
  balance has gone back under and crossed once more;
- card expiry: a customer who pays by card (not by transfer) whose card expires within
  CARD_DAYS: `card_expiry_notice` and a note to the owner, once per expiry month;
- promises: a reminder the day before the promised date (`promise_reminder`), once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relance.messaging import formatting
from relance.models import Company, Customer, OutboxMessage, Promise, SmartNotice
from relance.services.dialogue import notices
from relance.services.ledger import snapshots
from relance.services.organisation.language import staff_language

Kind = SmartNotice.Kind
CARD_DAYS = 30


def run_daily(company: Company, today: date, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {
        "credit": _credit(company, today, now),
        "cards": _cards(company, today, now),
        "promises": _promises(company, today, now),
    }


def _balances(customers: list[Customer], today: date) -> dict[int, Decimal]:
    """Each customer's balance in their own currency (other currencies are not added in)."""
    currency = {c.pk: c.currency for c in customers}
    found: dict[int, Decimal] = defaultdict(Decimal)
    for _pk, customer, _e, _n, _i, _d, cur, amount, _t in snapshots.amounts_due(
        sorted(currency), today
    ):
        if customer in currency and cur == currency[customer]:
            found[customer] += snapshots.as_decimal(amount)
    return found


def _credit(company: Company, today: date, now: datetime) -> int:
    customers = list(
        Customer.objects.filter(company=company, credit_limit__gt=0).select_related("owner")
    )
    if not customers:
        return 0
    balances = _balances(customers, today)
    share = Decimal(company.credit_notice_percent) / 100
    sent = 0
    for customer in customers:
        limit = customer.credit_limit or Decimal(0)
        balance = balances.get(customer.pk, Decimal(0))
        kind = (
            Kind.CREDIT_EXCEEDED
            if balance > limit
            else Kind.CREDIT_HIGH
            if balance >= limit * share
            else None
        )
        standing = SmartNotice.objects.filter(
            customer=customer, kind__in=[Kind.CREDIT_HIGH, Kind.CREDIT_EXCEEDED], cleared_on=None
        )
        if kind is None:
            standing.update(cleared_on=today)
            continue
        if kind == Kind.CREDIT_EXCEEDED:  # a higher level replaces the lower one
            standing.filter(kind=Kind.CREDIT_HIGH).update(cleared_on=today)
        elif standing.filter(kind=Kind.CREDIT_EXCEEDED).exists():
            continue  # back under the limit but still high: told already
        language = customer.language
        used = (balance / limit * 100).quantize(Decimal(1))
        values = {
            "credit": {
                "limit": formatting.money(limit, customer.currency, language),
                "balance": formatting.money(balance, customer.currency, language),
                "used_percent": f"{used}\u00a0%" if language == "fr" else f"{used}%",
            }
        }
        sent += _once(customer, kind, "", today, now, "credit_limit_notice", values)
    return sent


def _cards(company: Company, today: date, now: datetime) -> int:
    expiring = Customer.objects.filter(
        company=company,
        pays_by_bank_transfer=False,
        card_expiry__isnull=False,
        card_expiry__lte=today + timedelta(days=CARD_DAYS),
        card_expiry__gte=today.replace(day=1),
    ).select_related("owner")
    sent = 0
    for customer in expiring:
        expiry = customer.card_expiry
        assert expiry is not None
        values = {"card": {"expiry": f"{expiry:%m/%Y}"}}
        sent += _once(
            customer, Kind.CARD_EXPIRY, f"{expiry:%Y-%m}", today, now, "card_expiry_notice", values
        )
    return sent


def _once(
    customer: Customer,
    kind: str,
    about: str,
    today: date,
    now: datetime,
    template: str,
    values: dict[str, Any],
) -> int:
    """Send unless a standing notice of this kind exists (its unique constraint decides)."""
    try:
        with transaction.atomic():
            row = SmartNotice.objects.create(
                customer=customer, kind=kind, about=about, sent_on=today
            )
            owed = snapshots.unpaid_of(customer.pk, today)
            notices.queue(customer, template, f"notice:{row.pk}", today, now, values, invoices=owed)
            _tell_owner(customer, kind, row.pk, values, now)
    except IntegrityError:
        return 0
    return 1


def _tell_owner(
    customer: Customer, kind: str, row: int, values: dict[str, Any], now: datetime
) -> None:
    address = (customer.owner.email if customer.owner else "") or customer.company.email
    if not address:
        return
    with translation.override(staff_language(customer.company)):
        if kind == Kind.CARD_EXPIRY:
            subject = _("%(customer)s: their card expires at the end of %(expiry)s") % {
                "customer": customer.name,
                "expiry": values["card"]["expiry"],
            }
        else:
            subject = _("%(customer)s uses %(used)s of their credit limit (%(limit)s)") % {
                "customer": customer.name,
                "used": values["credit"]["used_percent"],
                "limit": values["credit"]["limit"],
            }
        body = _("The customer has been told. Their page: customer %(id)s.") % {
            "id": customer.external_id
        }
    notices.to_staff(customer.company, f"notice-owner:{row}", [address], subject, body, now)


def _promises(company: Company, today: date, now: datetime) -> int:
    """The day before the promised date, a reminder of what was promised, once."""
    sent = 0
    due = Promise.objects.filter(
        company=company, status=Promise.Status.OPEN, pay_by=today + timedelta(days=1)
    ).select_related("customer__company")
    for promise in due:
        key = f"promise-reminder:{promise.pk}"
        if OutboxMessage.objects.filter(key=key).exists():
            continue
        customer = promise.customer
        ids = set(promise.invoices.values_list("external_id", flat=True))
        owed = snapshots.unpaid_of(customer.pk, today, ids)
        if not owed:
            continue  # paid already: nothing to remind
        amount = (
            formatting.money(promise.amount, promise.currency, customer.language)
            if promise.amount is not None and promise.currency
            else ""
        )
        values = {
            "promise": {
                "pay_by": formatting.day(promise.pay_by, customer.language),
                "amount": amount,
            }
        }
        if notices.queue(customer, "promise_reminder", key, today, now, values, invoices=owed):
            sent += 1
    return sent
