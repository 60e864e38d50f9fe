"""A batch's decisions composed into rows: the steps acted on, the promises broken and kept.

Composing is where the hot loop spends its time: everything here works on snapshots already
read, so that the one process writing for several (services/dunning/workers) only inserts.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cached_property
from typing import Any

from django.utils import timezone

from relance.domain import engine, law, priority, reasons
from relance.domain.money import Money, Totals
from relance.domain.plans.model import AUTOMATIC_CHANNELS, CALL, SMS, Step, variant_for
from relance.messaging import formatting
from relance.models import ActionItem, Company, Execution, OutboxMessage
from relance.services.dunning import messages
from relance.services.dunning.batches import Batch, CycleReport, inserter
from relance.services.dunning.recipients import OwnerLookup, addresses, recipients
from relance.services.ledger import late_fees, snapshots
from relance.services.organisation import hours, journal


def _reason(why: str) -> dict[str, Any]:
    """An execution's reason: its English text and its codes, written out at display."""
    text, data = reasons.stored(why)
    return {"reason": text, "reason_data": data}


def _promised(promise: Any, language: str) -> dict[str, str]:
    """A promise's merge fields for its missed-payment notice (the date formatted at delivery)."""
    amount = ""
    if promise.amount is not None and promise.currency:
        amount = formatting.money(promise.amount, promise.currency, language)
    return {"pay_by": promise.pay_by.isoformat(), "amount": amount}


_MISSING = {SMS: "no contact has a mobile number"}


def _nobody_to_reach(snap: snapshots.CustomerSnapshot, step: Step, action: engine.Action) -> str:
    """What the owner needs to act on a step nobody could receive: no template is rendered, as
    a ledger without addresses or contacts would otherwise cost a full message per customer."""
    language = snap.customer.language
    missing = _MISSING.get(step.channel, "no contact has an email address that has not bounced")
    owed = "\n".join(
        f"- {i.number}: {formatting.money(i.amount_due, i.currency, language)}"
        for i in action.invoices
    )
    return (
        f"'{step.name}' could not go out: {missing}. Complete the customer's details, or send "
        f"it yourself (relance preview shows its text).\n\nInvoices:\n{owed}"
    )


#: The notice a broken promise sends, outside any plan: to the billing contacts, with the invoice.
_MISSED_PAYMENT = Step(
    engine.MISSED_PAYMENT_NOTICE,
    0,
    channel="email",
    recipients=("role:billing",),
    attach="reference",
)


def _reported(
    customer: snapshots.Debtor,
    plan_code: str,
    step: Step,
    step_index: int | None,
    status: str,
    reference: str,
    **rest: Any,
) -> dict[str, Any]:
    """An action's entry in `relance run --json` (the key order is the output's)."""
    return {
        "customer": customer.external_id,
        "plan": plan_code,
        "step": step.name,
        "step_index": step_index,
        "channel": step.channel,
        "mode": step.mode,
        "status": status,
        "reference_invoice": reference,
        **rest,
    }


