"""Broadcasts in the staff app: build a segment with the customers list's filters, preview who and
what, then send waves now or at a time; each wave's results (services.dunning.campaigns does the
work)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from relance.domain.plans.model import AUTOMATIC_CHANNELS
from relance.messaging import formatting, library
from relance.models import Campaign, Company, Membership, OutboxMessage, Plan, Wave
from relance.services.dunning import campaigns
from relance.services.organisation import access, hours
from relance.web import pages, reach
from relance.web.customer_filters import CustomerFilter
from relance.web.plan_forms import CHANNELS, template_title

OWN = "own"
CRITERIA = (
    "segment",
    "risk",
    "plan",
    "rep",
    "owner",
    "late",
    "flag",
    "owes",
    "bank_transfer",
    "late_over",
    "owed_over",
)
Audience = Wave.Audience


def _companies(user: Any) -> QuerySet[Company]:
    """Companies whose campaigns this user reads: a sales rep's view stops at their customers."""
    reading = [c for c, role in access.roles(user).items() if role != Membership.Role.SALES_REP]
    return Company.objects.filter(pk__in=reading).order_by("name")


def _texts(companies: QuerySet[Company]) -> list[tuple[Any, Any]]:
    """The text choices: written here, a library template, or a plan step that sends a message."""
    steps = []
    for plan in Plan.objects.filter(company__in=companies).order_by("name"):
        for step in plan.steps.filter(active=True).order_by("position"):
            if step.channel in AUTOMATIC_CHANNELS:
                steps.append((f"step:{plan.pk}:{step.name}", f"{plan.name} · {step.name}"))
    return [
        (OWN, gettext_lazy("Written here")),
        (
            gettext_lazy("Templates"),
            [(f"template:{n}", template_title(n)) for n in library.names()],
        ),
        (gettext_lazy("Plan steps"), steps),
    ]


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[c for c in CHANNELS if c[0] in AUTOMATIC_CHANNELS],
    )
    text = forms.ChoiceField(label=gettext_lazy("Text"))
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False)
    body = forms.CharField(
        label=gettext_lazy("Body"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Merge fields as in plan steps, e.g. {{ customer.name }}"),
    )
    counts_as_contact = forms.BooleanField(
        label=gettext_lazy("Counts as a contact"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Plans wait their minimum contact delay after this message"),
    )

    def __init__(self, data: Any, companies: QuerySet[Company]) -> None:
        super().__init__(data)
        field: Any = self.fields["text"]
        field.choices = _texts(companies)

    def campaign(self, company: Company, criteria: dict[str, str]) -> Campaign:
        """The campaign the form describes, unsaved (for the preview) or saved by create."""
        text = self.cleaned_data["text"]
        kind, _sep, rest = text.partition(":")
        plan_pk, _sep, step_name = rest.partition(":")
        return Campaign(
            company=company,
            name=self.cleaned_data["name"],
            criteria=criteria,
            channel=self.cleaned_data["channel"],
            template=rest if kind == "template" else "",
            plan=(
                Plan.objects.filter(pk=int(plan_pk), company=company).first()
                if kind == "step"
                else None
            ),
            step_name=step_name if kind == "step" else "",
            subject=self.cleaned_data["subject"] if kind == OWN else "",
            body=self.cleaned_data["body"] if kind == OWN else "",
            counts_as_contact=self.cleaned_data["counts_as_contact"],
        )


def _segment_form(request: HttpRequest, data: Any) -> CustomerFilter:
    return CustomerFilter(data, access.customers(request.user), list(_acting(request.user)))


def _acting(user: Any) -> QuerySet[Company]:
    return Company.objects.filter(pk__in=access.acting_in(user)).order_by("name")


def _criteria(segment: CustomerFilter) -> dict[str, str]:
    return {name: segment.chosen(name) for name in CRITERIA if segment.chosen(name)}


def _chosen_company(request: HttpRequest, segment: CustomerFilter) -> Company | None:
    companies = _acting(request.user)
    code = segment.chosen("company")
    if code:
        return companies.filter(code=code).first()
    return companies.first() if companies.count() == 1 else None


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    companies = _companies(request.user)
    listed = pages.paged(
        request,
        Campaign.objects.filter(company__in=companies)
        .select_related("company")
        .annotate(
            wave_count=Count("waves"),
            # a cancelled wave's messages never left: the customers were not reached
            reached=Sum(F("waves__reached") - F("waves__cancelled")),
            last_sent=Max("waves__sent_at"),
        )
        .order_by("-created_at", "-pk"),
        50,
    )
    language = pages.language()
    for campaign in listed["page"]:
        campaign.last_shown = formatting.moment(
            campaign.last_sent, campaign.company.time_zone, language
        )
    context = {
        **listed,
        "may_create": bool(access.acting_in(request.user)),
        "several_companies": companies.count() > 1,
    }
    return render(request, "relance/campaign_list.html", context)


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    companies = _acting(request.user)
    if not companies.exists():
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(data, companies)
    segment = _segment_form(request, data or request.GET)
    if request.method == "POST" and form.is_valid():
        company = _chosen_company(request, segment)
        if company is None:
            form.add_error(None, _("Choose the company whose customers the campaign writes to."))
        else:
            draft = form.campaign(company, _criteria(segment))
            try:
                created = campaigns.create(
                    company,
                    draft.name,
                    draft.criteria,
                    draft.channel,
                    template=draft.template,
                    plan=draft.plan,
                    step_name=draft.step_name,
                    subject=draft.subject,
                    body=draft.body,
                    counts_as_contact=draft.counts_as_contact,
                    actor=request.user,
                )
            except campaigns.CampaignError as exc:
                form.add_error(None, str(exc))
            else:
                notices.success(request, _("Campaign created: check who it reaches, then send."))
                return redirect("campaign", created.pk)
    context = {
        "form": form,
        "segment": segment,
        "several_companies": companies.count() > 1,
    }
    return render(request, "relance/campaign_new.html", context)


@login_required
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The htmx panel beside the form: who the segment holds and the first one's message."""
    companies = _acting(request.user)
    form = CampaignForm(request.POST, companies)
    segment = _segment_form(request, request.POST)
    company = _chosen_company(request, segment)
    context: dict[str, Any] = {"problem": ""}
    if company is None:
        context["problem"] = _("Choose a company to see who the campaign reaches.")
    elif not form.is_valid():
        context["problem"] = _("Give the campaign a name and a text to see it.")
    else:
        draft = form.campaign(company, _criteria(segment))
        context["preview"] = campaigns.preview(draft, hours.company_today(company))
    return render(request, "relance/campaign_preview.html", context)


def _reachable(request: HttpRequest) -> QuerySet[Campaign]:
    companies = _companies(request.user)
    return Campaign.objects.select_related("company", "plan").filter(company__in=companies)


def _visible(request: HttpRequest, pk: int) -> Campaign:
    return get_object_or_404(_reachable(request), pk=pk)


class WaveForm(forms.Form):
    number = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    audience = forms.ChoiceField(
        label=gettext_lazy("To"),
        widget=forms.RadioSelect,
        choices=[
            (Audience.ALL, gettext_lazy("Everyone reached before")),
            (Audience.MATCHING, gettext_lazy("Those reached before who are still in the segment")),
        ],
        initial=Audience.MATCHING,
    )
    when = forms.ChoiceField(
        label=gettext_lazy("When"),
        widget=forms.RadioSelect,
        choices=[("now", gettext_lazy("Now")), ("later", gettext_lazy("At"))],
        initial="now",
    )
    send_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, data: Any, number: int, zone: str) -> None:
        super().__init__(data, initial={"number": number})
        self.first = number == 1
        self.zone = ZoneInfo(zone)
        if self.first:
            del self.fields["audience"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("when") == "later" and not data.get("send_at"):
            self.add_error("send_at", _("Give the date and time to send it."))
        return data

    def chosen(self) -> tuple[str, datetime | None]:
        who = Audience.SEGMENT if self.first else self.cleaned_data["audience"]
        if self.cleaned_data["when"] != "later":
            return who, None
        wall = timezone.make_naive(self.cleaned_data["send_at"])  # as typed, in the company's zone
        return who, wall.replace(tzinfo=self.zone)


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible(request, pk)
    form = WaveForm(None, campaigns.next_number(campaign), campaign.company.time_zone)
    return _detail(request, campaign, form)


def _confirmation(found: campaigns.Forecast, moved: bool) -> dict[str, Any]:
    """What the person confirms before a wave leaves: how many it writes to, who waits for the
    contact delay (and until when), who has no address."""
    language = pages.language()
    return {
        "forecast": found,
        "moved": moved,
        "waiting": [
            {
                "customer": w.snap.customer,
                "last": formatting.day(w.last_contact, language) if w.last_contact else "",
                "until": formatting.day(w.waits_until, language) if w.waits_until else "",
            }
            for w in found.waiting_sample
        ],
    }


def _state(status: str) -> str:
    """An outbox state as the reader's words ("Queued", "In the print run")."""
    try:
        return str(OutboxMessage.Status(status).label)
    except ValueError:
        return status


def _criterion(segment: CustomerFilter, name: str, value: str, currency: str, language: str) -> str:
    """A stored criterion as the person chose it: a choice's label, a number of days, an amount
    in the company's currency."""
    field: Any = segment.fields[name]
    if hasattr(field, "choices"):
        return str(dict(field.choices).get(value, value))
    if name == "owed_over":
        try:
            return formatting.money(Decimal(value), currency, language)
        except (InvalidOperation, ValueError):
            return value
    return value


def _detail(
    request: HttpRequest,
    campaign: Campaign,
    form: WaveForm,
    confirm: dict[str, Any] | None = None,
) -> HttpResponse:
    language = pages.language()
    zone = campaign.company.time_zone
    today = hours.company_today(campaign.company)
    segment = _segment_form(request, campaign.criteria)
    results = []
    for result in campaigns.results(campaign):
        wave = result.wave
        results.append(
            {
                "wave": wave,
                "audience": wave.get_audience_display(),
                "when": formatting.moment(wave.sent_at or wave.send_at, zone, language),
                "messages": result.messages,
                "states": [(_state(status), n) for status, n in result.messages.items()],
                "owed": formatting.amounts(result.owed, language),
                "paid": formatting.amounts(result.paid_since, language),
                "paying": result.paying_customers,
                "pending": sum(result.messages.get(s, 0) for s in ("planned", "failed")),
                "cancelled_at": formatting.moment(wave.cancelled_at, zone, language),
            }
        )
    currency = campaign.company.currency
    context = {
        "campaign": campaign,
        "criteria": [
            (segment[name].label, _criterion(segment, name, value, currency, language))
            for name, value in campaign.criteria.items()
            if name in segment.fields
        ],
        "preview": campaigns.preview(campaign, today),
        "results": results,
        "form": form,
        "may_act": access.may_act(request.user, campaign.company_id),
        "zone": zone,
        "confirm": confirm,
    }
    return render(request, "relance/campaign_detail.html", context, status=200)


@login_required
@require_POST
def wave_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = reach.acting_on(request, _reachable(request), pk)
    posted = request.POST.get("number", "")
    # The wave the person saw as next: a form posted twice is then refused, not sent twice.
    number = int(posted) if posted.isdigit() else campaigns.next_number(campaign)
    form = WaveForm(request.POST, number, campaign.company.time_zone)
    if form.is_valid():
        who, at = form.chosen()
        zone = campaign.company.time_zone
        found = campaigns.forecast(campaign, who, hours.company_today(campaign.company))
        confirmed = request.POST.get("confirm", "")
        if confirmed != str(found.messages):  # not confirmed yet, or the numbers moved since
            return _detail(request, campaign, form, confirm=_confirmation(found, bool(confirmed)))
        try:
            wave = campaigns.add_wave(
                campaign, form.cleaned_data["number"], who, at, actor=request.user
            )
        except campaigns.CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            if wave.sent_at:
                notices.success(
                    request,
                    _("Wave %(n)s is queued: %(reached)s messages.")
                    % {"n": wave.number, "reached": wave.reached},
                )
            else:
                notices.success(
                    request,
                    _("Wave %(n)s will leave on %(when)s.")
                    % {
                        "n": wave.number,
                        "when": formatting.moment(wave.send_at, zone, pages.language()),
                    },
                )
            return redirect("campaign", campaign.pk)
    return _detail(request, campaign, form)


@login_required
@require_POST
def wave_cancel(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    campaign = reach.acting_on(request, _reachable(request), pk)
    wave = campaign.waves.filter(number=number).first()
    if wave is None:
        raise Http404
    try:
        stopped = campaigns.cancel_wave(wave, actor=request.user)
    except campaigns.CampaignError as exc:
        notices.error(request, str(exc))
    else:
        if stopped:
            notices.success(
                request,
                ngettext(
                    "Wave %(n)s is cancelled: %(count)s message will not leave.",
                    "Wave %(n)s is cancelled: %(count)s messages will not leave.",
                    stopped,
                )
                % {"n": number, "count": stopped},
            )
        else:
            notices.success(request, _("Wave %(n)s is cancelled.") % {"n": number})
    return redirect("campaign", campaign.pk)


@login_required
def campaign_letters(request: HttpRequest, pk: int) -> HttpResponse:
    """The first customers' letters as they will be printed (a PDF to read, nothing sent)."""
    campaign = _visible(request, pk)
    try:
        pdf = campaigns.printed_letters(campaign, hours.company_today(campaign.company))
    except campaigns.CampaignError as exc:
        notices.error(request, str(exc))
        return redirect("campaign", campaign.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="campaign-{campaign.pk}-letters.pdf"'
    return response
