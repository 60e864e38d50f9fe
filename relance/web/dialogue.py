"""What a credit controller records on a customer's page: a hold, a dispute, a promise to pay,
the plan.

Each is a small form posted to its own URL, done by services.dialogue.pauses (which logs the
event for the timeline) and answered with a redirect to the customer's page and a message.
Read-only users and sales reps see the customer but may not change it (403); a customer out of
reach is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.messaging import formatting
from relance.models import Customer, DiscountProposal, Dispute, Invoice, PaymentPlan
from relance.services.dialogue import discounts, pauses, payment_plans, portal_disputes
from relance.services.dunning import cycle, plan_choice, plans
from relance.services.ledger import snapshots
from relance.services.organisation import access, hours
from relance.services.portal import links
from relance.web import pages, reach

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date picker


class HoldForm(forms.Form):
    until = forms.DateField(label=gettext_lazy("Pause dunning until"), widget=DATE)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today  # the company's date

    def clean_until(self) -> Any:
        until = self.cleaned_data["until"]
        if until < self.today:
            raise forms.ValidationError(gettext_lazy("The date is in the past."))
        return until


class DisputeForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none(), label=gettext_lazy("Invoice"))
    category = forms.ChoiceField(
        label=gettext_lazy("What is wrong"), choices=Dispute.Category.choices
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def promised_amount(**options: Any) -> forms.DecimalField:
    """The optional amount of a promise to pay, as every staff form that records one takes it."""
    return forms.DecimalField(
        label=gettext_lazy("Amount promised (optional)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        localize=True,
        **options,
    )


class PromiseForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(
        queryset=Invoice.objects.none(),
        label=gettext_lazy("Invoices"),
        widget=forms.CheckboxSelectMultiple,
    )
    pay_by = forms.DateField(label=gettext_lazy("Will pay by"), widget=DATE)
    amount = promised_amount(help_text=gettext_lazy("Empty: everything due on the invoices chosen"))


class PlanForm(forms.Form):
    plan = forms.ChoiceField(label=gettext_lazy("Plan"), required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class SendStepForm(forms.Form):
    step = forms.ChoiceField(label=gettext_lazy("Step of the plan"))


def forms_for(
    customer: Customer, data: Any = None, plan_code: str | None = None
) -> dict[str, forms.Form]:
    """The forms, their invoice choices limited to this customer's unpaid invoices and the steps
    offered to send now to those of the plan the cycle would use (`plan_code`, found if None)."""
    today = hours.company_today(customer.company)
    if plan_code is None:
        plan_code, _why = plan_choice.explain_plan(customer.pk, today)
    unpaid = [row[0] for row in snapshots.amounts_due([customer.pk], today)]
    owed = Invoice.objects.filter(customer=customer, pk__in=unpaid)
    dispute, promise = DisputeForm(data, prefix="dispute"), PromiseForm(data, prefix="promise")
    dispute.fields["invoice"].queryset = owed.order_by("due_date", "number")  # type: ignore[attr-defined]
    open_disputes = Dispute.objects.filter(customer=customer, resolved_on__isnull=True)
    undisputed = owed.exclude(pk__in=open_disputes.values("invoice_id"))
    promise.fields["invoices"].queryset = undisputed.order_by("due_date", "number")  # type: ignore[attr-defined]
    hold = HoldForm(data, prefix="hold", initial={"until": today + timedelta(days=7)}, today=today)
    promise.initial = {"pay_by": today + timedelta(days=7)}
    plan = PlanForm(
        data, prefix="plan", initial={"plan": customer.plan.code if customer.plan else ""}
    )
    field: Any = plan.fields["plan"]
    field.choices = [("", gettext_lazy("by the rules"))] + [
        (p.code, p.name) for p in plans.plans_for(customer.company)
    ]
    send = SendStepForm(data, prefix="send")
    stored = plans.plans_for(customer.company).filter(code=plan_code or "").first()
    steps: Any = send.fields["step"]
    defined = stored.definition["steps"] if stored else []
    steps.choices = [(s["name"], f"{n}. {s['name']}") for n, s in enumerate(defined, start=1)]
    oldest = owed.order_by("due_date", "pk").first()
    if oldest is not None and (proposed := _step_due(defined, oldest, today)):
        send.initial = {"step": proposed}
    return {
        "hold": hold,
        "dispute": dispute,
        "promise": promise,
        "plan": plan,
        "send": send,
        "note": NoteForm(data, prefix="note"),
    }


def _step_due(steps: list[dict[str, Any]], oldest: Invoice, today: date) -> str | None:
    """The latest step whose day has come for the oldest unpaid invoice: what "send a step now"
    proposes (not the pre-due reminder for an invoice 500 days late)."""
    found = None
    for step in steps:
        trigger = step.get("trigger") or {}
        anchor = {"due_date": oldest.due_date, "issue_date": oldest.issue_date}.get(
            trigger.get("from", "due_date")
        )
        days = trigger.get("days")
        if anchor is not None and isinstance(days, int) and anchor + timedelta(days) <= today:
            found = step["name"]
    return found


def _day(value: date) -> str:
    return formatting.day(value, pages.language())


def _acting_on_row(request: HttpRequest, rows: QuerySet[Any], pk: int) -> Any:
    """A row about a customer (dispute, discount…) this user may see, and act on (else 403)."""
    mine = rows.select_related("company", "customer")
    return reach.acting_on(request, mine.filter(customer__in=access.customers(request.user)), pk)


def _done(request: HttpRequest, customer: Customer, form: forms.Form, text: str) -> HttpResponse:
    if form.errors:
        for field, errors in form.errors.items():
            said = " ".join(str(e) for e in errors)
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {said}" if label else said)
    else:
        messages.success(request, text)
    back = request.POST.get("back", "")
    if back.isdigit() and Invoice.objects.filter(pk=back, customer=customer).exists():
        return redirect("invoice", pk=int(back))  # the invoice page's own forms
    return redirect("customer", pk=customer.pk)


def _record(
    request: HttpRequest, pk: int, name: str, act: Callable[[Customer, dict[str, Any]], str]
) -> HttpResponse:
    """Who may, the form named `name` valid, then `act` (the service call, returning what to
    tell the user); a refusal from the service is shown as the form's error."""
    customer = reach.acting_on(request, access.customers(request.user), pk)
    form = forms_for(customer, request.POST)[name]
    if form.is_valid():
        try:
            return _done(request, customer, form, act(customer, form.cleaned_data))
        except pauses.Refused as exc:
            form.add_error(None, str(exc))
    return _done(request, customer, form, "")