class Composer:
    """Turns one batch's decisions into rows (`batch()`); `write` inserts them."""

    def __init__(self, day: date, run_id: int | None, owners: OwnerLookup) -> None:
        self.day = day
        self.run_id = run_id
        self.owners = owners
        self.now = timezone.now()
        self.executions: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.done = Batch(CycleReport(day))
        self.send_times: dict[tuple[int, str], datetime] = {}

    def batch(self) -> Batch:
        self.done.executions = inserter(Execution).prepare(self.executions)
        self.done.messages = inserter(OutboxMessage).prepare(self.messages)
        return self.done

    @cached_property
    def companies(self) -> dict[int, Company]:
        """For the texts of manual items; most batches have none."""
        return Company.objects.in_bulk()

    def _first_send(self, customer: snapshots.Debtor) -> datetime:
        """Business hours in the recipient's zone: the engine decides the day, the outbox the
        hour (services.organisation.hours). The same for every customer of a company in one zone."""
        zone = (customer.company_id, customer.time_zone)
        found = self.send_times.get(zone)
        if found is None:
            company = self.companies[customer.company_id]
            found = self.send_times[zone] = hours.first_send(
                company, customer.time_zone, self.day, self.now
            )
        return found

    @cached_property
    def rates(self) -> law.RateTable:
        return late_fees.rate_table()

    def _text(
        self, snap: snapshots.CustomerSnapshot, step: Step, action: engine.Action
    ) -> tuple[str, str]:
        """The subject and body a person reads in the inbox (call script, task, message to
        approve), in the customer's language; a failing template says so instead."""
        customer = snap.customer
        try:
            values = messages.context(
                self.companies[customer.company_id],
                customer,
                action.reference,
                action.invoices,
                self.day,
                rates=self.rates,
                contact=snap.contacts[0] if snap.contacts else None,
            )
            return messages.render_texts(messages.step_text(step, customer.language), values)
        except messages.RenderError as exc:
            problem = f"Could not render the message ({exc}); check the plan."
            return step.subject, f"{problem}\n\n{step.body}".strip()

    def _execution(self, snap: snapshots.CustomerSnapshot, **values: Any) -> dict[str, Any]:
        row = {
            "company_id": snap.customer.company_id,
            "customer_id": snap.customer.pk,
            "date": self.day,
            "run_id": self.run_id,
            "created_at": self.now,
            **values,
        }
        self.executions.append(row)
        return row

    def _event(
        self, snap: snapshots.CustomerSnapshot, kind: str, invoice: int | None, data: dict[str, Any]
    ) -> None:
        self.done.events.append(
            journal.row(
                kind, snap.customer, invoice_id=invoice, source="cycle", data=data, at=self.now
            )
        )

    def skipped(
        self, snap: snapshots.CustomerSnapshot, skips: tuple[engine.Skip, ...], key: str
    ) -> None:
        """Superseded steps are reported, and recorded on the execution (`key`) that superseded
        them, so they stand or fall with it."""
        self.done.skip_keys += [key] * len(skips)
        self.done.report.skipped += [
            {
                "customer": snap.customer.external_id,
                "step": skip.step,
                "step_index": skip.step_index,
                "reference_invoice": skip.reference,
                "reason": skip.reason,
            }
            for skip in skips
        ]

    def act(
        self,
        snap: snapshots.CustomerSnapshot,
        plan_pk: int,
        plan_code: str,
        steps: dict[str, int],
        action: engine.Action,
        superseded: tuple[engine.Skip, ...],
    ) -> None:
        """A step the engine decided: its execution, then a message to deliver when it goes out
        by itself to somebody, else an item in a person's inbox."""
        step = action.step
        customer = snap.customer
        to = recipients(step, snap) if step.is_customer_facing else []
        cc = addresses(step.cc, snap, step.channel) if step.is_customer_facing and step.cc else []
        invoices = [i.id for i in action.invoices]
        totals = action.totals_json()
        self._execution(
            snap,
            key=action.key,
            plan_id=plan_pk,
            plan_code=plan_code,
            step_id=steps.get(step.name),
            step_name=step.name,
            step_index=action.step_index,
            variant=variant_for(step, customer.external_id, plan_code),
            reference_invoice_id=snap.invoice_pks.get(action.reference.id),
            reference_external_id=action.reference.id,
            repetition=action.repetition,
            status=Execution.Status.EXECUTED,
            **_reason(action.reason),
            channel=step.channel,
            mode=step.mode,
            customer_facing=step.is_customer_facing,
            invoices=invoices,
            totals=totals,
            superseded=[{"step": s.step, "step_index": s.step_index} for s in superseded],
        )
        self.skipped(snap, superseded, action.key)
        status = "open"
        automatic = step.channel in AUTOMATIC_CHANNELS and step.mode == "auto"
        if automatic and to:
            status = "queued"  # composed when delivered (services/messages.compose)
            invoice_pks = [
                snap.invoice_pks[i.id] for i in action.invoices if i.id in snap.invoice_pks
            ]
            self._queue(customer, action.key, step.channel, to, cc, invoice_pks)
        else:
            self._manual_item(snap, action, automatic=automatic)
        self.done.report.actions.append(
            _reported(
                customer,
                plan_code,
                step,
                action.step_index,
                status,
                action.reference.id,
                invoices=invoices,
                totals=totals,
                recipients=to,
                cc=cc,
                key=action.key,
            )
        )

    def _queue(
        self,
        customer: snapshots.Debtor,
        key: str,
        channel: str,
        to: list[str],
        cc: list[str],
        invoice_pks: list[int],
        **merge: Any,
    ) -> None:
        """An outbox message, planned for the company's first business hour: what it says is
        composed when it is delivered."""
        self.messages.append(
            {
                "key": key,
                "company_id": customer.company_id,
                "customer_id": customer.pk,
                "channel": channel,
                "to": to,
                "cc": cc,
                "invoice_ids": invoice_pks,
                **merge,
                "created_at": self.now,
                "next_attempt_at": self._first_send(customer),
                "status": OutboxMessage.Status.PLANNED,
            }
        )

    def _manual_item(
        self, snap: snapshots.CustomerSnapshot, action: engine.Action, *, automatic: bool
    ) -> None:
        """Work for a person: a call, a task, a message to approve, or a message nobody could
        receive; ranked when written, as a broken promise raises it (batches._write_items)."""
        step, customer = action.step, snap.customer
        kind = (
            ActionItem.Kind.NO_CONTACT
            if automatic
            else ActionItem.Kind.APPROVAL
            if step.channel in AUTOMATIC_CHANNELS
            else ActionItem.Kind.CALL
            if step.channel == CALL
            else ActionItem.Kind.TASK
        )
        title = {
            ActionItem.Kind.NO_CONTACT: f"No contact to send '{step.name}' to",
            ActionItem.Kind.APPROVAL: f"Approve '{step.name}'",
        }.get(kind, step.name)
        if kind == ActionItem.Kind.NO_CONTACT:
            subject, body = "", _nobody_to_reach(snap, step, action)
        else:
            subject, body = self._text(snap, step, action)
        self.done.items.append(
            (
                {
                    "key": action.key,
                    "company_id": customer.company_id,
                    "customer_id": customer.pk,
                    "kind": kind,
                    "title": f"{title}: {customer.name}"[:300],
                    "body": f"{subject}\n\n{body}".strip() if subject else body,
                    "due_date": self.day,
                    "priority": priority.priority(
                        action.reference.days_late(self.day),
                        action.totals,
                        customer.risk,
                        broke_a_promise=False,  # known when written (_write_items)
                    ),
                },
                self.owners.resolve(step.owners, customer),
            )
        )

    def broken(
        self, snap: snapshots.CustomerSnapshot, plan_code: str, broken: engine.BrokenPromise
    ) -> None:
        """A promise whose date passed unpaid: the missed-payment notice to the billing contacts
        (an item for the owner when nobody can receive it), outside the plan's steps."""
        customer = snap.customer
        promise = snap.promises[broken.promise]
        self.done.broken_promises.append(promise.pk)
        reference = broken.invoices[0]
        to = recipients(_MISSED_PAYMENT, snap)
        invoices = [i.id for i in broken.invoices]
        totals = Totals(Money(i.amount_due, i.currency) for i in broken.invoices).as_json()
        self._execution(
            snap,
            key=broken.key,
            plan_id=None,
            plan_code="",
            step_id=None,
            step_name=engine.MISSED_PAYMENT_NOTICE,
            step_index=None,
            reference_invoice_id=snap.invoice_pks.get(reference.id),
            reference_external_id=reference.id,
            repetition=0,
            status=Execution.Status.EXECUTED,
            **_reason(reasons.reason(reasons.PROMISE_BROKEN, pay_by=promise.pay_by)),
            channel="email",
            mode="auto",
            customer_facing=True,
            invoices=invoices,
            totals=totals,
        )
        status = "open"
        if to:
            status = "queued"
            invoice_pks = [snap.invoice_pks[i.id] for i in broken.invoices]
            promised = {"promise": _promised(promise, customer.language)}
            self._queue(customer, broken.key, "email", to, [], invoice_pks, merge_data=promised)
        self._event(
            snap,
            "promise.broken",
            snap.invoice_pks.get(reference.id),
            {
                "promise": promise.pk,
                "pay_by": promise.pay_by.isoformat(),
                "invoices": [i.id for i in broken.invoices],
                "date": self.day.isoformat(),
                "key": broken.key,
            },
        )
        self.done.report.actions.append(
            _reported(
                customer,
                plan_code,
                _MISSED_PAYMENT,
                None,
                status,
                reference.id,
                invoices=invoices,
                totals=totals,
                recipients=to,
                cc=[],
                key=broken.key,
            )
        )

    def kept(self, snap: snapshots.CustomerSnapshot, decision: engine.Decision) -> None:
        """Promises whose date passed without being broken were kept: the invoices were paid."""
        broken = {b.promise for b in decision.broken_promises}
        kept = [
            p.pk for pid, p in snap.promises.items() if p.pay_by < self.day and pid not in broken
        ]
        self.done.kept_promises += kept
        for pk in kept:
            self._event(snap, "promise.kept", None, {"promise": pk, "date": self.day.isoformat()})
