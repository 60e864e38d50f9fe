"""What a message says: the merge fields (relance.domain.merge_fields) for one customer, and the
subject and body of a step in the recipient's language.

Over 500 lines on purpose: what a message says is composed in this one place (issue 18), merge
fields, texts and delivery-time composing alike; the merge fields are the cut when it grows.

Automatic messages are composed when they are delivered, not when the cycle queues them: the text
then shows what is owed at the moment it leaves (a partial payment between the two is reflected),
a corrected template applies to what is still queued, and the daily cycle only decides. Manual
items are rendered by the cycle, since a person reads them in the inbox.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext

from relance.domain import early_payment, engine, law
from relance.domain.merge_fields import CATALOGUE
from relance.domain.money import Money, Totals
from relance.domain.plans.model import ATTACH_NONE, ATTACH_REFERENCE, SMS, Channel, Step, with_side
from relance.messaging import formatting, library, sandbox
from relance.messaging.sandbox import LimitExceeded, RenderError, render
from relance.models import Campaign, Company, Contact, Execution, Invoice, OutboxMessage
from relance.services.ledger import late_fees
from relance.services.ledger.snapshots import Debtor, Person, PlanCache, amounts_due, debtors
from relance.services.portal import links

#: The library template of the messages the engine sends outside any plan step.
BUILT_IN = {engine.MISSED_PAYMENT_NOTICE: "broken_promise"}

__all__ = ["Composed", "LimitExceeded", "RenderError", "compose", "context", "explain", "step_text"]


@dataclass(frozen=True)
class Composed:
    """A message ready to leave, or why it cannot (`problem`: never retried, a person must look).
    `values` (the merge fields) and `items` (the invoices listed, amounts due now) are for the
    channels that lay more than text out, such as letters."""

    subject: str = ""
    body: str = ""
    problem: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    items: tuple[engine.Item, ...] = ()
    fees: dict[str, Decimal] = field(default_factory=dict)  # late interest + indemnities
    attachments: tuple[int, ...] = ()  # invoices (pks) whose PDF or summary goes with it


class _Fees:
    """Late fees of the invoices of one message, under one customer's terms."""

    def __init__(self, company: Company, customer: Debtor, rates: law.RateTable) -> None:
        self.terms = late_fees.terms_of(customer, company)
        self.rates = rates
        self._known: dict[tuple[str, date], late_fees.LateFees | None] = {}

    def of(self, item: engine.Item, today: date) -> late_fees.LateFees | None:
        key = (item.id, today)
        if key not in self._known:
            try:
                self._known[key] = late_fees.LateFees.of(
                    item.amount_due, item.currency, item.due_date, today, self.terms, self.rates
                )
            except law.MissingRate:
                self._known[key] = None  # printed empty, not wrong; `relance statement` says why
        return self._known[key]

    def per_currency(self, items: Iterable[engine.Item], today: date) -> dict[str, Decimal]:
        """Late interest plus indemnities of these invoices, per currency."""
        found: dict[str, Decimal] = defaultdict(Decimal)
        for item in items:
            if (due := self.of(item, today)) is not None:
                found[item.currency] += due.interest + due.indemnity
        return dict(found)

    def rate(self, today: date) -> Decimal | None:
        try:
            return law.annual_rate(self.terms, self.rates, today, today)
        except law.MissingRate:
            return None


def _statutory_indemnity(terms: law.Terms, reference: engine.Item) -> tuple[Decimal, str] | None:
    """The fixed indemnity the law sets per late invoice, in the law's currency (the UK scale
    read for the reference when it is in pounds), whatever the invoices' currencies."""
    currency = "GBP" if terms.pack == law.UK else "EUR"
    amount = reference.amount_due if reference.currency == currency else Decimal(1)
    fixed = law.fixed_indemnity(amount, currency, law.Terms(terms.pack))
    return (fixed, currency) if fixed else None


def uk_payer(company: Company, customer: Any) -> bool:
    """Whether a customer pays the company by sort code and account number: in the UK, billed in
    pounds (a UK transfer is in pounds), or anyone when the company has no IBAN."""
    if not company.uk_bank_details:
        return False
    return (customer.country == "GB" and customer.currency == "GBP") or not company.iban