@login_required
@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        until = data["until"]
        pauses.hold(customer, until, source="web", actor=request.user)
        return _("Dunning paused until %(until)s.") % {"until": _day(until)}

    return _record(request, pk, "hold", act)


@login_required
@require_POST
def dispute(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        invoice = data["invoice"]
        pauses.open_dispute(
            invoice,
            hours.company_today(customer.company),
            reason=data["reason"],
            source="web",
            actor=request.user,
            category=data["category"],
        )
        return _("Dispute opened on %(number)s.") % {"number": invoice.number}

    return _record(request, pk, "dispute", act)


@login_required
@require_POST
def promise(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        pauses.add_promise(
            customer,
            list(data["invoices"]),
            data["pay_by"],
            hours.company_today(customer.company),
            source="web",
            actor=request.user,
            amount=data.get("amount"),
        )
        return _("Promise to pay by %(date)s recorded.") % {"date": _day(data["pay_by"])}

    return _record(request, pk, "promise", act)


@login_required
@require_POST
def change_plan(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        updated = plans.assign_plan(
            customer,
            data["plan"] or None,
            source="web",
            actor=request.user,
        )
        if updated.plan:
            return _("The plan is now %(plan)s.") % {"plan": updated.plan.name}
        return _("The assignment rules choose the plan again.")

    return _record(request, pk, "plan", act)


@login_required
@require_POST
def send_step(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        today = hours.company_today(customer.company)
        try:
            done = cycle.step_now(customer.pk, data["step"], today, actor=request.user)
        except cycle.StepRefused as exc:
            raise pauses.Refused(str(exc)) from None
        values = {"step": done["step"], "invoice": done["reference_number"]}
        if done["status"] == "queued":
            return _("%(step)s is queued for invoice %(invoice)s.") % values
        return _("%(step)s is in the Actions inbox, for invoice %(invoice)s.") % values

    return _record(request, pk, "send", act)


@login_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    def act(customer: Customer, data: dict[str, Any]) -> str:
        pauses.add_note(customer, data["text"], source="web", actor=request.user)
        return _("Note added.")

    return _record(request, pk, "note", act)


@login_required
@require_POST
def portal_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Every portal link sent to this customer stops working (a forwarded email, a lost phone)."""
    customer = reach.acting_on(request, access.customers(request.user), pk)
    links.revoke(customer, actor=request.user)
    messages.success(request, _("Every portal link sent so far is withdrawn."))
    return redirect("customer", pk=customer.pk)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift the hold before its end: dunning resumes with the next cycle."""
    customer = reach.acting_on(request, access.customers(request.user), pk)
    try:
        pauses.release(customer, source="web", actor=request.user)
    except pauses.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The hold is lifted: dunning resumes with the next cycle."))
    return redirect("customer", pk=customer.pk)


@login_required
def dispute_proof(request: HttpRequest, pk: int) -> FileResponse:
    """The proof a customer attached to a dispute, for whoever may see the customer."""
    found = get_object_or_404(
        Dispute.objects.filter(customer__in=access.customers(request.user)).exclude(proof=""),
        pk=pk,
    )
    name = found.proof.name.rsplit("/", 1)[-1]
    return FileResponse(found.proof.open("rb"), as_attachment=True, filename=name)


@login_required
@require_POST
def payment_plan_decide(request: HttpRequest, pk: int, plan: int) -> HttpResponse:
    """Approve, reject (with a note the customer reads) or counter-propose a payment plan."""
    customer = reach.acting_on(request, access.customers(request.user), pk)
    found = get_object_or_404(PaymentPlan, pk=plan, customer=customer)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    try:
        if decision == "approve":
            payment_plans.approve(found, actor=request.user)
            said = _("The payment plan is agreed.")
        elif decision == "reject":
            payment_plans.reject(found, note, actor=request.user)
            said = _("The payment plan is rejected: its invoices return to dunning.")
        elif decision == "counter":
            count = int(request.POST.get("count") or 0)
            first = date.fromisoformat(request.POST.get("first") or "")
            payment_plans.counter(found, count, first, note, actor=request.user)
            said = _("Your proposal waits for the customer to accept it on the portal.")
        else:
            raise payment_plans.PlanRefused(_("Choose what to do with the plan."))
    except (payment_plans.PlanRefused, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, said)
    return redirect("customer", pk=customer.pk)


@login_required
@require_POST
def dispute_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge, answer or resolve a dispute from the customer's page."""
    found = _acting_on_row(
        request, Dispute.objects.filter(resolved_on=None).select_related("invoice"), pk
    )
    action = request.POST.get("action", "")
    try:
        if action == "acknowledge":
            portal_disputes.acknowledge(found, actor=request.user)
            said = _("Acknowledged.")
        elif action == "reply":
            portal_disputes.reply(found, request.POST.get("text", ""), actor=request.user)
            said = _("Your answer is on its way to the customer.")
        elif action == "resolve":
            portal_disputes.resolve(
                found,
                request.POST.get("outcome", ""),
                request.POST.get("explanation", ""),
                actor=request.user,
            )
            said = _("The dispute is resolved and the customer told.")
        else:
            raise pauses.Refused(_("Choose what to do with the dispute."))
    except pauses.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, said)
    return redirect("customer", pk=found.customer_id)


@login_required
@require_POST
def discount_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (a credit note settles the rest) or decline an early-payment discount taken."""
    found = _acting_on_row(request, DiscountProposal.objects.select_related("invoice"), pk)
    try:
        if request.POST.get("decision") == "confirm":
            discounts.confirm(found, actor=request.user)
            messages.success(request, _("The discount is confirmed by a credit note."))
        else:
            discounts.decline(found, actor=request.user)
            messages.success(request, _("The discount is declined: the rest stays owed."))
    except pauses.Refused as exc:
        messages.error(request, str(exc))
    return redirect("customer", pk=found.customer_id)
