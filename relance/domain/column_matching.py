"""Which of a file's columns feeds each of relance's fields, guessed from the headers alone, for
the import wizard's column step: the person confirms or corrects every guess before anything is
read. Pure Python.

Two guesses, the better one wins:
- a known mapping (built-in or saved) all of whose source headers are in the file: the export
  of a product relance knows, or a file the company already mapped once;
- header by header: each header compared with the field's name and the names finance tools
  and people give it, in English and French ("N° facture", "Échéance", "Montant TTC"), exactly
  once accents, case and punctuation are set aside, else closely enough (difflib's ratio, so
  "Invoice No" and "Invoice Number" meet).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from relance.domain.ledger_files import REQUIRED
from relance.domain.mappings import Mapping, fields_of
from relance.domain.tabular import header_key

#: How close a header must be to a name to be suggested without being equal to it.
CLOSE_ENOUGH = 0.82

#: Names a field goes by in exports and in finance teams' own sheets, English and French, as
#: header_key leaves them (case-folded), compared without accents or punctuation.
_COMMON: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer",
        "customer id",
        "customer code",
        "customer number",
        "customer no",
        "account",
        "account number",
        "account code",
        "contact id",
        "client",
        "code client",
        "n client",
        "numero client",
        "compte",
        "compte client",
        "id client",
        "tiers",
        "code tiers",
    ),
    "currency": ("currency", "currency code", "devise", "monnaie", "ccy"),
    "invoice_id": (
        "invoice",
        "invoice id",
        "invoice number",
        "invoice no",
        "facture",
        "n facture",
        "numero de facture",
        "facture liee",
        "reference facture",
    ),
}
NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "external_id": _COMMON["customer_id"],
        "name": (
            "name",
            "customer name",
            "company",
            "company name",
            "contact name",
            "display name",
            "nom",
            "raison sociale",
            "nom du client",
            "client",
            "societe",
        ),
        "currency": _COMMON["currency"],
        "language": ("language", "langue", "locale"),
        "time_zone": ("time zone", "timezone", "fuseau horaire"),
        "country": ("country", "country code", "pays", "code pays"),
        "segment": ("segment", "category", "categorie", "type de client"),
        "risk": ("risk", "risk level", "risque", "niveau de risque"),
        "credit_limit": ("credit limit", "limite de credit", "encours autorise", "plafond"),
        "owner_email": ("owner", "credit controller", "responsable", "gestionnaire"),
        "sales_rep_email": ("sales rep", "salesperson", "commercial", "vendeur"),
        "plan": ("plan", "dunning plan", "plan de relance", "scenario de relance"),
        "address_line1": ("address", "address line 1", "street", "adresse", "adresse 1"),
        "address_line2": ("address line 2", "adresse 2", "complement d adresse"),
        "postal_code": ("postal code", "postcode", "zip", "zip code", "code postal", "cp"),
        "city": ("city", "town", "ville", "commune"),
    },
    "contacts": {
        "external_id": ("contact", "contact id", "id contact", "code contact"),
        "customer_id": _COMMON["customer_id"],
        "name": ("name", "contact name", "full name", "nom", "nom du contact", "interlocuteur"),
        "email": ("email", "e mail", "email address", "courriel", "adresse email", "mail"),
        "phone": ("phone", "telephone", "mobile", "tel", "portable", "phone number"),
        "roles": ("role", "roles", "fonction"),
    },
    "invoices": {
        "external_id": _COMMON["invoice_id"] + ("id", "reference", "ref", "piece", "n piece"),
        "customer_id": _COMMON["customer_id"],
        "number": _COMMON["invoice_id"] + ("number", "numero", "n"),
        "issue_date": (
            "date",
            "invoice date",
            "issue date",
            "date facture",
            "date de facture",
            "date d emission",
            "date piece",
        ),
        "due_date": (
            "due date",
            "due",
            "payment due",
            "echeance",
            "date d echeance",
            "date echeance",
        ),
        "currency": _COMMON["currency"],
        "total": (
            "total",
            "amount",
            "invoice total",
            "total amount",
            "gross",
            "montant",
            "montant ttc",
            "total ttc",
            "ttc",
        ),
        "sales_rep_email": ("sales rep", "salesperson", "commercial", "vendeur"),
        "status": ("status", "statut", "etat"),
    },
    "credit-notes": {
        "external_id": ("credit note", "credit note number", "avoir", "n avoir", "numero d avoir"),
        "customer_id": _COMMON["customer_id"],
        "invoice_id": _COMMON["invoice_id"],
        "date": ("date", "credit note date", "date avoir", "date de l avoir"),
        "currency": _COMMON["currency"],
        "amount": ("amount", "total", "montant", "montant ttc", "total ttc"),
    },
    "payments": {
        "external_id": (
            "payment",
            "payment id",
            "reference",
            "paiement",
            "reglement",
            "n reglement",
        ),
        "customer_id": _COMMON["customer_id"],
        "invoice_id": _COMMON["invoice_id"],
        "date": ("date", "payment date", "paid on", "date de paiement", "date reglement"),
        "currency": _COMMON["currency"],
        "amount": ("amount", "amount paid", "paid", "montant", "montant regle", "reglement"),
    },
}
#: Open amount of a balance-only export (what is still owed on each invoice).
OPEN_AMOUNT_NAMES = (
    "open amount",
    "amount due",
    "balance",
    "balance due",
    "outstanding",
    "open balance",
    "reste du",
    "reste a payer",
    "solde",
    "montant restant",
    "restant du",
    "amount residual",
)


def plain(text: str) -> str:
    """A header or name as compared: header_key's, without accents, and with punctuation (`°`,
    `'`, `_`, `-`, `.`) as spaces, so "N° facture" meets "n facture" and "due_date" "due date"."""
    decomposed = unicodedata.normalize("NFKD", header_key(text))
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


@dataclass
class Suggestion:
    """Field -> header for one file, where it comes from, and what it leaves unmapped."""

    columns: dict[str, str] = field(default_factory=dict)
    mapping: str | None = None  # the known mapping suggested whole
    open_amount: str | None = None
    missing: list[str] = field(default_factory=list)  # required fields with no header


def _score(header: str, names: Iterable[str]) -> float:
    """1.0 for an exact match on one of the names, else the closest ratio."""
    key = plain(header)
    best = 0.0
    for name in names:
        if key == name:
            return 1.0
        best = max(best, SequenceMatcher(None, key, name).ratio())
    return best


def match_headers(kind: str, headers: Sequence[str]) -> Suggestion:
    """Each field's best header, header by header: exact names first, then close ones; one
    header feeds one field, except an invoice's number and its id (usually one column)."""
    known = NAMES.get(kind, {})
    candidates = []
    for name in fields_of(kind):
        names = (plain(name), *known.get(name, ()))
        for header in headers:
            if not header.strip():
                continue
            score = _score(header, names)
            if score >= CLOSE_ENOUGH:
                candidates.append((score, name in REQUIRED[kind], name, header))
    found = Suggestion()
    taken: set[str] = set()
    for *_rank, name, header in sorted(candidates, key=lambda c: (-c[0], not c[1])):
        if name in found.columns or header in taken:
            continue
        found.columns[name] = header
        taken.add(header)
    if kind == "invoices":
        for one, other in (("external_id", "number"), ("number", "external_id")):
            if one not in found.columns and other in found.columns:
                found.columns[one] = found.columns[other]
        opens = [
            (score, h)
            for h in headers
            if h not in taken and (score := _score(h, OPEN_AMOUNT_NAMES)) >= CLOSE_ENOUGH
        ]
        if opens:
            found.open_amount = max(opens)[1]
    found.columns = {f: found.columns[f] for f in fields_of(kind) if f in found.columns}
    found.missing = missing(kind, found.columns, {})
    return found


