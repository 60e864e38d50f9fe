"""Deterministic, streaming generator of realistic receivables ledgers.

Over 500 lines on purpose: the profile, contact and ledger simulations share the per-customer seeded
streams and the pass context, and cut apart they would hide the draw order the files depend on.
(The word lists are demo/words, the company names demo/names.)

Two users drive this module: `relance demo`, which wants a believable ledger of a few hundred
customers per company, and the benchmarks, which want 100,000 customers and a million invoices
written to CSV in seconds with flat memory. Both get the same code path, so the demo data is also
the benchmark data, only smaller.

Design choices, and why:

* Everything is a generator over customers. One customer's rows (a handful of invoices, payments and
  credit notes) are built together and then forgotten, so memory does not grow with the ledger.
* Every customer draws from its own `random.Random`, seeded from (seed, company, customer index,
  stream). Each public generator can therefore run on its own in a separate pass and agree with the
  others, and the same spec always yields byte-identical files. The profile, contacts and ledger use
  separate streams so `customers()` never has to simulate payments. Only running numbers (invoice,
  payment and credit-note ids, invoice numbers) depend on the customers before, as they would in a
  real ledger; every pass starts from customer 0, so they agree too.
* Amounts are integer cents and dates are ordinals until they are formatted: exact, and fast.
* Payments are simulated from a behaviour profile tied to the customer's risk, then cut at `today`:
  whatever would be paid after `today` is simply still open, which is what fills the aging buckets.
* Phone numbers come from the ranges regulators reserve for fiction (ARCEP, Ofcom, NANP 555-01xx):
  they pass `phonenumbers.is_valid_number` yet ring nobody.
* No Django import: this writes the CSV contract of DESIGN §4 and the importer does the rest.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from bisect import bisect
from calendar import monthrange
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from pathlib import Path
from statistics import NormalDist

from relance.demo.names import NAMES, email_parts
from relance.demo.words import (
    EN_FIRST_NAMES,
    EN_SURNAMES,
    FR_FIRST_NAMES,
    FR_PHONE_PREFIXES,
    FR_SURNAMES,
    GB_PHONE_PREFIXES,
    STAFF,
    US_PHONE_PREFIXES,
)
from relance.domain.ledger_files import COLUMNS, KINDS

__all__ = [
    "COLUMNS",
    "KINDS",
    "LedgerSpec",
    "contacts",
    "credit_notes",
    "customers",
    "demo_specs",
    "invoices",
    "payments",
    "write_csvs",
    "write_csvs_counted",
]

Row = tuple[str, ...]


# --------------------------------------------------------------------------------------------------
# Spec
# --------------------------------------------------------------------------------------------------

_SUPPORTED_COUNTRIES = ("FR", "GB", "US")


@dataclass(frozen=True)
class LedgerSpec:
    """What to generate. Frozen so one spec can be handed to several independent passes."""

    company: str = "default"  # company code; "default" = FR/EUR, "uk" = GB/GBP
    country: str = "FR"
    currency: str = "EUR"  # main currency; ~10% of customers use USD, a few the other of EUR/GBP
    customers: int = 300
    invoices_per_customer: float = 10.0  # average; each customer gets at least one
    months: int = 18  # invoices are issued over the last `months` months before `today`
    today: date = date(2026, 11, 23)
    seed: int = 42
    id_prefix: str = ""  # keeps two companies' external ids apart, e.g. "FR-"
    staff_domain: str = "demo.relance.test"

    def __post_init__(self) -> None:
        # Fail here, with the field's name, rather than deep inside a half-written file.
        if self.country not in _SUPPORTED_COUNTRIES:
            raise ValueError(f"country must be one of {_SUPPORTED_COUNTRIES}, not {self.country!r}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be an upper-case ISO 4217 code, not {self.currency!r}")
        if self.customers < 0:
            raise ValueError("customers must be >= 0")
        if not self.invoices_per_customer > 0:
            raise ValueError("invoices_per_customer must be > 0")
        if self.months < 1:
            raise ValueError("months must be >= 1")


def demo_specs(today: date, seed: int = 42) -> list[LedgerSpec]:
    """The two demo companies: a French one in EUR and a British one in GBP, a few hundred each."""
    return [
        LedgerSpec(
            company="default",
            country="FR",
            currency="EUR",
            customers=300,
            invoices_per_customer=10.0,
            today=today,
            seed=seed,
            id_prefix="FR-",
        ),
        LedgerSpec(
            company="uk",
            country="GB",
            currency="GBP",
            customers=200,
            invoices_per_customer=8.0,
            today=today,
            seed=seed,
            id_prefix="UK-",
        ),
    ]


_TIME_ZONES = {"FR": "Europe/Paris", "GB": "Europe/London", "US": "America/New_York"}
_CURRENCY_COUNTRY = {"EUR": "FR", "GBP": "GB", "USD": "US"}


# --------------------------------------------------------------------------------------------------
# Customer profile: what the CSV shows plus the hidden traits that drive the ledger
# --------------------------------------------------------------------------------------------------


# Quantiles of exp(N(0, 0.7)): the spread of one customer's invoice totals around its median.
_TABLE_SIZE = 4096
_SPREAD = tuple(
    math.exp(0.7 * NormalDist().inv_cdf((k + 0.5) / _TABLE_SIZE)) for k in range(_TABLE_SIZE)
)


@dataclass(frozen=True)
class _Behaviour:
    """How a kind of payer settles an invoice, in days relative to its due date."""

    earliest: int
    usual: int
    latest: int
    never: float  # share of invoices never paid
    partial: float  # share paid in two goes
    abandon: float  # share of partial payers who never pay the rest
    delays: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The triangular distribution's quantiles, tabulated: indexing a table with one uniform
        # draw is several times cheaper than `Random.triangular` on a million invoices.
        low, mode, high = self.earliest, self.usual, self.latest
        width, split = high - low, (mode - low) / (high - low)
        quantiles = []
        for k in range(_TABLE_SIZE):
            u = (k + 0.5) / _TABLE_SIZE
            if u < split:
                quantiles.append(low + math.sqrt(u * width * (mode - low)))
            else:
                quantiles.append(high - math.sqrt((1 - u) * width * (high - mode)))
        object.__setattr__(self, "delays", tuple(math.floor(q) for q in quantiles))


class _Weighted:
    """A weighted choice with its cumulative weights computed once.

    `random.choices` rebuilds them on every call, which at 100,000 customers was the single largest
    cost of a customer profile.
    """

    def __init__(self, items: Sequence[str], weights: Sequence[int]) -> None:
        self.items = tuple(items)
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> str:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


_BEHAVIOURS = {
    "prompt": _Behaviour(-8, 0, 6, never=0.004, partial=0.02, abandon=0.0),
    "slow": _Behaviour(0, 12, 40, never=0.015, partial=0.05, abandon=0.1),
    "late": _Behaviour(20, 40, 90, never=0.05, partial=0.15, abandon=0.3),
    "bad": _Behaviour(30, 75, 160, never=0.3, partial=0.25, abandon=0.6),
}
# Risk is what the finance team wrote down; behaviour is what the customer actually does.
# Correlated, not identical: some "low risk" customers pay late, which the analytics should show.
_BEHAVIOUR_BY_RISK = {
    "low": _Weighted(("prompt", "slow", "late"), (75, 22, 3)),
    "medium": _Weighted(("prompt", "slow", "late", "bad"), (30, 45, 20, 5)),
    "high": _Weighted(("slow", "late", "bad"), (15, 45, 40)),
}
_SEGMENT = _Weighted(("smb", "mid-market", "enterprise", "public"), (55, 25, 10, 10))
_RISKS = ("low", "medium", "high")
_RISK_BY_SEGMENT = {
    "smb": _Weighted(_RISKS, (40, 38, 22)),
    "mid-market": _Weighted(_RISKS, (45, 40, 15)),
    "enterprise": _Weighted(_RISKS, (55, 40, 5)),
    "public": _Weighted(_RISKS, (70, 28, 2)),
}
# Mean invoice count multiplier per segment; weighted by the segment mix it averages to 1.0.
_VOLUME = {"smb": 0.75, "mid-market": 1.15, "enterprise": 2.0, "public": 1.0}
# Median invoice total per segment, in currency units.
_TICKET = {"smb": 450.0, "mid-market": 2_500.0, "enterprise": 9_000.0, "public": 3_000.0}
# Payment terms in days (French law caps B2B terms at 60 days; public buyers pay at 30).
_TERMS = {
    "smb": _Weighted(("30", "45", "60"), (60, 25, 15)),
    "mid-market": _Weighted(("30", "45", "60"), (35, 35, 30)),
    "enterprise": _Weighted(("30", "45", "60"), (20, 30, 50)),
    "public": _Weighted(("30",), (1,)),
}
_BANK_TRANSFER_SHARE = {"smb": 0.6, "mid-market": 0.85, "enterprise": 1.0, "public": 1.0}
_CREDIT_LIMITS = {
    "smb": ("2000.00", "5000.00", "10000.00", "15000.00"),
    "mid-market": ("25000.00", "50000.00", "75000.00"),
    "enterprise": ("100000.00", "250000.00", "500000.00"),
    "public": ("",),
}
_CONTACT_COUNT = {
    "smb": _Weighted(("1", "2", "3"), (50, 35, 15)),
    "other": _Weighted(("1", "2", "3"), (20, 45, 35)),
}
_MIN_TOTAL = 50_00  # cents
_MAX_TOTAL = 50_000_00
_EMAIL_PARTS = email_parts(FR_FIRST_NAMES, FR_SURNAMES, EN_FIRST_NAMES, EN_SURNAMES)


@dataclass(frozen=True, slots=True)
class _Profile:
    index: int
    external_id: str
    domain: str
    country: str
    currency: str
    language: str
    segment: str
    behaviour: _Behaviour
    terms: int
    ticket: float  # this customer's median invoice total, in currency units
    sales_rep: str
    unallocated: float  # share of this customer's payments sent without an invoice reference
    row: Row


# --------------------------------------------------------------------------------------------------
# Per-pass context: seeds, calendar, counters
# --------------------------------------------------------------------------------------------------

_PROFILE, _CONTACTS, _LEDGER = 0, 1, 2


class _IsoDates(dict[int, str]):
    """Day ordinal -> ISO text, filled on first use.

    A ledger uses a few hundred distinct days a million times; a dict lookup is much cheaper than
    `date.fromordinal(...).isoformat()`, and `__missing__` keeps the hot loop free of checks.
    """

    def __missing__(self, ordinal: int) -> str:
        text = self[ordinal] = date.fromordinal(ordinal).isoformat()
        return text


class _Pass:
    """State of one sequential pass over the customers; each public generator makes its own."""

    def __init__(self, spec: LedgerSpec) -> None:
        self.spec = spec
        digest = hashlib.blake2b(f"{spec.seed}|{spec.company}".encode(), digest_size=8).digest()
        self.base = int.from_bytes(digest, "big")
        self.rng = random.Random()
        self.today = spec.today.toordinal()
        self.start = _months_before(spec.today, spec.months).toordinal()
        self.iso = _IsoDates()
        self.invoice_seq = 0
        self.payment_seq = 0
        self.credit_note_seq = 0
        self.numbers_by_year: dict[str, int] = {}
        self.number_prefix = "F" if spec.country == "FR" else "INV-"
        owners, reps = STAFF["FR" if spec.country == "FR" else "EN"]
        self.owners = tuple(f"{o}@{spec.staff_domain}" for o in owners)
        self.reps = tuple(f"{r}@{spec.staff_domain}" for r in reps)
        self.usd = "USD" if spec.currency != "USD" else "EUR"
        self.other = "GBP" if spec.currency == "EUR" else "EUR"
        # Card expiry months from this month to four years ahead, as YYYY-MM.
        month = spec.today.year * 12 + spec.today.month - 1
        self.card_months = tuple(
            f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(month, month + 49)
        )

    def seed(self, index: int, stream: int) -> random.Random:
        """Reseed the pass's generator for one customer's stream and return it.

        Reseeding one instance is cheaper than building a `Random` per customer, and the result is
        identical: the stream depends only on (seed, company, index, stream).
        """
        self.rng.seed((self.base << 40) | (index << 2) | stream)
        return self.rng


def _months_before(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def _profile(ctx: _Pass, index: int) -> _Profile:
    spec = ctx.spec
    rng = ctx.seed(index, _PROFILE)
    random_ = rng.random
    r = random_()
    if r < 0.10:
        currency = ctx.usd
        # Most USD customers are American; some domestic exporters are simply invoiced in dollars.
        country = _CURRENCY_COUNTRY[currency] if random_() < 0.7 else spec.country
    elif r < 0.13:
        currency = ctx.other
        country = _CURRENCY_COUNTRY[currency]
    else:
        currency, country = spec.currency, spec.country
    segment = _SEGMENT.pick(rng)
    risk = _RISK_BY_SEGMENT[segment].pick(rng)
    behaviour = _BEHAVIOURS[_BEHAVIOUR_BY_RISK[risk].pick(rng)]
    terms = int(_TERMS[segment].pick(rng))
    ticket = _TICKET[segment] * math.exp(rng.gauss(0.0, 0.5))
    names = NAMES[country, segment == "public"]
    name, domain = names.name(index, ctx.base % names.size)
    external_id = f"{spec.id_prefix}C{index + 1:06d}"

    limits = _CREDIT_LIMITS[segment]
    credit_limit = "" if random_() < 0.3 else limits[int(random_() * len(limits))]
    bank_transfer = random_() < _BANK_TRANSFER_SHARE[segment]
    card_expiry = ""
    if not bank_transfer:
        # A fifth of the cards on file expire within three months: the "update your card" case.
        ahead = int(random_() * 4) if random_() < 0.2 else 4 + int(random_() * 45)
        card_expiry = ctx.card_months[ahead]
    owner = ctx.owners[int(random_() * len(ctx.owners))]
    sales_rep = "" if random_() < 0.05 else ctx.reps[int(random_() * len(ctx.reps))]
    # Most customers quote the invoice on their transfer; a few habitually do not.
    unallocated = 0.8 if random_() < 0.05 else 0.06
    row = (
        external_id,
        name,
        currency,
        "fr" if country == "FR" else "en",
        _TIME_ZONES[country],
        country,
        segment,
        risk,
        credit_limit,
        "true" if bank_transfer else "false",
        card_expiry,
        owner,
        sales_rep,
        "",  # plan: assigned later, by hand or by rules
    )
    return _Profile(
        index=index,
        external_id=external_id,
        domain=domain,
        country=country,
        currency=currency,
        language=row[3],
        segment=segment,
        behaviour=behaviour,
        terms=terms,
        ticket=ticket,
        sales_rep=sales_rep,
        unallocated=unallocated,
        row=row,
    )


# --------------------------------------------------------------------------------------------------
# Contacts
# --------------------------------------------------------------------------------------------------

_PHONES = {
    # (prefixes inside a range reserved for fiction, number of free trailing digits)
    "FR": (FR_PHONE_PREFIXES, 4),
    "GB": (GB_PHONE_PREFIXES, 3),
    "US": (US_PHONE_PREFIXES, 2),
}


def _phone(rng: random.Random, country: str) -> str:
    prefixes, digits = _PHONES[country]
    prefix = prefixes[int(rng.random() * len(prefixes))]
    return f"{prefix}{int(rng.random() * 10**digits):0{digits}d}"


def _contact_rows(ctx: _Pass, p: _Profile) -> list[Row]:
    rng = ctx.seed(p.index, _CONTACTS)
    random_ = rng.random
    count = int(_CONTACT_COUNT["smb" if p.segment == "smb" else "other"].pick(rng))
    if count == 1:
        roles = ["billing|primary" if random_() < 0.7 else "billing"]
    else:
        first = "billing|primary" if random_() < 0.3 else "billing"
        if first == "billing":
            second = "primary" if random_() < 0.6 else "primary|escalation"
        else:
            second = "escalation"
        roles = [first, second, "legal" if random_() < 0.5 else "escalation"][:count]
    first_names: Sequence[str]
    surnames: Sequence[str]
    if p.language == "fr":
        first_names, surnames = FR_FIRST_NAMES, FR_SURNAMES
        mailbox = ("Service comptabilité", "comptabilite")
    else:
        first_names, surnames = EN_FIRST_NAMES, EN_SURNAMES
        mailbox = ("Accounts Payable", "accounts")
    rows: list[Row] = []
    for k, role in enumerate(roles, start=1):
        if k == 1 and random_() < 0.3:
            # Accounts-payable mailboxes are the usual billing address of larger customers.
            name, local = mailbox
            phone = _phone(rng, p.country) if random_() < 0.5 else ""
        else:
            given = first_names[int(random_() * len(first_names))]
            family = surnames[int(random_() * len(surnames))]
            name = f"{given} {family}"
            local = f"{_EMAIL_PARTS[given]}.{_EMAIL_PARTS[family]}"
            phone = _phone(rng, p.country) if random_() < 0.85 else ""
        contact_id = f"{ctx.spec.id_prefix}CT{p.index + 1:06d}-{k}"
        rows.append((contact_id, p.external_id, name, f"{local}@{p.domain}", phone, role))
    return rows


# --------------------------------------------------------------------------------------------------
# Ledger: invoices, credit notes and payments of one customer, simulated together
# --------------------------------------------------------------------------------------------------


def _day(item: tuple[int, str, int]) -> int:
    return item[0]


def _ledger_rows(ctx: _Pass, p: _Profile) -> tuple[list[Row], list[Row], list[Row]]:
    """Simulate one customer's invoices and what happened to them up to `today`.

    Built together because payments and credit notes depend on each invoice's total and due date,
    and cheap enough (one customer at a time) to redo in every pass that needs any of the three.
    """
    spec = ctx.spec
    rng = ctx.seed(p.index, _LEDGER)
    random_ = rng.random
    iso = ctx.iso
    today = ctx.today
    start = ctx.start
    span = today - start + 1
    mean = spec.invoices_per_customer * _VOLUME[p.segment]
    count = max(1, round(rng.gammavariate(2.0, mean / 2.0)))
    issues = sorted(start + int(random_() * span) for _ in range(count))

    prefix = spec.id_prefix
    customer_id = p.external_id
    currency = p.currency
    terms = p.terms
    rep = p.sales_rep
    behaviour = p.behaviour
    ticket_cents = p.ticket * 100
    spread = _SPREAD
    wired = currency != spec.currency
    numbers = ctx.numbers_by_year
    number_prefix = ctx.number_prefix

    invoice_rows: list[Row] = []
    settlements = _Settlements(random_, today, behaviour, wired)
    settle = settlements.settle
    for issue in issues:
        ctx.invoice_seq += 1
        invoice_id = f"{prefix}I{ctx.invoice_seq:07d}"
        issue_text = iso[issue]
        year = issue_text[:4]
        seq = numbers[year] = numbers.get(year, 0) + 1
        due = issue + terms
        total = int(ticket_cents * spread[int(random_() * _TABLE_SIZE)])
        total = _MIN_TOTAL if total < _MIN_TOTAL else _MAX_TOTAL if total > _MAX_TOTAL else total
        r = random_()
        status = "void" if r < 0.01 else ("" if r < 0.2 else "open")
        invoice_rows.append(
            (
                invoice_id,
                customer_id,
                f"{number_prefix}{year}-{seq:06d}",
                issue_text,
                iso[due],
                currency,
                # Exact below 2**53 cents: the double nearest n/100 formats back to n/100.
                f"{total / 100:.2f}",
                rep if random_() < 0.15 else "",
                status,
            )
        )
        if status == "void":
            continue

        settle(invoice_id, issue, due, total)

    credit_rows = _credit_note_rows(ctx, p, settlements.credits)
    payment_rows = _payment_rows(ctx, p, settlements.paid, random_)
    return invoice_rows, credit_rows, payment_rows


class _Settlements:
    """What became of one customer's invoices after they were issued: credit notes, payments in
    full, late, partial or abandoned, bank charges deducted. The random draws are made in the
    order the ledger's determinism depends on."""

    __slots__ = ("behaviour", "credits", "delays", "paid", "random", "today", "wired")

    def __init__(
        self, random_: Callable[[], float], today: int, behaviour: _Behaviour, wired: bool
    ) -> None:
        self.random = random_
        self.today = today
        self.behaviour = behaviour
        self.delays = behaviour.delays
        # Customers paying in a currency from abroad often have the bank charges deducted.
        self.wired = wired
        self.credits: list[tuple[int, str, int]] = []  # (day, invoice id or "", cents)
        self.paid: list[tuple[int, str, int]] = []

    def settle(self, invoice_id: str, issue: int, due: int, total: int) -> None:
        random_, today, behaviour = self.random, self.today, self.behaviour
        credits, paid = self.credits, self.paid
        remaining = total
        if random_() < 0.03 and issue < today:
            # A return, a pricing error or a goodwill gesture; a third are full cancellations.
            credit_day = min(issue + 2 + int(random_() * 40), today)
            credit = total if random_() < 0.35 else int(total * (0.05 + 0.45 * random_()))
            credits.append((credit_day, invoice_id if random_() >= 0.1 else "", credit))
            remaining -= credit
            if remaining <= 0:
                return

        if random_() < behaviour.never:
            return
        delay = self.delays[int(random_() * _TABLE_SIZE)]
        pay_day = max(due + delay, issue + 1)
        if pay_day > today:
            return  # will be paid, but not yet: it is open as of today
        if random_() < behaviour.partial:
            first = int(remaining * (0.25 + 0.5 * random_()))
            paid.append((pay_day, invoice_id, first))
            rest_day = pay_day + 14 + int(random_() * 60)
            if rest_day <= today and random_() >= behaviour.abandon:
                paid.append((rest_day, invoice_id, remaining - first))
            return
        amount = remaining
        r = random_()
        if r < 0.005:
            amount += 1 + int(random_() * 20_00)  # paid a little too much
        elif self.wired and r < 0.1:
            fee = 10_00 + int(random_() * 20_00)
            if fee < amount:
                amount -= fee
        paid.append((pay_day, invoice_id, amount))