def _person(person: Person | None) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "phone": ""} if person else _NOBODY


_NOBODY = {"name": "", "email": "", "phone": ""}
_EVENT_ROOTS = ("promise", "instalment", "dispute", "credit", "card", "paid")


def context(
    company: Company,
    customer: Debtor,
    reference: engine.Item | None,
    invoices: Sequence[engine.Item],
    today: date,
    *,
    rates: law.RateTable,
    contact: Any = None,
    extra: dict[str, Any] | None = None,
    fees: _Fees | None = None,
) -> dict[str, Any]:
    """Every merge field of the catalogue, formatted for the customer's language. Fields of other
    kinds of messages (promise, dispute…) are present and empty unless `extra` gives them, and
    so are the reference invoice's when there is none (a campaign to customers who owe nothing)."""
    language = formatting.for_reader(customer.language, customer.country)  # dates: en_US…
    uk = uk_payer(company, customer)
    fees = fees or _Fees(company, customer, rates)
    totals = Totals(Money(i.amount_due, i.currency) for i in invoices)
    late = _law(fees, reference, invoices, today, language)
    portal = links.link(customer)
    values: dict[str, Any] = {
        "customer": {
            "id": customer.external_id,
            "name": customer.name,
            "address": "\n".join(customer.address),
        },
        "contact": {
            "name": getattr(contact, "name", ""),
            "email": getattr(contact, "email", ""),
            "phone": getattr(contact, "phone", ""),
        },
        "company": _company(company),
        "payment": {
            "reference": " ".join(
                filter(None, (customer.external_id, reference and reference.number))
            ),
            "iban": company.iban,
            "bic": company.bic,
            "sort_code": company.sort_code_shown if uk else "",
            "account_number": company.account_number if uk else "",
            "link": portal if company.payment_provider else "",  # pay online from the portal
            "bank_transfer": customer.pays_by_bank_transfer,
        },
        "reference": _invoice(reference, fees, today, language)
        if reference
        else dict.fromkeys(CATALOGUE["reference"] or (), ""),
        "invoices": [_invoice(i, fees, today, language) for i in invoices],
        "totals": formatting.amounts(totals, language),
        "days_late": reference.days_late(today) if reference else "",
        "owner": _person(customer.owner),
        "sales_rep": _person(customer.sales_rep),
        "portal": {"link": portal},
        "law": late,
        # Filled in by the event that sends the message (`extra`), empty until then.
        **{root: dict.fromkeys(CATALOGUE[root] or (), "") for root in _EVENT_ROOTS},
        "today": formatting.day(today, language),
    }
    values["discount"] = _discount(company, reference, today, language)
    for key, more in (extra or {}).items():
        values[key] = {**values.get(key, {}), **more} if isinstance(more, dict) else more
    return values


def _money(amount: Decimal | None, currency: str, language: str) -> str:
    return "" if amount is None else formatting.money(amount, currency, language)


def _invoice(item: engine.Item, fees: _Fees, today: date, language: str) -> dict[str, Any]:
    """One invoice's merge fields, with what lateness adds to it under the company's law."""
    due = fees.of(item, today)
    return {
        "id": item.id,
        "number": item.number,
        "issue_date": formatting.day(item.issue_date, language),
        "due_date": formatting.day(item.due_date, language),
        "currency": item.currency,
        "total": _money(
            item.total if item.total is not None else item.amount_due, item.currency, language
        ),
        "amount_due": _money(item.amount_due, item.currency, language),
        "days_late": item.days_late(today),
        "late_interest": _money(due.interest, item.currency, language) if due else "",
        "fixed_indemnity": _money(due.indemnity, item.currency, language) if due else "",
    }


def _company(company: Company) -> dict[str, Any]:
    """The sender's merge fields: who writes, and where the customer pays."""
    return {
        "name": company.name,
        "email": company.email,
        "phone": company.phone,
        "address": "\n".join(
            formatting.postal_lines(
                company.address_line1, company.address_line2, company.postal_code, company.city
            )
        ),
        "registration_number": company.registration_number,
        "vat_number": company.vat_number,
        "iban": company.iban,
        "bic": company.bic,
    }


