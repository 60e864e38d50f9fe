"""Customers' personal portal links: signed, scoped to one customer, expiring, revocable, and
re-issued against a one-time code emailed to one of the customer's contacts.

A link carries the customer's key and the customer's `portal_version` signed with Django's
signing (salted); it works for the company's `portal_link_days`. Revoking raises the version, so
every link sent before stops at once. An expired link still proves which customer it was for (its
signature holds), which is what lets its holder ask for a code without typing who they are
(services.portal.codes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from relance.domain.errors import Forbidden
from relance.models import Customer
from relance.services.organisation import journal

SALT = "relance.portal"
PATH = "/p/{token}/"  # relance.portal.urls serves it


class PortalLinkRefused(Forbidden, ValueError):
    """The link cannot open the portal; `customer_pk` is set when a code may re-issue it."""

    def __init__(self, message: str, customer_pk: int | None = None) -> None:
        super().__init__(message)
        self.customer_pk = customer_pk


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def token(customer: Any) -> str:
    """`<customer pk>.<portal version>:<timestamp>:<signature>`: short enough for an SMS."""
    return _signer().sign(f"{customer.pk}.{customer.portal_version}")


def path(customer: Any) -> str:
    """The portal's path for this customer, for a page to make absolute with its own host."""
    return PATH.format(token=token(customer))


def link(customer: Any) -> str:
    """The full address to put in a message (settings.RELANCE_BASE_URL)."""
    return settings.RELANCE_BASE_URL.rstrip("/") + path(customer)


def read(value: str) -> Customer:
    """The customer a link opens, or PortalLinkRefused in words a person understands."""
    invalid = _("This link is not valid. Check that it was copied whole.")
    try:
        pk, _dot, version = _signer().unsign(value).partition(".")  # whatever its age
    except signing.BadSignature:
        raise PortalLinkRefused(invalid) from None
    customer = (
        Customer.objects.select_related("company").filter(pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if customer is None:
        raise PortalLinkRefused(invalid)
    if version != str(customer.portal_version):
        raise PortalLinkRefused(_("This link was withdrawn."), customer.pk)
    days = customer.company.portal_link_days
    try:
        _signer().unsign(value, max_age=timedelta(days=days))
    except signing.SignatureExpired:
        raise PortalLinkRefused(
            _("This link has expired: links work for %(days)s days.") % {"days": days},
            customer.pk,
        ) from None
    return customer


@transaction.atomic
def revoke(customer: Customer, *, actor: Any = None, source: str = "web") -> None:
    """Every link sent to this customer so far stops working."""
    Customer.objects.filter(pk=customer.pk).update(portal_version=F("portal_version") + 1)
    customer.refresh_from_db(fields=["portal_version"])
    journal.record(
        "portal.revoked",
        customer,
        actor=actor,
        source=source,
        data={"version": customer.portal_version},
    )
