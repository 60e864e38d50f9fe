"""The customer portal: pages a customer opens from the personal link in their messages, with no
login. Every view reads the customer from the signed link (services.portal.links) and only that
customer's data; a bad link gets a page saying why, and an expired or withdrawn one offers a code
by email to get a fresh link. Pages speak the customer's language unless the visitor picks
another; attempts are rate-limited per address and per link."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from relance import client
from relance.messaging import formatting
from relance.models import Company, Customer, PaymentPlan
from relance.services.dialogue import pauses, payment_plans, portal_disputes
from relance.services.dialogue.pauses import Refused
from relance.services.ledger import lookup
from relance.services.organisation import hours
from relance.services.portal import accounts, codes, links, online_payments

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")
#: Requests per address in ten minutes before the portal answers 429: enough for a person,
#: far too few to guess links or codes.
LIMIT, WINDOW = 60, 600
CODE_LIMIT = 10  # code pages (send and check) per address in ten minutes


def _address(request: HttpRequest) -> str:
    """The client's address, read as login throttling reads it (behind trusted proxies too)."""
    return client.address(request)


def _over(request: HttpRequest, scope: str, limit: int) -> bool:
    key = f"portal:{scope}:{_address(request)}"
    cache.add(key, 0, WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW)
        count = 1
    return count > limit


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/refused.html", {"message": _too_many_text()}, status=429)


def _too_many_text() -> str:
    return str(_("Too many attempts from your connection. Wait ten minutes and try again."))


def _language(request: HttpRequest, customer: Customer | None) -> str:
    chosen = request.GET.get("lang") or request.COOKIES.get("portal_lang", "")
    if chosen in LANGUAGES:
        return chosen
    return customer.language if customer is not None and customer.language in LANGUAGES else "en"


View = Callable[..., HttpResponse]


def customer_page(view: View) -> View:
    """Rate limit, read the link, speak the customer's language, and hand the customer to the
    view; a refused link gets its page (with the code form when a code can re-issue it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if _over(request, "page", LIMIT):
            return _too_many(request)
        try:
            customer = links.read(token)
        except links.PortalLinkRefused as refused:
            with translation.override(_language(request, None)):
                return _refused(request, token, refused)
        language = _language(request, customer)
        with translation.override(language):
            response = view(request, customer, language, *args, **kwargs)
        if request.GET.get("lang") in LANGUAGES:
            response.set_cookie("portal_lang", language, max_age=365 * 86400, samesite="Lax")
        response.headers.setdefault("Cache-Control", "private, no-store")
        response.headers.setdefault("Referrer-Policy", "same-origin")  # the token is in the URL
        return response

    return wrapper


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"))


class CodeForm(forms.Form):
    code = forms.RegexField(label=_("Code"), regex=r"^\s*\d{6}\s*$", max_length=12)


def _refused(request: HttpRequest, token: str, refused: links.PortalLinkRefused) -> HttpResponse:
    context = {
        "message": str(refused),
        "can_reissue": refused.customer_pk is not None,
        "email_form": EmailForm(),
        "token": token,
    }
    return render(request, "portal/refused.html", context, status=403)


def new_link(request: HttpRequest, token: str) -> HttpResponse:
    """From an expired or withdrawn link: email a code to a known contact, then trade the code
    for a fresh link. The page says the same whether the address is known or not."""
    if request.method != "POST":
        return redirect("portal", token=token)
    if _over(request, "code", CODE_LIMIT):
        return _too_many(request)
    try:
        links.read(token)
        return redirect("portal", token=token)  # the link works: nothing to re-issue
    except links.PortalLinkRefused as refused:
        customer_pk = refused.customer_pk
        if customer_pk is None:
            return _refused(request, token, refused)
    customer = Customer.objects.get(pk=customer_pk)
    language = _language(request, customer)
    with translation.override(language):
        if "code" in request.POST:
            code_form = CodeForm(request.POST)
            if code_form.is_valid():
                fresh = codes.check_code(customer_pk, code_form.cleaned_data["code"])
                if fresh is not None:
                    return redirect("portal", token=fresh)
            code_form.add_error(None, _("This code is not right, or no longer valid."))
            return render(request, "portal/code.html", {"form": code_form, "token": token})
        email_form = EmailForm(request.POST)
        if not email_form.is_valid():
            context = {"message": "", "can_reissue": True, "email_form": email_form, "token": token}
            return render(request, "portal/refused.html", context, status=400)
        job = codes.ask(customer_pk, email_form.cleaned_data["email"], _address(request))
        if job is None:
            return _too_many(request)
        page = render(request, "portal/code.html", {"form": CodeForm(), "token": token})
        return _after(page, job)  # the same answer, as fast, for a known or unknown address


def _after(response: HttpResponse, job: Callable[[], object]) -> HttpResponse:
    """Run `job` once the answer has gone: the WSGI server closes a response after sending it,
    and Django then runs its closers (before request_finished, with the database still open).
    A failure is logged; the visitor has their answer already."""

    def run() -> None:
        try:
            job()
        except Exception:
            logger.exception("portal: a code could not be sent")

    # Django's own list of what closing a response runs (FileResponse closes its file there)
    response._resource_closers.append(run)  # type: ignore[attr-defined]
    return response


@customer_page
def statement(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    today = hours.company_today(customer.company)
    accounts.note_visit(customer, today)
    account = accounts.account(customer, today, language)
    company = customer.company
    context = {
        "customer": customer,
        "company": company,
        "account": account,
        "today": account.on,
        "statement_day": formatting.day(account.on, account.language),
        "bank": accounts.bank_details(company, customer),
        "language": language,
        "token": _token(request),
        "paid_back": request.GET.get("paid") == "1",
    }
    response = render(request, "portal/statement.html", context)
    if origin := _payment_origin(company):  # the pay button's answer redirects there
        response._csp_update = {"form-action": [origin]}  # type: ignore[attr-defined]
    return response


STRIPE_CHECKOUT = "https://checkout.stripe.com"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _payment_origin(company: Company) -> str | None:
    """Where the pay button's form ends up (after our redirect), for the page's form-action:
    browsers hold a form's redirects to the Content-Security-Policy of the page it was on."""
    if company.payment_provider == online_payments.STRIPE:
        return STRIPE_CHECKOUT
    if company.payment_provider == online_payments.LINK and company.payment_link_template:
        parts = urlsplit(company.payment_link_template)
        origin = f"{parts.scheme}://{parts.netloc}"
        return origin if _ORIGIN.match(origin) else None
    return None


