"""The company settings page, for a company's admins: one tab per section (profile and legal
mentions, branding with a live preview of an email and a letter, sending, law, portal and
payments, disputes and promises), saved by services/organisation/settings.py; and the page
creating a new company.

Other roles get 403: the settings hold the company's bank details and payment secrets, and none
of their work needs them (what customers read of the settings, they see in the messages)."""

from __future__ import annotations

import copy
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.messaging import formatting, library
from relance.models import Alias, Company, Customer, Event, Membership, ReferenceRate
from relance.services.dunning import branding_preview
from relance.services.ledger import late_fees
from relance.services.organisation import access, hours, mailboxes
from relance.services.organisation import settings as company_settings
from relance.web import pages
from relance.web.plan_forms import template_title
from relance.web.reach import chosen_company
from relance.web.team import administered

HISTORY_ROWS = 10

SECTIONS = [
    ("profile", gettext_lazy("Profile & legal mentions")),
    ("branding", gettext_lazy("Branding")),
    ("sending", gettext_lazy("Sending")),
    ("law", gettext_lazy("Law & rates")),
    ("portal", gettext_lazy("Portal & payments")),
    ("disputes", gettext_lazy("Disputes & promises")),
    ("mailboxes", gettext_lazy("Shared mailboxes")),
]

WEEKDAYS = [
    ("1", gettext_lazy("Monday")),
    ("2", gettext_lazy("Tuesday")),
    ("3", gettext_lazy("Wednesday")),
    ("4", gettext_lazy("Thursday")),
    ("5", gettext_lazy("Friday")),
    ("6", gettext_lazy("Saturday")),
    ("7", gettext_lazy("Sunday")),
]

LAW_PACKS = [
    ("", gettext_lazy("From the company's country")),
    ("FR", gettext_lazy("France: Code de commerce L441-10 (ECB rate + 10 points, €40)")),
    ("EU", gettext_lazy("EU: Directive 2011/7/EU (ECB rate + 8 points, €40)")),
    ("UK", gettext_lazy("UK: Late Payment Act 1998 (Bank Rate + 8 points, £40 to £100)")),
    ("NONE", gettext_lazy("None: no statutory interest or indemnity")),
]

RATE_SOURCES = {
    "ECB": gettext_lazy("European Central Bank, main refinancing operations"),
    "BOE": gettext_lazy("Bank of England base rate"),
    "FR_LEGAL": gettext_lazy("French legal interest rate (professionals)"),
}

PROVIDERS = [
    ("", gettext_lazy("None: bank transfer only")),
    ("link", gettext_lazy("Payment link of your provider")),
    ("stripe", gettext_lazy("Stripe")),
]