def _credit_note_rows(ctx: _Pass, p: _Profile, credits: list[tuple[int, str, int]]) -> list[Row]:
    credit_rows: list[Row] = []
    prefix, customer_id, currency, iso = ctx.spec.id_prefix, p.external_id, p.currency, ctx.iso
    for day, invoice_id, cents in sorted(credits, key=_day):
        ctx.credit_note_seq += 1
        credit_rows.append(
            (
                f"{prefix}CN{ctx.credit_note_seq:07d}",
                customer_id,
                invoice_id,
                iso[day],
                currency,
                f"{cents / 100:.2f}",
            )
        )
    return credit_rows


def _payment_rows(
    ctx: _Pass, p: _Profile, paid: list[tuple[int, str, int]], random_: Callable[[], float]
) -> list[Row]:
    payment_rows: list[Row] = []
    prefix, customer_id, currency, iso = ctx.spec.id_prefix, p.external_id, p.currency, ctx.iso
    unallocated = p.unallocated
    for day, invoice_id, cents in sorted(paid, key=_day):
        ctx.payment_seq += 1
        payment_rows.append(
            (
                f"{prefix}P{ctx.payment_seq:07d}",
                customer_id,
                invoice_id if random_() >= unallocated else "",
                iso[day],
                currency,
                f"{cents / 100:.2f}",
            )
        )
    return payment_rows