def missing(kind: str, columns: dict[str, str], defaults: dict[str, str]) -> list[str]:
    """Required fields neither mapped nor defaulted (currency falls back to the company's)."""
    given = columns.keys() | {k for k, v in defaults.items() if v} | {"currency"}
    return [f for f in fields_of(kind) if f in REQUIRED[kind] and f not in given]


def fits(mapping: Mapping, headers: Sequence[str]) -> bool:
    """Whether every header the mapping reads is one of the file's."""
    keys = {header_key(h) for h in headers}
    return all(header_key(h) in keys for h in mapping.sources())


def suggest(
    kind: str, headers: Sequence[str], known: Iterable[tuple[str, Mapping]] = ()
) -> Suggestion:
    """The wizard's first guess: the known mapping of this kind that reads the most of the
    file's columns and finds all it needs, else the header-by-header match."""
    fitting = [
        (len(m.sources()), name, m)
        for name, m in known
        if m.kind == kind and m.renames and fits(m, headers)
    ]
    if fitting:
        _size, name, chosen = max(fitting, key=lambda f: f[0])
        return Suggestion(
            columns=dict(chosen.columns),
            mapping=name,
            open_amount=chosen.open_amount,
            missing=missing(kind, chosen.columns, chosen.defaults),
        )
    return match_headers(kind, headers)