def _law(
    fees: _Fees,
    reference: engine.Item | None,
    invoices: Sequence[engine.Item],
    today: date,
    language: str,
) -> dict[str, Any]:
    """The late-payment terms a message may quote: empty when they are waived or no law applies."""
    interest: dict[str, Decimal] = defaultdict(Decimal)
    for item in invoices:
        if (due := fees.of(item, today)) is not None and due.interest:
            interest[item.currency] += due.interest
    rate = fees.rate(today)
    applies = not fees.terms.waived and (
        fees.terms.pack != law.NONE or fees.terms.contract_rate is not None
    )
    indemnity = _statutory_indemnity(fees.terms, reference) if applies and reference else None
    return {
        "applies": applies,
        "pack": fees.terms.pack if applies else "",
        "rate": formatting.percent(rate, language) if applies and rate is not None else "",
        "indemnity": _money(*indemnity, language) if indemnity else "",
        "late_interest": formatting.amounts(interest, language),
    }


def _discount(
    company: Company, reference: engine.Item | None, today: date, language: str
) -> dict[str, str]:
    """The early-payment discount the reference invoice can still take (nothing paid on it yet),
    else every field empty."""
    if reference is None or reference.total is None or reference.amount_due != reference.total:
        return dict.fromkeys(CATALOGUE["discount"] or (), "")
    found = early_payment.open_on(
        early_payment.offer(
            reference.total,
            reference.currency,
            reference.issue_date,
            company.early_discount_percent,
            company.early_discount_days,
        ),
        today,
    )
    if found is None:
        return dict.fromkeys(CATALOGUE["discount"] or (), "")
    return {
        "percent": formatting.percent(found.percent, language),
        "until": formatting.day(found.until, language),
        "amount": formatting.money(found.amount, reference.currency, language),
        "to_pay": formatting.money(found.to_pay, reference.currency, language),
    }


def step_text(step: Step, language: str) -> tuple[str, str]:
    """(subject, body) sources of a step: its own text when it has one, else its library
    template in `language` (English when the template has no such translation); an SMS step
    takes the template's SMS text."""
    if step.body or not step.template:
        return step.subject, step.body
    template = library.templates().get(step.template)
    if template is None:
        raise RenderError(f"no template '{step.template}' in the library")
    text = template.text(language)
    return text.subject, text.sms if step.channel == SMS else text.body


def campaign_text(campaign: Campaign, language: str) -> tuple[str, str]:
    """(subject, body) sources of a campaign: its own text, a library template's or a plan
    step's, in `language` as step_text reads them."""
    if campaign.body.strip():
        return campaign.subject, campaign.body
    if campaign.template:
        template = library.templates().get(campaign.template)
        if template is None:
            raise RenderError(f"no template '{campaign.template}' in the library")
        text = template.text(language)
        return text.subject, text.sms if campaign.channel == SMS else text.body
    if campaign.plan_id is None:
        raise RenderError("the campaign has no text")
    try:
        _, plan, _ = PlanCache().get(campaign.plan_id)
    except KeyError:
        raise RenderError("the campaign's plan no longer exists") from None
    step = next((s for s in plan.steps if s.name == campaign.step_name), None)
    if step is None:
        raise RenderError(f"plan '{plan.code}' has no step '{campaign.step_name}'")
    return step_text(dataclasses.replace(step, channel=cast(Channel, campaign.channel)), language)


def _built_in(name: str, channel: str, language: str) -> tuple[str, str] | None:
    template = library.templates().get(BUILT_IN.get(name, ""))
    if template is None:
        return None
    text = template.text(language)
    return text.subject, text.sms if channel == SMS else text.body


def render_texts(sources: tuple[str, str], values: dict[str, Any]) -> tuple[str, str]:
    """Subject on one line, body as written; RenderError names the failing field and says
    what is wrong (a template past one of the sandbox's bounds in words a user acts on)."""
    subject, body = sources
    return (
        " ".join(_render_field(gettext("Subject"), subject, values).split()),
        _render_field(gettext("Body"), body, values),
    )