# --------------------------------------------------------------------------------------------------
# Public generators
# --------------------------------------------------------------------------------------------------


def customers(spec: LedgerSpec) -> Iterator[dict[str, str]]:
    """Customer rows, one per index; the `plan` column is left empty for rules to fill."""
    columns = COLUMNS["customers"]
    ctx = _Pass(spec)
    for index in range(spec.customers):
        yield dict(zip(columns, _profile(ctx, index).row, strict=True))


def contacts(spec: LedgerSpec) -> Iterator[dict[str, str]]:
    """One to three contacts per customer; the first always has the `billing` role."""
    columns = COLUMNS["contacts"]
    ctx = _Pass(spec)
    for index in range(spec.customers):
        for row in _contact_rows(ctx, _profile(ctx, index)):
            yield dict(zip(columns, row, strict=True))


def _ledger_kind(spec: LedgerSpec, kind: int) -> Iterator[Row]:
    ctx = _Pass(spec)
    for index in range(spec.customers):
        yield from _ledger_rows(ctx, _profile(ctx, index))[kind]


def invoices(spec: LedgerSpec) -> Iterator[dict[str, str]]:
    """Invoices, customer by customer, in issue-date order within each customer."""
    columns = COLUMNS["invoices"]
    for row in _ledger_kind(spec, 0):
        yield dict(zip(columns, row, strict=True))


