"""Who a step reaches (contacts by role, with fallbacks) and who owns the work it leaves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from relance.domain.plans.model import Step
from relance.models import Alias
from relance.services.ledger import snapshots


def addresses(entries: Iterable[str], snap: snapshots.CustomerSnapshot, channel: str) -> list[str]:
    """Recipients of one step for one customer: contacts by role, the owner, the rep, addresses."""
    customer = snap.customer
    found: list[str] = []
    for entry in entries:
        if entry.startswith("role:"):
            role = entry.removeprefix("role:")
            found += [_reach(c, channel) for c in snap.contacts if role in c.roles]
        elif entry == "owner":
            found.append(customer.owner.email if customer.owner else "")
        elif entry == "sales_rep":
            found.append(customer.sales_rep.email if customer.sales_rep else "")
        else:
            found.append(entry)
    return list(dict.fromkeys(a for a in found if a))


def _reach(contact: Any, channel: str) -> str:
    if contact.bounced and channel == "email":
        return ""
    return contact.phone if channel == "sms" else contact.email


def recipients(step: Step, snap: snapshots.CustomerSnapshot) -> list[str]:
    """The step's recipients (see `reachable`)."""
    return reachable(step.recipients, snap, step.channel)


def reachable(entries: Sequence[str], snap: snapshots.CustomerSnapshot, channel: str) -> list[str]:
    """Addresses of these recipients, falling back to primary then any reachable contact when the
    roles named have nobody reachable (a bounced billing address must not silence the plan). A
    letter is addressed to these contacts at the customer's postal address."""
    found = addresses(entries, snap, channel)
    if found or not any(r.startswith("role:") for r in entries):
        return found
    for fallback in (["role:primary"], [f"role:{r}" for r in ("billing", "escalation", "legal")]):
        if found := addresses(fallback, snap, channel):
            return found
    return list(dict.fromkeys(a for c in snap.contacts if (a := _reach(c, channel))))


class OwnerLookup:
    """Resolves `owners` entries (owner, sales_rep, group:NAME, a user's or alias's address)."""

    def __init__(self) -> None:
        self.loaded = False

    def _load(self) -> None:
        """Only batches with manual work need these lookups; most reruns have none."""
        self.users = {
            email.lower(): pk
            for pk, email in get_user_model().objects.exclude(email="").values_list("pk", "email")
        }
        self.groups = dict(Group.objects.values_list("name", "pk"))
        self.aliases = {
            (c, e.lower()): pk
            for pk, c, e in Alias.objects.values_list("pk", "company_id", "email")
        }
        self.loaded = True

    def resolve(
        self, entries: Iterable[str], customer: snapshots.Debtor
    ) -> tuple[set[int], set[int], set[int]]:
        if not self.loaded:
            self._load()
        users: set[int] = set()
        groups: set[int] = set()
        aliases: set[int] = set()
        for entry in entries:
            if entry == "owner" and customer.owner_id:
                users.add(customer.owner_id)
            elif entry == "sales_rep" and customer.sales_rep_id:
                users.add(customer.sales_rep_id)
            elif entry.startswith("group:") and entry[6:] in self.groups:
                groups.add(self.groups[entry[6:]])
            elif (customer.company_id, entry.lower()) in self.aliases:
                aliases.add(self.aliases[(customer.company_id, entry.lower())])
            elif entry.lower() in self.users:
                users.add(self.users[entry.lower()])
        if not (users or groups or aliases) and customer.owner_id:
            users.add(customer.owner_id)  # work nobody owns is work nobody does
        return users, groups, aliases