@customer_page
def invoice_pdf(
    request: HttpRequest, customer: Customer, language: str, invoice: str
) -> HttpResponse:
    try:
        name, content = accounts.invoice_pdf(
            customer, invoice, hours.company_today(customer.company), language
        )
    except accounts.DocumentNotFound:
        return render(
            request,
            "portal/refused.html",
            {"message": _("There is no such invoice on your account.")},
            status=404,
        )
    return _download(content, name, "application/pdf")


@customer_page
def statement_pdf(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    today = hours.company_today(customer.company)
    content = accounts.statement_pdf(customer, today, language)
    return _download(content, f"statement-{customer.external_id}-{today}.pdf", "application/pdf")


@customer_page
def statement_csv(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    today = hours.company_today(customer.company)
    content = accounts.statement_csv(customer, today).encode("utf-8")
    return _download(content, f"statement-{customer.external_id}-{today}.csv", "text/csv")


def _download(content: bytes, name: str, kind: str) -> HttpResponse:
    response = HttpResponse(content, content_type=kind)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


class DisputeForm(forms.Form):
    invoices = forms.MultipleChoiceField(
        label=_("Which invoices?"), widget=forms.CheckboxSelectMultiple
    )
    category = forms.ChoiceField(
        label=_("What is wrong?"),
        widget=forms.RadioSelect,
        choices=[
            ("wrong_amount", _("The amount is wrong")),
            ("not_received", _("We did not receive the goods or service")),
            ("quality", _("A quality problem")),
            ("already_paid", _("We have already paid")),
            ("other", _("Something else")),
        ],
    )
    message = forms.CharField(
        label=_("Tell us more"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    proof = forms.FileField(
        label=_("Proof (PDF, PNG or JPEG, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args: Any, invoices: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["invoices"]
        field.choices = [
            (i["id"], f"{i['number']} · {i['amount_due']}") for i in invoices if not i["disputed"]
        ]


class PromiseForm(forms.Form):
    invoices = forms.MultipleChoiceField(
        label=_("Which invoices will you pay?"), widget=forms.CheckboxSelectMultiple
    )
    pay_by = forms.DateField(label=_("Paid by"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(
        label=_("Amount (leave empty: all of it)"),
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
    )

    def __init__(
        self,
        *args: Any,
        invoices: list[dict[str, Any]],
        latest: Any,
        today: Any,
        reader: str = "en",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["invoices"]
        field.choices = [
            (i["id"], f"{i['number']} · {i['amount_due']}")
            for i in invoices
            if not i["disputed"] and not i["promised_for"]
        ]
        self.latest, self.today, self.reader = latest, today, reader
        self.fields["pay_by"].widget.attrs.update(min=today.isoformat(), max=latest.isoformat())

    def clean_pay_by(self) -> Any:
        day = self.cleaned_data["pay_by"]
        if day < self.today:
            raise forms.ValidationError(_("Choose a date from today."))
        if day > self.latest:
            raise forms.ValidationError(
                _("Choose a date by %(day)s at the latest.")
                % {"day": formatting.day(self.latest, self.reader)}
            )
        return day


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"] if request.resolver_match else ""


@customer_page
def dispute(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    today = hours.company_today(customer.company)
    account = accounts.account(customer, today, language)
    post = request.method == "POST"
    form = DisputeForm(
        request.POST if post else None, request.FILES if post else None, invoices=account.invoices
    )
    context: dict[str, Any] = {
        "customer": customer,
        "company": customer.company,
        "token": _token(request),
        "form": form,
    }
    if post and form.is_valid():
        upload = form.cleaned_data.get("proof")
        content = upload.read(portal_disputes.MAX_PROOF + 1) if upload else None
        try:
            raised = portal_disputes.raise_from_portal(
                customer,
                lookup.invoices_of(customer, form.cleaned_data["invoices"]),
                form.cleaned_data["category"],
                form.cleaned_data["message"],
                content,
            )
        except (Refused, lookup.NotTheirs) as exc:
            form.add_error(None, str(exc))
        else:
            context["raised"] = raised
            context["acknowledge_by"] = formatting.moment(
                raised.acknowledge_by, customer.company.time_zone, account.language
            )
            context["resolve_by"] = formatting.moment(
                raised.resolve_by, customer.company.time_zone, account.language
            )
    return render(
        request,
        "portal/dispute.html",
        context,
        status=400 if post and "raised" not in context else 200,
    )


@customer_page
def promise(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    company = customer.company
    today = hours.company_today(company)
    account = accounts.account(customer, today, language)
    latest = today + timedelta(days=company.promise_max_days)
    post = request.method == "POST"
    form = PromiseForm(
        request.POST if post else None,
        invoices=account.invoices,
        latest=latest,
        today=today,
        reader=account.language,
    )
    context: dict[str, Any] = {
        "customer": customer,
        "company": company,
        "token": _token(request),
        "form": form,
        "latest": formatting.day(latest, account.language),
    }
    if post and form.is_valid():
        try:
            made = pauses.add_promise(
                customer,
                lookup.invoices_of(customer, form.cleaned_data["invoices"]),
                form.cleaned_data["pay_by"],
                today,
                source="portal",
                amount=form.cleaned_data.get("amount"),
            )
        except (Refused, lookup.NotTheirs) as exc:
            form.add_error(None, str(exc))
        else:
            context["promised"] = made
            context["pay_by"] = formatting.day(made.pay_by, account.language)
            if made.amount is not None and made.currency:
                context["promised_amount"] = formatting.money(
                    made.amount, made.currency, account.language
                )
    return render(
        request,
        "portal/promise.html",
        context,
        status=400 if post and "promised" not in context else 200,
    )


class PlanForm(forms.Form):
    invoices = forms.MultipleChoiceField(
        label=_("Which invoices?"), widget=forms.CheckboxSelectMultiple
    )
    count = forms.TypedChoiceField(label=_("In how many monthly instalments?"), coerce=int)
    first = forms.DateField(
        label=_("First instalment on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, invoices: list[dict[str, Any]], most: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field: Any = self.fields["invoices"]
        field.choices = [
            (i["id"], f"{i['number']} · {i['amount_due']}")
            for i in invoices
            if not i["disputed"] and not i["in_plan"]
        ]
        count: Any = self.fields["count"]
        count.choices = [(n, str(n)) for n in range(2, most + 1)]


@customer_page
def payment_plan(request: HttpRequest, customer: Customer, language: str) -> HttpResponse:
    """Ask for a payment plan, or accept the schedule staff proposed instead."""
    company = customer.company
    today = hours.company_today(company)
    account = accounts.account(customer, today, language)
    post = request.method == "POST"
    context: dict[str, Any] = {
        "customer": customer,
        "company": company,
        "token": _token(request),
        "latest": formatting.day(today + timedelta(days=company.plan_max_days), account.language),
    }
    if post and "accept" in request.POST:
        offered = PaymentPlan.objects.filter(
            customer=customer,
            pk=request.POST.get("accept") or 0,
            status=PaymentPlan.Status.COUNTERED,
        ).first()
        if offered is not None:
            payment_plans.accept_counter(offered)
        return redirect("portal", token=_token(request))
    form = PlanForm(
        request.POST if post else None,
        invoices=account.invoices,
        most=company.plan_max_instalments,
    )
    context["form"] = form
    if post and form.is_valid():
        try:
            made = payment_plans.request(
                customer,
                form.cleaned_data["invoices"],
                form.cleaned_data["count"],
                form.cleaned_data["first"],
            )
        except payment_plans.PlanRefused as exc:
            form.add_error(None, str(exc))
        else:
            context["plan"] = accounts.plan_view(made, today, account.language)
    status = 400 if post and "plan" not in context else 200
    return render(request, "portal/payment_plan.html", context, status=status)
