"""The outbox monitor: what is queued, sent, failing or dead, and retrying or cancelling a
message (services.dunning.outbox does it with compare-and-set, so nothing can leave twice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relance.models import OutboxMessage
from relance.services.dunning import outbox
from relance.services.organisation import access
from relance.web import pages, reach

Status = OutboxMessage.Status
TABS = {
    "problems": (gettext_lazy("Problems"), (Status.FAILED, Status.DEAD)),
    "queued": (gettext_lazy("Queued"), (Status.PLANNED, Status.CLAIMED)),
    "printing": (gettext_lazy("In print"), (Status.PRINTING,)),
    "sent": (gettext_lazy("Sent"), (Status.SENT,)),
    "cancelled": (gettext_lazy("Cancelled"), (Status.CANCELLED,)),
}
PAGE_SIZE = 50


@login_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    visible = access.messages(request.user)
    counts = dict(visible.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    tab = request.GET.get("tab", "problems")
    if tab not in TABS:
        tab = "problems"
    query = visible.filter(status__in=TABS[tab][1]).select_related("customer", "execution")
    search = request.GET.get("q", "").strip()
    if search:
        query = query.filter(
            Q(customer__name__icontains=search) | Q(customer__external_id__icontains=search)
        )
    listed = pages.paged(request, query.order_by("-created_at", "-pk"), PAGE_SIZE)
    acting = access.acting_in(request.user)
    context: dict[str, Any] = {
        "tabs": [
            (key, label, sum(counts.get(s, 0) for s in statuses))
            for key, (label, statuses) in TABS.items()
        ],
        "tab": tab,
        "search": search,
        "may_print": bool(acting),  # print runs are for those who post the letters
        **listed,
        "rows": [
            (
                m,
                m.status in outbox.RETRYABLE and m.company_id in acting,
                m.status in outbox.CANCELLABLE and m.company_id in acting,
            )
            for m in listed["page"].object_list
        ],
    }
    return render(request, "relance/outbox.html", context)


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