def credit_notes(spec: LedgerSpec) -> Iterator[dict[str, str]]:
    """Credit notes for about 3% of invoices; a tenth are on account (no invoice_id)."""
    columns = COLUMNS["credit-notes"]
    for row in _ledger_kind(spec, 1):
        yield dict(zip(columns, row, strict=True))


def payments(spec: LedgerSpec) -> Iterator[dict[str, str]]:
    """Payments up to `today`; about a tenth carry no invoice_id and are allocated by the app."""
    columns = COLUMNS["payments"]
    for row in _ledger_kind(spec, 2):
        yield dict(zip(columns, row, strict=True))


def write_csvs_counted(spec: LedgerSpec, directory: Path) -> dict[str, tuple[Path, int]]:
    """Write the five CSV files in one pass and return, per kind, the path and the row count.

    One pass instead of five: the ledger is simulated once per customer and its rows go straight
    to their files, which is what makes a million invoices affordable.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / f"{kind}.csv" for kind in KINDS}
    counts = dict.fromkeys(KINDS, 0)
    handles = [
        paths[kind].open("w", encoding="utf-8", newline="", buffering=1 << 20) for kind in KINDS
    ]
    try:
        customer_w, contact_w, invoice_w, credit_w, payment_w = (
            csv.writer(handle, lineterminator="\n") for handle in handles
        )
        for kind, handle in zip(KINDS, handles, strict=True):
            csv.writer(handle, lineterminator="\n").writerow(COLUMNS[kind])
        ctx = _Pass(spec)
        n_contacts = n_invoices = n_credits = n_payments = 0
        for index in range(spec.customers):
            profile = _profile(ctx, index)
            customer_w.writerow(profile.row)
            rows = _contact_rows(ctx, profile)
            contact_w.writerows(rows)
            n_contacts += len(rows)
            invoice_rows, credit_rows, payment_rows = _ledger_rows(ctx, profile)
            invoice_w.writerows(invoice_rows)
            n_invoices += len(invoice_rows)
            if credit_rows:
                credit_w.writerows(credit_rows)
                n_credits += len(credit_rows)
            payment_w.writerows(payment_rows)
            n_payments += len(payment_rows)
        counts.update(
            {
                "customers": spec.customers,
                "contacts": n_contacts,
                "invoices": n_invoices,
                "credit-notes": n_credits,
                "payments": n_payments,
            }
        )
    finally:
        for handle in handles:
            handle.close()
    return {kind: (paths[kind], counts[kind]) for kind in KINDS}


def write_csvs(spec: LedgerSpec, directory: Path) -> dict[str, Path]:
    """Write `<directory>/<kind>.csv` for the five kinds (UTF-8, DESIGN §4 headers)."""
    return {kind: path for kind, (path, _) in write_csvs_counted(spec, directory).items()}