def _render_field(field: str, source: str, values: dict[str, Any]) -> str:
    try:
        return render(source, values)
    except LimitExceeded as exc:
        raise RenderError(f"{field}: {explain(exc)}") from exc
    except RenderError as exc:
        raise RenderError(f"{field}: {exc}") from exc


def explain(exc: LimitExceeded) -> str:
    """What went past which bound, in the active language."""
    bound = (
        f"{exc.bound:g}"
        if exc.limit == sandbox.TIME
        else number_format(int(exc.bound), force_grouping=True)
    )
    texts = {
        sandbox.LOOPS: gettext(
            "the template repeats too much (more than %(bound)s loop turns); simplify the loop."
        ),
        sandbox.RANGE: gettext(
            "a range in the template is too long (more than %(bound)s numbers)."
        ),
        sandbox.SIZE: gettext(
            "the template builds a text or list that is too long"
            " (more than %(bound)s characters or items)."
        ),
        sandbox.BUILT: gettext(
            "the template builds too much text altogether"
            " (more than %(bound)s characters or items); simplify it."
        ),
        sandbox.NUMBER: gettext(
            "the template computes a number that is too large (more than %(bound)s digits)."
        ),
        sandbox.CALLS: gettext(
            "the template calls too many functions or macros (more than %(bound)s); simplify it."
        ),
        sandbox.DEPTH: gettext("a macro or loop of the template calls itself too deeply."),
        sandbox.OUTPUT: gettext("the text would be too long (more than %(bound)s characters)."),
        sandbox.TIME: gettext("the template takes too long to render (over %(bound)s s)."),
    }
    return texts[exc.limit] % {"bound": bound}


def compose(messages: list[OutboxMessage], as_of: date) -> dict[int, Composed]:
    """Subject and body of these queued messages (by pk), with the amounts due on `as_of`.

    A few queries for the whole batch: executions, customers, contacts, invoices and their amounts
    due. The invoices listed are those the cycle chose that still have something to pay."""
    batch = _Batch.read(messages, as_of)
    composed: dict[int, Composed] = {}
    for message in messages:
        composed[message.pk] = batch.compose(message)
    return composed


@dataclass
class _Batch:
    """What composing a batch of messages reads, once for all of them."""

    as_of: date
    executions: dict[int, Execution]
    customers: dict[int, Debtor]
    companies: dict[int, Company]
    contacts: dict[int, list[Contact]]
    rows: dict[int, tuple[Any, ...]]  # invoice pk -> the fields of its engine.Item
    documents: set[int]  # invoices with something to attach
    owed: dict[int, Decimal]
    plans: PlanCache
    rates: law.RateTable

    @classmethod
    def read(cls, messages: list[OutboxMessage], as_of: date) -> _Batch:
        executions = Execution.objects.select_related("wave__campaign").in_bulk(
            [m.execution_id for m in messages if m.execution_id]
        )
        customers = {
            c.pk: c for c in debtors(sorted({m.customer_id for m in messages if m.customer_id}))
        }
        companies = Company.objects.in_bulk({c.company_id for c in customers.values()})
        contacts = _contacts(customers)
        wanted = {pk for m in messages for pk in m.invoice_ids} | {
            e.reference_invoice_id for e in executions.values() if e.reference_invoice_id
        }
        rows: dict[int, tuple[Any, ...]] = {}
        documents: set[int] = set()
        for pk, *row, pdf in Invoice.objects.filter(pk__in=wanted).values_list(
            "pk", "external_id", "number", "issue_date", "due_date", "currency", "total", "pdf"
        ):
            rows[pk] = tuple(row)
            if pdf or settings.RELANCE_INVOICE_SUMMARIES:
                documents.add(pk)
        owed: dict[int, Decimal] = defaultdict(Decimal)
        for pk, *_, amount, _total in amounts_due(sorted(customers), as_of):
            owed[pk] = amount
        return cls(
            as_of,
            executions,
            customers,
            companies,
            contacts,
            rows,
            documents,
            owed,
            PlanCache(),
            late_fees.rate_table(),
        )

    def item(self, pk: int) -> engine.Item:
        ext, number, issued, due, currency, total = self.rows[pk]
        return engine.Item(ext, number, issued, due, currency, self.owed[pk], total=total)

    def compose(self, message: OutboxMessage) -> Composed:
        execution = self.executions.get(message.execution_id or 0)
        if execution is None or message.customer_id is None:  # written by hand: as it stands
            return Composed(message.subject, message.body)
        customer = self.customers[message.customer_id]
        campaign = execution.wave.campaign if execution.wave is not None else None
        try:
            if campaign is not None:
                sources, attach = campaign_text(campaign, customer.language), ATTACH_NONE
            else:
                sources, attach = _sources(
                    execution, message.channel, customer.language, self.plans
                )
        except RenderError as exc:
            return Composed(problem=str(exc))
        listed_pks = [pk for pk in message.invoice_ids if self.owed[pk] > 0 and pk in self.rows]
        listed = [self.item(pk) for pk in listed_pks]
        reference_pk = execution.reference_invoice_id
        if reference_pk not in self.rows and not listed and campaign is None:
            return Composed(problem="none of its invoices can be found any more")
        reference = (
            self.item(reference_pk) if reference_pk in self.rows else next(iter(listed), None)
        )
        company = self.companies[customer.company_id]
        fees = _Fees(company, customer, self.rates)
        values = context(
            company,
            customer,
            reference,
            listed,
            self.as_of,
            rates=self.rates,
            contact=_addressee(self.contacts.get(customer.pk, []), message.to),
            extra=_merge_data(
                message.merge_data, formatting.for_reader(customer.language, customer.country)
            ),
            fees=fees,
        )
        try:
            subject, body = render_texts(sources, values)
            return Composed(
                subject,
                body,
                values=values,
                items=tuple(listed),
                fees=fees.per_currency(listed, self.as_of),
                attachments=_attached(attach, reference_pk, listed_pks, self.documents),
            )
        except RenderError as exc:
            return Composed(problem=f"could not render the message ({exc})")


