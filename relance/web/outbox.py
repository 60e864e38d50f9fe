"""The outbox monitor: what is queued, sent, failing or dead, when each message leaves (in the
company's time zone, inside its sending hours), to whom (a letter: the postal address), a preview
of what the recipient gets (the text composed as it would leave now, a letter's PDF), and
retrying or cancelling a message (services.dunning.outbox does it with compare-and-set, so
nothing can leave twice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.domain.delivery import DeliveryError
from relance.messaging import formatting
from relance.models import OutboxMessage, PrintedLetter
from relance.services.dunning import delivery, outbox
from relance.services.dunning import messages as composing
from relance.services.organisation import access, hours
from relance.web import pages, reach
from relance.web.plan_forms import CHANNELS

Status = OutboxMessage.Status
TABS = {
    "problems": (gettext_lazy("Problems"), (Status.FAILED, Status.DEAD)),
    "queued": (gettext_lazy("Queued"), (Status.PLANNED, Status.CLAIMED)),
    "printing": (gettext_lazy("In print"), (Status.PRINTING,)),
    "sent": (gettext_lazy("Sent"), (Status.SENT,)),
    "cancelled": (gettext_lazy("Cancelled"), (Status.CANCELLED,)),
}
PAGE_SIZE = 50
PREVIEW_LINES = 2
CHANNEL_LABELS = dict(CHANNELS)
WAITING = (Status.PLANNED, Status.CLAIMED, Status.FAILED)


def leaves_at(message: OutboxMessage, now: datetime) -> datetime | None:
    """When a message still to send leaves: its next attempt, not before now, moved into the
    sending hours (in the recipient's zone) as the delivery moves it; None once it is done."""
    if message.status not in WAITING:
        return None
    zone = message.customer.time_zone if message.customer else message.company.time_zone
    return hours.after(message.company, zone, max(message.next_attempt_at, now))


def recipient(message: OutboxMessage) -> list[str]:
    """Whom it goes to as a person reads it: a letter's postal address (the customer's name and
    address lines), else the addresses or numbers it is sent to."""
    customer = message.customer
    if message.channel == "letter" and customer is not None:
        return [
            customer.name,
            *formatting.postal_lines(
                customer.address_line1,
                customer.address_line2,
                customer.postal_code,
                customer.city,
            ),
            *([customer.country] if customer.country != message.company.country else []),
        ]
    return list(message.to)


def _first_lines(body: str) -> str:
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    shown = " ".join(lines[:PREVIEW_LINES])
    return shown if len(lines) <= PREVIEW_LINES else shown + " …"


def _row(message: OutboxMessage, acting: set[int], now: datetime, language: str) -> dict[str, Any]:
    zone = message.company.time_zone
    leaves = leaves_at(message, now)
    return {
        "m": message,
        "channel": CHANNEL_LABELS.get(message.channel, message.channel),
        "queued": formatting.moment(message.created_at, zone, language),
        "leaves": formatting.moment(leaves, zone, language) if leaves else "",
        "sent": formatting.moment(message.sent_at, zone, language) if message.sent_at else "",
        "recipient": recipient(message),
        "first_lines": _first_lines(message.body),
        "may_retry": message.status in outbox.RETRYABLE and message.company_id in acting,
        "may_cancel": message.status in outbox.CANCELLABLE and message.company_id in acting,
    }


@login_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    visible = access.messages(request.user)
    counts = dict(visible.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    tab = request.GET.get("tab", "problems")
    if tab not in TABS:
        tab = "problems"
    query = visible.filter(status__in=TABS[tab][1]).select_related(
        "customer", "execution", "company"
    )
    search = request.GET.get("q", "").strip()
    if search:
        query = query.filter(
            Q(customer__name__icontains=search) | Q(customer__external_id__icontains=search)
        )
    listed = pages.paged(request, query.order_by("-created_at", "-pk"), PAGE_SIZE)
    acting = set(access.acting_in(request.user))
    now, language = timezone.now(), pages.language()
    context: dict[str, Any] = {
        "tabs": [
            (key, label, sum(counts.get(s, 0) for s in statuses))
            for key, (label, statuses) in TABS.items()
        ],
        "tab": tab,
        "search": search,
        "may_print": bool(acting),  # print runs are for those who post the letters
        **listed,
        "rows": [_row(m, acting, now, language) for m in listed["page"].object_list],
    }
    return render(request, "relance/outbox.html", context)


def _message(request: HttpRequest, pk: int) -> OutboxMessage:
    """A message about a customer this user may see (404 otherwise: not said whether it exists)."""
    return get_object_or_404(
        access.messages(request.user).select_related(
            "customer__owner", "customer__company", "company", "execution"
        ),
        pk=pk,
    )


def _composed(message: OutboxMessage) -> composing.Composed:
    """The text as it went, or for a message still to send, as it would leave now (with what is
    owed today, on the company's day); nothing is saved."""
    if message.body or message.status not in WAITING:
        return composing.Composed(message.subject, message.body)
    today = hours.company_today(message.company)
    return composing.compose([message], today)[message.pk]


@login_required
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    """One message in full: to whom, when it leaves, and the text the recipient gets."""
    message = _message(request, pk)
    text = _composed(message)
    acting = set(access.acting_in(request.user))
    language = pages.language()
    context: dict[str, Any] = {
        **_row(message, acting, timezone.now(), language),
        "subject": text.subject,
        "body": text.body,
        "problem": text.problem,
        "letter": message.channel == "letter" and message.customer is not None,
    }
    return render(request, "relance/outbox_message.html", context)


@login_required
def outbox_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """A letter's PDF: as printed when it is in a print run, else as it would be printed now."""
    message = _message(request, pk)
    if message.channel != "letter" or message.customer is None:
        raise Http404
    printed = PrintedLetter.objects.filter(message=message).first()
    if printed is not None:
        pdf = bytes(printed.pdf)
    else:
        text = _composed(message)
        if text.problem:
            raise Http404
        draft = OutboxMessage(
            pk=message.pk,
            key=message.key,
            company=message.company,
            customer=message.customer,
            channel=message.channel,
            to=message.to,
            subject=text.subject,
            body=text.body,
        )
        try:
            pdf = delivery.compose(draft, text).letter or b""
        except DeliveryError:
            pdf = b""
        if not pdf:
            raise Http404
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{message.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/outbox/") else "outbox")


def _changed(
    request: HttpRequest,
    pk: int,
    change: Callable[..., None],
    done: str,
    refused: str,
) -> HttpResponse:
    """Retry or cancel (`change`, compare-and-set in services.dunning.outbox), saying what came
    of it."""
    message = reach.acting_on(request, access.messages(request.user), pk)
    try:
        change(message, actor=request.user)
        notices.success(request, done)
    except outbox.NotNow as exc:
        notices.error(request, refused % {"why": exc})
    return _back(request)


@login_required
@require_POST
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _changed(
        request,
        pk,
        outbox.retry,
        _("Queued again: it leaves at the next delivery."),
        _("Not retried: %(why)s."),
    )


@login_required
@require_POST
def outbox_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _changed(
        request,
        pk,
        outbox.cancel,
        _("Cancelled: it will not be sent."),
        _("Not cancelled: %(why)s."),
    )