#: Labels and help texts as a finance admin reads them, per field.
TEXTS: dict[str, tuple[Any, Any]] = {
    "name": (gettext_lazy("Company name"), gettext_lazy("As it appears on letters and emails")),
    "legal_form": (gettext_lazy("Legal form"), gettext_lazy("SAS, SARL, SA, Ltd, GmbH…")),
    "share_capital": (
        gettext_lazy("Share capital"),
        gettext_lazy("In the company's currency; printed with the legal form"),
    ),
    "registration_number": (
        gettext_lazy("Registration number"),
        gettext_lazy("SIREN or SIRET in France, Companies House number in the UK"),
    ),
    "registration_city": (
        gettext_lazy("Place of registration"),
        gettext_lazy("The RCS city in France (RCS Lyon), England and Wales in the UK"),
    ),
    "vat_number": (gettext_lazy("VAT number"), ""),
    "address_line1": (gettext_lazy("Address"), ""),
    "address_line2": (gettext_lazy("Address (second line)"), ""),
    "postal_code": (gettext_lazy("Postal code"), ""),
    "city": (gettext_lazy("City"), ""),
    "country": (gettext_lazy("Country"), gettext_lazy("Two letters: FR, GB, BE, DE…")),
    "currency": (
        gettext_lazy("Currency"),
        gettext_lazy("Three letters: EUR, GBP, USD… The company's own amounts are in it"),
    ),
    "time_zone": (
        gettext_lazy("Time zone"),
        gettext_lazy("The company's days and hours are counted in it"),
    ),
    "email": (
        gettext_lazy("Contact email for customers"),
        gettext_lazy("Shown on letters and emails for customers' questions"),
    ),
    "phone": (gettext_lazy("Contact phone for customers"), ""),
    "iban": (gettext_lazy("IBAN"), gettext_lazy("Where customers pay by bank transfer")),
    "bic": ("BIC", ""),
    "sort_code": (
        gettext_lazy("Sort code (UK)"),
        gettext_lazy(
            "Six digits, e.g. 12-34-56: customers in the UK paying in pounds are given it "
            "instead of the IBAN"
        ),
    ),
    "account_number": (
        gettext_lazy("Account number (UK)"),
        gettext_lazy("Eight digits, with the sort code"),
    ),
    "brand_colour": (
        gettext_lazy("Brand colour"),
        gettext_lazy("Header of emails, titles of letters"),
    ),
    "letter_statement": (
        gettext_lazy("Statement with letters"),
        gettext_lazy("Letters carry a statement of the account as an appendix"),
    ),
    "sender_email": (
        gettext_lazy("Sender address"),
        gettext_lazy("The From: of reminders; your mail provider must allow it"),
    ),
    "reply_to": (
        gettext_lazy("Reply-to address"),
        gettext_lazy("Where customers' answers go when the customer has no owner"),
    ),
    "send_days": (gettext_lazy("Days messages leave"), ""),
    "send_from": (
        gettext_lazy("From"),
        gettext_lazy("Messages leave from this hour, in the recipient's time zone"),
    ),
    "send_until": (gettext_lazy("Until"), gettext_lazy("…and before this one")),
    "daily_cap": (
        gettext_lazy("Daily limit"),
        gettext_lazy("At most this many messages a day; empty: no limit"),
    ),
    "law_pack": (
        gettext_lazy("Late-payment law"),
        gettext_lazy("Statutory interest and fixed indemnity added to late invoices"),
    ),
    "portal_link_days": (
        gettext_lazy("Portal link valid for (days)"),
        gettext_lazy("Days a customer's portal link works before a new one is needed"),
    ),
    "payment_provider": (
        gettext_lazy("Online payment"),
        gettext_lazy("How customers pay online from the portal"),
    ),
    "payment_link_template": (
        gettext_lazy("Payment link"),
        gettext_lazy(
            "https:// address of your provider's payment page, with {reference} {amount} "
            "{currency} {customer} {return_url} filled in"
        ),
    ),
    "payment_webhook_secret": (
        gettext_lazy("Payment confirmation secret"),
        gettext_lazy(
            "The secret your payment provider signs its confirmations with. Leave empty to keep "
            "the current one."
        ),
    ),
    "early_discount_percent": (
        gettext_lazy("Early-payment discount (%)"),
        gettext_lazy("e.g. 2.00; empty: none"),
    ),
    "early_discount_days": (
        gettext_lazy("…if paid within (days of issue)"),
        "",
    ),
    "thanks_template": (
        gettext_lazy("Thank-you message after an online payment"),
        "",
    ),
    "dispute_ack_hours": (
        gettext_lazy("Acknowledge a dispute within (business hours)"),
        "",
    ),
    "dispute_resolve_days": (
        gettext_lazy("Resolve a dispute within (business days)"),
        "",
    ),
    "promise_max_days": (
        gettext_lazy("A promise to pay at most (days ahead)"),
        gettext_lazy("How far ahead customers may promise to pay on the portal"),
    ),
    "plan_max_instalments": (gettext_lazy("Payment plan: at most (instalments)"), ""),
    "plan_max_days": (gettext_lazy("Payment plan: last instalment within (days)"), ""),
    "plan_auto_approve_below": (
        gettext_lazy("Approve payment plans at once under (amount)"),
        gettext_lazy("In the plan's currency; empty: every plan waits for your approval"),
    ),
    "plan_grace_days": (
        gettext_lazy("Payment plan broken after (days late)"),
        gettext_lazy("An instalment this many days late breaks the plan"),
    ),
    "credit_notice_percent": (
        gettext_lazy("Credit limit notice at (%)"),
        gettext_lazy("Customers using this share of their credit limit are told, once"),
    ),
}


@cache
def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones())]