def _sources(
    execution: Execution, channel: str, language: str, plans: PlanCache
) -> tuple[tuple[str, str], str]:
    """The templates of the step that produced this execution, as the plan is now (the B text
    for a customer on that side of an A/B test), and which invoices the step attaches (its
    `attach` setting)."""
    if execution.plan_id is None:
        found = _built_in(execution.step_name, channel, language)
        if found is None:
            raise RenderError(f"no text for '{execution.step_name}'")
        return found, ATTACH_REFERENCE
    try:
        _, plan, _ = plans.get(execution.plan_id)
    except KeyError:
        raise RenderError(f"plan '{execution.plan_code}' no longer exists") from None
    step = next((s for s in plan.steps if s.name == execution.step_name), None)
    if step is None:
        raise RenderError(
            f"step '{execution.step_name}' is no longer in plan '{execution.plan_code}'"
        )
    return step_text(with_side(step, execution.variant), language), step.attach


def _attached(
    attach: str, reference: int | None, listed: list[int], documents: set[int]
) -> tuple[int, ...]:
    """The invoices a step attaches (none, the reference, or those the message lists) that
    have a document: their imported PDF, or a generated summary when RELANCE_INVOICE_SUMMARIES
    is on. Known here, so that the channel looks up nothing for the many that have none."""
    if attach == ATTACH_NONE:
        return ()
    chosen = [reference] if attach == ATTACH_REFERENCE else listed
    return tuple(pk for pk in chosen if pk in documents)


def _contacts(customers: dict[int, Debtor]) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=list(customers)).order_by("pk"):
        found[contact.customer_id].append(contact)
    return found


def _addressee(contacts: Iterable[Contact], to: list[str]) -> Contact | None:
    """The contact the message is addressed to: the first whose address or number it goes to."""
    return next((c for c in contacts if c.email in to or c.phone in to), None)


def _merge_data(data: dict[str, Any], language: str) -> dict[str, Any]:
    """Dates stored in ISO form in an outbox message's own merge data, formatted for reading."""
    formatted: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            formatted[key] = _merge_data(value, language)
        elif isinstance(value, str) and _is_iso_date(value):
            formatted[key] = formatting.day(date.fromisoformat(value), language)
        else:
            formatted[key] = value
    return formatted


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
