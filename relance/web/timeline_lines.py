"""Timeline entries as sentences a credit controller reads: who did what, about which invoice (by
its number, linked when the reader may open it), amounts and dates in the reader's language.

Entries come from services/analytics/timeline.py as data; everything in them may come from an
import or the portal, so every value is escaped here and only our own translated sentence is
markup. The raw data stays available to company admins behind a "Details" toggle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from relance.messaging import formatting
from relance.messaging.reasons import written
from relance.models import Plan
from relance.services.organisation import access

_HIDDEN = {"date", "kind", "invoice", "who"}


class Reader:
    """What one timeline needs to write its lines: the language, the company's zone, the
    invoices the reader may open (numbers and pages, from one query) and whether to show raw
    data."""

    def __init__(
        self, user: Any, company: Any, entries: list[dict[str, Any]], language: str
    ) -> None:
        self.language = language
        self.zone = company.time_zone
        self.admin = access.roles(user).get(company.pk) == access.Role.ADMIN
        named: set[str] = set()
        for e in entries:
            named.update(_ids(e))
        rows = (
            access.invoices(user)
            .filter(company=company, external_id__in=named)
            .values_list("external_id", "pk", "number")
            if named
            else []
        )
        self.invoices = {ext: (pk, number or ext) for ext, pk, number in rows}
        codes = {str(e["plan"]) for e in entries if e.get("plan") and _names_a_plan(e)}
        self.plans = dict(
            Plan.objects.filter(company=company, code__in=codes).values_list("code", "name")
            if codes
            else []
        )

    def plan(self, code: Any) -> str:
        """A plan by the name people gave it, its code when it is gone."""
        return self.plans.get(str(code or ""), str(code or ""))

    def invoice(self, external_id: str) -> SafeString:
        found = self.invoices.get(external_id)
        if found is None:
            return conditional_escape(external_id)
        pk, number = found
        return format_html('<a href="{}">{}</a>', reverse("invoice", args=[pk]), number)

    def list_of(self, ids: Iterable[str]) -> SafeString:
        return format_html_join(", ", "{}", ((self.invoice(i),) for i in ids))

    def money(self, amount: Any, currency: str | None) -> str:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            return str(amount)
        return formatting.money(value, currency or "", self.language) if currency else str(value)

    def day(self, value: Any) -> str:
        try:
            return formatting.day(date.fromisoformat(str(value)[:10]), self.language)
        except ValueError:
            return str(value)

    def moment(self, value: Any) -> str:
        try:
            return formatting.moment(datetime.fromisoformat(str(value)), self.zone, self.language)
        except ValueError:
            return str(value)


def _ids(entry: dict[str, Any]) -> list[str]:
    named = [entry["invoice"]] if entry.get("invoice") else []
    listed = entry.get("invoices")
    if isinstance(listed, list):
        named += [str(i) for i in listed if str(i) not in named]
    return named


def _say(template: str, **values: Any) -> SafeString:
    """The translated sentence with its values escaped (what format_html does for {}-style)."""
    escaped = {k: v if isinstance(v, int) else conditional_escape(v) for k, v in values.items()}
    return mark_safe(conditional_escape(template) % escaped)  # values escaped above


def _who(entry: dict[str, Any]) -> str:
    if entry.get("who"):
        return str(entry["who"])
    if entry.get("source") == "portal":
        return _("the customer")
    return _("relance")


def _subject(entry: dict[str, Any]) -> str:
    """Who, at the start of a sentence: a person's name or address as written, else the
    capitalised fallback."""
    return str(entry["who"]) if entry.get("who") else capfirst(_who(entry))


_CHANNELS = {
    "email": lambda: _("email"),
    "sms": lambda: _("SMS"),
    "letter": lambda: _("letter"),
    "call": lambda: _("call"),
    "task": lambda: _("task"),
}

_MESSAGE_STATES = {
    "planned": lambda: _("Queued"),
    "claimed": lambda: _("Being sent"),
    "sent": lambda: _("Sent"),
    "printing": lambda: _("In the print run"),
    "failed": lambda: _("Failed"),
    "dead": lambda: _("Not sent"),
    "cancelled": lambda: _("Cancelled"),
}


def _channel(name: Any) -> str:
    label = _CHANNELS.get(str(name))
    return label() if label else str(name or "")


Line = tuple[SafeString, str]  # the sentence, a secondary line


def _document(e: dict[str, Any], r: Reader) -> Line:
    amount = r.money(e.get("amount"), e.get("currency"))
    if e["kind"] == "invoice.issued":
        return _say(
            _("Invoice %(invoice)s issued for %(amount)s"),
            invoice=r.invoice(e["invoice"] or ""),
            amount=amount,
        ), ""
    if e["kind"] == "credit_note.issued":
        return _say(
            _("Credit note %(reference)s of %(amount)s"), reference=e.get("id", ""), amount=amount
        ), ""
    if e.get("id"):
        return _say(
            _("Payment %(reference)s of %(amount)s received"), reference=e["id"], amount=amount
        ), ""
    return _say(
        _("%(who)s paid %(amount)s online for %(invoices)s"),
        who=_subject(e),
        amount=amount,
        invoices=r.list_of(_ids(e)),
    ), ""


def _step(e: dict[str, Any], r: Reader) -> Line:
    values = {
        "step": e.get("step", ""),
        "channel": _channel(e.get("channel")),
        "plan": r.plan(e.get("plan")),
    }
    if e["kind"] == "step.sent_now":
        return _say(_("%(who)s sent %(step)s now (plan %(plan)s)"), who=_subject(e), **values), ""
    if e["kind"] == "step.skipped":
        sentence = _say(_("%(step)s skipped (plan %(plan)s)"), **values)
    elif e.get("channel") in ("call", "task"):
        sentence = _say(_("%(step)s: a %(channel)s to do (plan %(plan)s)"), **values)
    else:
        sentence = _say(_("%(step)s sent by %(channel)s (plan %(plan)s)"), **values)
    reason = written(e.get("reason"), r.language, e.get("reason_data"))
    if e.get("variant"):
        reason = _("A/B test: variant %(side)s") % {"side": e["variant"]} + (
            f" · {reason}" if reason else ""
        )
    return sentence, reason


def _message(e: dict[str, Any], r: Reader) -> Line:
    state = e["kind"].split(".", 1)[1]
    if "to" not in e:  # an event: someone cancelled or queued a message again
        template = {
            "cancelled": _("%(who)s cancelled the %(channel)s message"),
            "retried": _("%(who)s queued the %(channel)s message again"),
        }.get(state, _("%(who)s changed the %(channel)s message"))
        return _say(template, who=_subject(e), channel=_channel(e.get("channel"))), ""
    label = _MESSAGE_STATES.get(state)
    sentence = _say(
        _("%(state)s by %(channel)s to %(to)s: %(subject)s"),
        state=label() if label else state,
        channel=_channel(e.get("channel")),
        to=", ".join(str(t) for t in e.get("to") or []),
        subject=e.get("subject", ""),
    )
    return sentence, str(e.get("error") or "")


def _dispute(e: dict[str, Any], r: Reader) -> Line:
    who, invoices = _subject(e), r.list_of(_ids(e))
    what = e["kind"].split(".", 1)[1]
    if what == "opened":
        deadlines = ""
        if e.get("acknowledge_by"):
            deadlines = _("To acknowledge by %(ack)s, to resolve by %(resolve)s") % {
                "ack": r.moment(e["acknowledge_by"]),
                "resolve": r.moment(e.get("resolve_by", "")),
            }
        sentence = _say(
            _("%(who)s opened a dispute on %(invoices)s: %(reason)s"),
            who=who,
            invoices=invoices,
            reason=e.get("reason") or "",
        )
        return sentence, deadlines
    if what == "acknowledged":
        return _say(
            _("%(who)s acknowledged the dispute on %(invoices)s"), who=who, invoices=invoices
        ), ""
    if what == "replied":
        return _say(
            _("%(who)s replied to the dispute on %(invoices)s: %(text)s"),
            who=who,
            invoices=invoices,
            text=e.get("text", ""),
        ), ""
    if what == "resolved":
        return _say(
            _("%(who)s resolved the dispute on %(invoices)s: %(resolution)s"),
            who=who,
            invoices=invoices,
            resolution=e.get("resolution") or "",
        ), ""
    if what == "escalated":
        to = e.get("to")
        to = ", ".join(str(t) for t in to) if isinstance(to, list) else str(to or "")
        return _say(
            _("The dispute on %(invoices)s was escalated to %(to)s"), invoices=invoices, to=to
        ), ""
    return _generic(e, r)


def _promise(e: dict[str, Any], r: Reader) -> Line:
    invoices = r.list_of(_ids(e))
    if e["kind"] == "promise.created":
        return _say(
            _("%(who)s recorded a promise to pay %(invoices)s by %(pay_by)s"),
            who=_subject(e),
            invoices=invoices,
            pay_by=r.day(e.get("pay_by", "")),
        ), ""
    if e["kind"] == "promise.kept":
        return _say(_("The promise to pay %(invoices)s was kept"), invoices=invoices), ""
    if e["kind"] == "promise.broken":
        return _say(_("The promise to pay %(invoices)s was broken"), invoices=invoices), ""
    return _generic(e, r)


def _hold(e: dict[str, Any], r: Reader) -> Line:
    if not e.get("until"):
        return _say(_("%(who)s lifted the hold"), who=_subject(e)), ""
    return _say(
        _("%(who)s put the customer on hold until %(until)s"),
        who=_subject(e),
        until=r.day(e["until"]),
    ), ""


def _action(e: dict[str, Any], r: Reader) -> Line:
    who, title = _subject(e), e.get("title", "")
    note = str(e.get("note") or "")
    if e["kind"] == "action.done":
        return _say(
            _("%(who)s completed “%(title)s” (%(outcome)s)"),
            who=who,
            title=title,
            outcome=e.get("outcome") or "-",
        ), note
    if e["kind"] == "action.skipped":
        return _say(_("%(who)s skipped “%(title)s”"), who=who, title=title), note
    return _say(_("Action to do: “%(title)s”"), title=title), note


def _payment_plan(e: dict[str, Any], r: Reader) -> Line:
    who, amount = _subject(e), r.money(e.get("total"), e.get("currency"))
    what = e["kind"].split(".", 1)[1]
    note = str(e.get("note") or "")
    if what == "requested":
        count = int(e.get("count") or 0)
        return _say(
            ngettext(
                "%(who)s asked for a payment plan of %(amount)s in %(count)d instalment",
                "%(who)s asked for a payment plan of %(amount)s in %(count)d instalments",
                count,
            ),
            who=who,
            amount=amount,
            count=count,
        ), note
    templates = {
        "accepted": _("%(who)s accepted the payment plan of %(amount)s"),
        "declined": _("%(who)s declined the payment plan of %(amount)s"),
        "completed": _("The payment plan of %(amount)s was paid in full"),
    }
    if what == "broken":
        return _say(
            _("The payment plan of %(amount)s was broken (instalment %(number)s missed)"),
            amount=amount,
            number=str(e.get("instalment", "")),
        ), note
    if what in templates:
        return _say(templates[what], who=who, amount=amount), note
    return _generic(e, r)


def _discount(e: dict[str, Any], r: Reader) -> Line:
    template = (
        _("%(who)s confirmed the early-payment discount of %(amount)s on %(invoices)s")
        if e["kind"] == "discount.confirmed"
        else _("%(who)s declined the early-payment discount of %(amount)s on %(invoices)s")
    )
    return _say(
        template,
        who=_subject(e),
        amount=r.money(e.get("amount"), e.get("currency")),
        invoices=r.list_of(_ids(e)),
    ), ""


def _simple(template: Callable[[], str]) -> Callable[[dict[str, Any], Reader], Line]:
    def say(e: dict[str, Any], r: Reader) -> Line:
        values = {k: v for k, v in e.items() if isinstance(v, str | int) and k != "who"}
        values["who"] = _subject(e)
        return _say(template(), **values), ""

    return say


def _note(e: dict[str, Any], r: Reader) -> Line:
    return _say(_("%(who)s added a note: %(text)s"), who=_subject(e), text=e.get("text", "")), ""


def _bounced(e: dict[str, Any], r: Reader) -> Line:
    addresses = ", ".join(str(a) for a in e.get("addresses") or [])
    return _say(_("Messages to %(addresses)s bounced"), addresses=addresses), str(
        e.get("detail") or ""
    )


def _plan(e: dict[str, Any], r: Reader) -> Line:
    if not e.get("plan"):
        return _say(_("%(who)s took the customer off their plan"), who=_subject(e)), ""
    return _say(
        _("%(who)s assigned the plan %(plan)s"), who=_subject(e), plan=r.plan(e["plan"])
    ), ""


def _import(e: dict[str, Any], r: Reader) -> Line:
    if e["kind"] == "import.undone":
        return _say(
            _("%(who)s undid the import of %(file)s"), who=_subject(e), file=e.get("file", "")
        ), ""
    created, updated = int(e.get("created") or 0), int(e.get("updated") or 0)
    return _say(
        _("%(who)s imported %(file)s (%(created)s created, %(updated)s updated)"),
        who=_subject(e),
        file=e.get("file", ""),
        created=str(created),
        updated=str(updated),
    ), ""


def _generic(e: dict[str, Any], r: Reader) -> Line:
    """A kind without its own sentence: its name in words, and who."""
    words = e["kind"].replace(".", " ").replace("_", " ")
    return _say(_("%(what)s (by %(who)s)"), what=capfirst(words), who=_who(e)), ""


_SENTENCES: dict[str, Callable[[dict[str, Any], Reader], Line]] = {
    "invoice.issued": _document,
    "credit_note.issued": _document,
    "payment.received": _document,
    "customer.held": _hold,
    "customer.released": lambda e, r: (
        _say(_("%(who)s lifted the hold"), who=_subject(e)),
        "",
    ),
    "note.added": _note,
    "contact.bounced": _bounced,
    "plan.assigned": _plan,
    "portal.visited": _simple(lambda: _("The customer looked at their portal")),
    "portal.revoked": _simple(lambda: _("%(who)s revoked the customer's portal link")),
    "portal.link_reissued": _simple(lambda: _("%(who)s sent the customer a new portal link")),
    "campaign.sent": _simple(lambda: _("%(who)s sent wave %(wave)s of the campaign %(name)s")),
    "campaign.cancelled": _simple(
        lambda: _("%(who)s cancelled wave %(wave)s of the campaign %(name)s")
    ),
    "sales_rep.notified": _simple(lambda: _("The sales rep %(rep)s was told about %(step)s")),
}
_FAMILIES: dict[str, Callable[[dict[str, Any], Reader], Line]] = {
    "step": _step,
    "message": _message,
    "dispute": _dispute,
    "promise": _promise,
    "action": _action,
    "payment_plan": _payment_plan,
    "discount": _discount,
    "import": _import,
}


def line(entry: dict[str, Any], reader: Reader) -> dict[str, Any]:
    """One entry as the template shows it."""
    kind = entry["kind"]
    write = _SENTENCES.get(kind) or _FAMILIES.get(kind.split(".", 1)[0], _generic)
    try:
        sentence, secondary = write(entry, reader)
    except (KeyError, TypeError, ValueError):  # a malformed old event: still readable
        sentence, secondary = _generic(entry, reader)
    raw = {k: v for k, v in entry.items() if k not in _HIDDEN} if reader.admin else None
    return {
        "date": reader.day(entry["date"]),
        "kind": kind,
        "css": kind.replace(".", "-").replace("_", "-"),  # the stylesheet's li.note-added…
        "sentence": sentence,
        "secondary": secondary,
        "raw": raw,
    }


def lines(
    entries: list[dict[str, Any]], user: Any, company: Any, language: str
) -> list[dict[str, Any]]:
    """The entries (newest first, as given) as lines, resolving invoices once for all."""
    reader = Reader(user, company, entries, language)
    return [line(e, reader) for e in entries]


def _names_a_plan(entry: dict[str, Any]) -> bool:
    """Steps and plan changes name a dunning plan by code (a payment plan's events by pk)."""
    return entry["kind"].startswith(("step.", "plan."))