class _Form(forms.ModelForm):
    """A section's fields, labelled for finance admins. Validation is the model's (run on a copy
    of the company) and the service's; saving is the service's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            label, help_text = TEXTS.get(name, (field.label, ""))
            field.label, field.help_text = label, help_text
        if "remove_secret" in self.fields:
            if self.instance.payment_webhook_secret:
                order = list(self.fields)
                order.remove("remove_secret")
                order.insert(order.index("payment_webhook_secret") + 1, "remove_secret")
                self.order_fields(order)
            else:
                del self.fields["remove_secret"]
        if "sort_code" in self.fields and self.instance.sort_code and not self.is_bound:
            self.initial["sort_code"] = self.instance.sort_code_shown

    def clean_sort_code(self) -> str:
        return company_settings.digits_of(self.cleaned_data.get("sort_code") or "")

    def clean_account_number(self) -> str:
        return company_settings.digits_of(self.cleaned_data.get("account_number") or "")


def _widgets() -> dict[str, Any]:
    return {
        "brand_colour": forms.TextInput(attrs={"type": "color"}),
        "send_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        "send_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        "payment_webhook_secret": forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
        "share_capital": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    }


class _SendDays(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value: Any) -> Any:
        return list(value) if isinstance(value, str) else value

    def clean(self, value: Any) -> str:
        return "".join(sorted(super().clean(value)))


def form_class(section: str) -> type[forms.ModelForm]:
    fields = list(company_settings.SECTIONS[section])
    overrides: dict[str, Any] = {}
    if "send_days" in fields:
        overrides["send_days"] = _SendDays(choices=WEEKDAYS)
    if "law_pack" in fields:
        overrides["law_pack"] = forms.ChoiceField(choices=LAW_PACKS, required=False)
    if "payment_provider" in fields:
        overrides["payment_provider"] = forms.ChoiceField(choices=PROVIDERS, required=False)
    if "thanks_template" in fields:
        overrides["thanks_template"] = forms.ChoiceField(
            choices=[("", gettext_lazy("None"))]
            + [(n, template_title(n)) for n in library.names()],
            required=False,
        )
    if "time_zone" in fields:
        overrides["time_zone"] = forms.ChoiceField(choices=_zones)
    if "payment_webhook_secret" in fields:
        overrides["payment_webhook_secret"] = forms.CharField(
            required=False, max_length=64, widget=_widgets()["payment_webhook_secret"]
        )
        overrides["remove_secret"] = forms.BooleanField(
            required=False, label=gettext_lazy("Remove the secret")
        )
    if section == "branding":
        overrides["logo"] = forms.FileField(
            required=False,
            label=gettext_lazy("Logo"),
            help_text=gettext_lazy("PNG or JPEG, at most 1 MB"),
            widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        )
        overrides["remove_logo"] = forms.BooleanField(
            required=False, label=gettext_lazy("Remove the logo")
        )
    attrs: dict[str, Any] = {
        "Meta": type("Meta", (), {"model": Company, "fields": fields, "widgets": _widgets()}),
        **overrides,
    }
    return type(f"{section.title()}Form", (_Form,), attrs)


def _company(request: HttpRequest) -> Company:
    """The company asked for among those the user administers."""
    return chosen_company(request, administered(request.user))


def _section(request: HttpRequest) -> str:
    section = request.GET.get("section") or request.POST.get("section") or "profile"
    return section if section in dict(SECTIONS) else "profile"


def _values(section: str, form: forms.ModelForm) -> dict[str, Any]:
    data = {k: form.cleaned_data[k] for k in company_settings.SECTIONS[section]}
    if data.get("law_pack") is None and "law_pack" in data:
        data["law_pack"] = ""
    return data


def _law(company: Company, language: str) -> dict[str, Any]:
    pack = late_fees.pack_of(company)
    today = hours.company_today(company)
    rates = []
    for source, label in ReferenceRate.Source.choices:
        latest = (
            ReferenceRate.objects.filter(source=source, since__lte=today).order_by("-since").first()
        )
        if latest is not None:
            rates.append(
                {
                    "source": source,
                    "label": RATE_SOURCES.get(source, label),
                    "since": formatting.day(latest.since, language),
                    "percent": formatting.percent(latest.percent, language),
                }
            )
    contract = Customer.objects.filter(company=company, late_interest_rate__isnull=False)
    return {
        "pack": dict(LAW_PACKS).get(pack, pack),
        "rates": rates,
        "contract_rates": contract.count(),
        "waived": Customer.objects.filter(company=company, late_fees_waived=True).count(),
    }


HISTORY_KINDS = (
    "company.created",
    "company.updated",
    "company.settings_changed",
    "alias.added",
    "alias.changed",
    "alias.removed",
)
ALIAS_CHANGES = {
    "alias.added": gettext_lazy("Shared mailbox %(email)s added"),
    "alias.changed": gettext_lazy("Shared mailbox %(email)s changed"),
    "alias.removed": gettext_lazy("Shared mailbox %(email)s removed"),
}


def _history(company: Company, language: str) -> list[dict[str, Any]]:
    """The last changes of the company's settings: when, who, which fields (by their labels)."""
    rows = []
    for event in (
        Event.objects.filter(company=company, customer__isnull=True, kind__in=HISTORY_KINDS)
        .select_related("actor")
        .order_by("-at")[:HISTORY_ROWS]
    ):
        names = event.data.get("fields") or [k for k in event.data if k != "section"]
        if event.kind in ALIAS_CHANGES:
            what = str(ALIAS_CHANGES[event.kind]) % {"email": event.data.get("email", "")}
        else:
            what = ", ".join(
                str(TEXTS.get(n, (_("Logo") if n == "logo" else n, ""))[0]) for n in names
            )
        rows.append(
            {
                "when": formatting.moment(event.at, company.time_zone, language),
                "who": (event.actor.get_full_name() or event.actor.get_username())
                if event.actor
                else event.source,
                "created": event.kind == "company.created",
                "fields": what,
            }
        )
    return rows


