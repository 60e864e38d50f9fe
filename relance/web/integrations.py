"""The integrations page, for a company's admins: API tokens (created here, the secret shown
once), webhook endpoints and the log of what was posted to them, with a retry."""

from __future__ import annotations

import logging
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from relance.messaging import formatting
from relance.models import EVENT_TYPES, ApiToken, Company, WebhookDelivery, WebhookEndpoint
from relance.services.dunning import run
from relance.services.integrations import api_tokens, webhooks
from relance.web import pages
from relance.web.team import _company, administered

LOG_ROWS = 50
logger = logging.getLogger(__name__)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “ERP nightly sync”"),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"),
        choices=[
            (ApiToken.Scope.READ, gettext_lazy("Read only")),
            (ApiToken.Scope.WRITE, gettext_lazy("Read and write")),
        ],
    )


class WebhookForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(e, e) for e in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(EVENT_TYPES),
    )


def _answer(delivery: WebhookDelivery) -> str:
    """What the log shows of the last try: the status code or a generic reason, never what the
    endpoint answered (rows written before relance stopped storing bodies included)."""
    code, error = delivery.last_status_code, delivery.last_error
    if not error:
        return f"HTTP {code}" if code else ""
    reasons = {
        webhooks.TIMED_OUT: _("timed out"),
        webhooks.NO_CONNECTION: _("could not connect"),
        webhooks.NOT_ALLOWED: _("address not allowed"),
        webhooks.REDIRECTED: _("redirect not followed"),
    }
    if error in reasons:
        return reasons[error]
    if code is None:
        return reasons[webhooks.NO_CONNECTION]
    if 300 <= code < 400:
        return reasons[webhooks.REDIRECTED]
    return _("answered %(code)s") % {"code": code}


def _back(company: Company) -> HttpResponse:
    return redirect(reverse("integrations") + f"?company={company.pk}")


def _owned(request: HttpRequest, model: type, pk: int, company_path: str) -> object:
    """A row of one of the companies this user administers; 404 otherwise."""
    companies = administered(request.user)
    if not companies:
        raise Http404
    return get_object_or_404(model, pk=pk, **{f"{company_path}__in": companies})


@login_required
def integrations_page(
    request: HttpRequest,
    token_form: TokenForm | None = None,
    webhook_form: WebhookForm | None = None,
    new_secret: str = "",
) -> HttpResponse:
    company = _company(request)
    language = pages.language()
    zone = company.time_zone

    def when(at: datetime | None) -> str:
        return formatting.moment(at, zone, language)

    tokens = [
        {"token": t, "created": when(t.created_at), "used": when(t.last_used_at)}
        for t in ApiToken.objects.filter(company=company).select_related("created_by")
    ]
    endpoints = list(WebhookEndpoint.objects.filter(company=company))
    log = [
        {
            "delivery": d,
            "answer": _answer(d),
            "created": when(d.created_at),
            "next": when(d.next_attempt_at) if d.status == WebhookDelivery.Status.PENDING else "",
        }
        for d in WebhookDelivery.objects.filter(endpoint__company=company).select_related(
            "endpoint"
        )[:LOG_ROWS]
    ]
    context = {
        "company": company,
        "companies": administered(request.user),
        "tokens": tokens,
        "endpoints": endpoints,
        "log": log,
        "token_form": token_form or TokenForm(initial={"scope": ApiToken.Scope.READ}),
        "webhook_form": webhook_form or WebhookForm(),
        "new_secret": new_secret,
        "api_docs": request.build_absolute_uri("/api/docs"),
    }
    return render(request, "relance/integrations.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return integrations_page(request, token_form=form)
    try:
        _, secret = api_tokens.create(
            company, form.cleaned_data["name"], form.cleaned_data["scope"], actor=request.user
        )
    except api_tokens.TokenRefused as exc:
        form.add_error("name", str(exc))
        return integrations_page(request, token_form=form)
    # Shown in this answer only: no redirect, so the secret is never stored anywhere.
    return integrations_page(request, new_secret=secret)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _owned(request, ApiToken, pk, "company")
    assert isinstance(token, ApiToken)
    api_tokens.revoke(token, actor=request.user)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return _back(token.company)


@login_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    company = _company(request)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhooks.subscribe(
                company, form.cleaned_data["url"], form.cleaned_data["events"], actor=request.user
            )
        except webhooks.WebhookRefused as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, _("Webhook added."))
            return _back(company)
    return integrations_page(request, webhook_form=form)


@login_required
@require_POST
def webhook_remove(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _owned(request, WebhookEndpoint, pk, "company")
    assert isinstance(endpoint, WebhookEndpoint)
    company = endpoint.company
    webhooks.unsubscribe(endpoint, actor=request.user)
    messages.success(request, _("Webhook removed."))
    return _back(company)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _owned(request, WebhookDelivery, pk, "endpoint__company")
    assert isinstance(delivery, WebhookDelivery)
    company = delivery.endpoint.company
    webhooks.retry(delivery)  # due now, committed (no ATOMIC_REQUESTS) before the task reads it
    # Only this company's deliveries, in the background (in this request, within a few seconds,
    # when there is no Celery broker); another company's wait for the tick.
    try:
        run.configured().deliver_webhooks(company.pk)
    except OperationalError:  # the broker is away: the tick posts it, the delivery being due
        logger.warning("could not queue webhook deliveries of company %s", company.pk)
    delivery.refresh_from_db()
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        messages.success(request, _("Delivered."))
    else:
        messages.success(
            request, _("Queued: it will be posted again shortly. The log shows the last answer.")
        )
    return _back(company)