def _page(
    request: HttpRequest, company: Company, section: str, form: Any = None, status: int = 200
) -> HttpResponse:
    language = pages.language()
    context: dict[str, Any] = {
        "company": company,
        "companies": [c for c in administered(request.user)],
        "sections": SECTIONS,
        "section": section,
        "form": form
        or (
            form_class(section)(instance=copy.copy(company), prefix=section)
            if section in company_settings.SECTIONS
            else None
        ),
        "may_create": company_settings.may_create(request.user),
        "secret_set": bool(company.payment_webhook_secret),
        "history": _history(company, language),
    }
    context["preview_language"] = language if language in ("en", "fr") else "en"
    if section == "law":
        context["law"] = _law(company, language)
    if section == "mailboxes":
        context["mailboxes"] = [
            {"alias": a, "form": MailboxForm(company=company, alias=a, prefix=f"a{a.pk}")}
            for a in Alias.objects.filter(company=company).order_by("email")
        ]
        context["form"] = form or MailboxForm(company=company)
    return render(request, "relance/company_settings.html", context, status=status)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    section = _section(request)
    if request.method != "POST" or section not in company_settings.SECTIONS:
        return _page(request, company, section)
    form = form_class(section)(
        request.POST, request.FILES, instance=copy.copy(company), prefix=section
    )
    if not form.is_valid():
        return _page(request, company, section, form, status=400)
    upload = form.cleaned_data.get("logo")
    try:
        changed = company_settings.save(
            company,
            section,
            _values(section, form),
            actor=request.user,
            logo=upload.read(company_settings.MAX_LOGO_BYTES + 1) if upload else None,
            remove_logo=bool(form.cleaned_data.get("remove_logo")),
            clear=("payment_webhook_secret",) if form.cleaned_data.get("remove_secret") else (),
        )
    except company_settings.SettingsRefused:
        raise PermissionDenied from None
    except ValidationError as exc:
        company.refresh_from_db()
        for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
            form.add_error(field if field in form.fields else None, errors)
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc.messages)
        return _page(request, company, section, form, status=400)
    if changed:
        messages.success(request, _("Settings saved."))
    else:
        messages.success(request, _("Nothing changed."))
    return redirect(reverse("company-settings") + f"?company={company.pk}&section={section}")


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The email and the first page of a letter with the branding and profile as the forms show
    them now, unsaved (htmx). Admins only: it renders documents, work for the server."""
    company = _company(request)
    fields = company_settings.SECTIONS["profile"] + company_settings.SECTIONS["branding"]
    values: dict[str, Any] = {}
    for name in fields:
        for prefix in ("profile", "branding"):
            key = f"{prefix}-{name}"
            if key in request.POST:
                values[name] = request.POST[key]
    if "branding-letter_statement" not in request.POST and "branding-brand_colour" in request.POST:
        values["letter_statement"] = False
    draft, problems = branding_preview.draft(company, values)
    logo: bytes | None = None
    upload = request.FILES.get("branding-logo")
    if upload is not None:
        try:
            logo, _extension = company_settings.read_logo(
                upload.read(company_settings.MAX_LOGO_BYTES + 1)
            )
        except ValidationError as exc:
            problems["logo"] = exc.messages
    elif request.POST.get("branding-remove_logo"):
        draft.logo = ""
    language = request.POST.get("preview_language") or pages.language()
    language = language if language in ("en", "fr") else "en"
    context: dict[str, Any] = {"problems": problems, "images": None, "language": language}
    try:
        context["images"] = branding_preview.images(
            draft, language, logo, hours.company_today(company)
        )
    except branding_preview.PreviewUnavailable:
        context["unavailable"] = True
    except ValueError as exc:  # a saved logo the letter cannot take
        context["problems"] = {**problems, "logo": [str(exc)]}
    return render(request, "relance/company_settings_preview.html", context)


# ------------------------------------------------------------------------------------------------
# Shared mailboxes
# ------------------------------------------------------------------------------------------------


class MailboxForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Address"),
        help_text=gettext_lazy("e.g. ar@yourcompany.com: plan steps may give manual work to it"),
    )
    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=100)
    members = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Members"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Work given to the mailbox is in each member's Actions inbox"),
    )

    def __init__(self, *args: Any, company: Company, alias: Alias | None = None, **kwargs: Any):
        if alias is not None:
            kwargs.setdefault(
                "initial",
                {"name": alias.name, "members": list(alias.members.values_list("pk", flat=True))},
            )
        super().__init__(*args, **kwargs)
        if alias is not None:
            del self.fields["email"]
        people = Membership.objects.filter(company=company).select_related("user")
        self.fields["members"].choices = [  # type: ignore[attr-defined]
            (m.user_id, m.user.get_full_name() or m.user.email or m.user.get_username())
            for m in people.order_by("user__email")
        ]


def _mailboxes(company: Company) -> HttpResponse:
    return redirect(reverse("company-settings") + f"?company={company.pk}&section=mailboxes")


def _alias(request: HttpRequest, pk: int) -> Alias:
    alias = get_object_or_404(Alias.objects.select_related("company"), pk=pk)
    if alias.company_id not in access.roles(request.user):
        raise Http404
    if not company_settings.may_edit(request.user, alias.company):
        raise PermissionDenied
    return alias


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_POST
def mailbox_add(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    form = MailboxForm(request.POST, company=company)
    if form.is_valid():
        data = form.cleaned_data
        try:
            mailboxes.add(company, data["email"], data["name"], data["members"], actor=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Shared mailbox %(email)s added.") % data)
            return _mailboxes(company)
    return _page(request, company, "mailboxes", form, status=400)


@login_required
@require_POST
def mailbox_change(request: HttpRequest, pk: int) -> HttpResponse:
    alias = _alias(request, pk)
    form = MailboxForm(request.POST, company=alias.company, alias=alias, prefix=f"a{pk}")
    if form.is_valid():
        try:
            mailboxes.change(
                alias, form.cleaned_data["name"], form.cleaned_data["members"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Shared mailbox %(email)s saved.") % {"email": alias.email})
    else:
        messages.error(request, _("Choose members among the company's people."))
    return _mailboxes(alias.company)


@login_required
@require_POST
def mailbox_remove(request: HttpRequest, pk: int) -> HttpResponse:
    alias = _alias(request, pk)
    company = alias.company
    mailboxes.remove(alias, actor=request.user)
    messages.success(request, _("Shared mailbox %(email)s removed.") % {"email": alias.email})
    return _mailboxes(company)


# ------------------------------------------------------------------------------------------------
# A new company
# ------------------------------------------------------------------------------------------------


class NewCompanyForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Short code"),
        max_length=50,
        help_text=gettext_lazy(
            "Letters, digits and dashes, e.g. lumiere-uk: how imports and the command line name it"
        ),
    )
    name = forms.CharField(label=gettext_lazy("Company name"), max_length=200)
    country = forms.CharField(
        label=gettext_lazy("Country"),
        max_length=2,
        help_text=gettext_lazy("Two letters: FR, GB, BE, DE…"),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        help_text=gettext_lazy("Three letters: EUR, GBP, USD…"),
    )
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=_zones)


@login_required
def company_new(request: HttpRequest) -> HttpResponse:
    if not company_settings.may_create(request.user):
        raise PermissionDenied
    form = NewCompanyForm(request.POST or None, initial={"time_zone": "Europe/Paris"})
    if request.method == "POST" and form.is_valid():
        try:
            company = company_settings.create(dict(form.cleaned_data), actor=request.user)
        except company_settings.SettingsRefused:
            raise PermissionDenied from None
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("%(name)s created: complete its profile, then its branding.")
                % {"name": company.name},
            )
            return redirect(reverse("company-settings") + f"?company={company.pk}")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "relance/company_new.html", {"form": form}, status=status)
