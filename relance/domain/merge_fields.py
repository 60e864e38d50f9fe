"""The merge fields a message template may use, and the check run when a template is saved.

One catalogue serves the documentation (README, the plan editor's field picker), the check and the
renderer, so a field cannot exist in one and not the other. Every value is a ready-to-print string
in the recipient's language (amounts with their currency, long dates) unless noted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from relance.domain.texts import N_, render
from relance.messaging.sandbox import sandboxed

_INVOICE = {
    "id": "the invoice's id in your ERP",
    "number": "invoice number",
    "issue_date": "date issued",
    "due_date": "due date",
    "currency": "ISO currency code",
    "total": "invoice total",
    "amount_due": "what is left to pay",
    "days_late": "days past the due date (a number)",
    "late_interest": "late-payment interest accrued (law pack or contract rate)",
    "fixed_indemnity": "fixed recovery indemnity (e.g. €40)",
}
_PERSON = {"name": "full name (may be empty)", "email": "email address", "phone": "phone number"}

#: root -> field -> description; a root mapped to None is a plain value (no fields).
CATALOGUE: dict[str, dict[str, str] | None] = {
    "customer": {
        "id": "the customer's id in your ERP",
        "name": "company name",
        "address": "postal address, several lines",
    },
    "contact": _PERSON,
    "company": {
        "name": "your company's name",
        "email": "address customers write to",
        "phone": "number customers call",
        "address": "postal address, several lines",
        "registration_number": "SIREN, Companies House number…",
        "vat_number": "VAT number",
        "iban": "IBAN to pay to",
        "bic": "BIC",
    },
    "payment": {
        "reference": "the reference the customer quotes with a transfer",
        "iban": "IBAN to pay to",
        "bic": "BIC",
        "sort_code": "UK sort code, 12-34-56 (customers in the UK paying in pounds; else empty)",
        "account_number": "UK account number (with the sort code; else empty)",
        "link": "payment page (may be empty)",
        "bank_transfer": "true when the customer pays by transfer",
    },
    "reference": _INVOICE,
    "invoices": _INVOICE,  # a list: `{% for inv in invoices %}{{ inv.number }}…`
    "totals": None,
    "days_late": None,
    "owner": _PERSON,
    "sales_rep": _PERSON,
    "portal": {"link": "the customer's personal portal (may be empty)"},
    "law": {
        "applies": "true when late-payment penalties apply",
        "pack": "FR, EU, UK or empty",
        "rate": "yearly interest rate, e.g. 12.15%",
        "indemnity": "fixed indemnity per late invoice",
        "late_interest": "interest accrued on the invoices listed, per currency",
    },
    "promise": {"pay_by": "date promised", "amount": "amount promised (may be empty)"},
    "discount": {
        "percent": "early-payment discount on the reference invoice, e.g. 2% (empty: none)",
        "until": "last day a payment takes it",
        "amount": "what may be deducted",
        "to_pay": "the invoice total less the discount",
    },
    "instalment": {
        "number": "instalment number",
        "due_date": "its due date",
        "amount": "its amount",
        "plan_total": "total of the payment plan",
    },
    "dispute": {
        "reason": "reason given",
        "opened_on": "date opened",
        "invoices": "invoice numbers disputed",
        "acknowledge_by": "acknowledgement deadline",
        "resolve_by": "resolution deadline",
    },
    "credit": {"limit": "credit limit", "balance": "balance owed", "used_percent": "e.g. 85%"},
    "card": {"expiry": "card expiry, e.g. 03/2027"},
    "paid": {"amount": "amount received", "date": "date received", "invoices": "invoices paid"},
    "today": None,
}

#: Roots that hold a list of invoices (their loop variable has the invoice fields).
LISTS = frozenset({"invoices"})


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """What is wrong in a template, where: 1-based line and column. A syntax error stops the
    template; an unknown field only prints empty, so callers may treat it as a warning.

    What is wrong is an English template (marked with `N_`) filled with `params`, read in the
    language active when `message` is read; a syntax error is in Jinja's own (English) words."""

    line: int
    column: int
    template: str
    syntax: bool = False
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def message(self) -> str:
        return render(self.template, dict(self.params))

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@cache
def _environment() -> SandboxedEnvironment:
    return sandboxed(trim_blocks=True, lstrip_blocks=True)


def _column(source: str, line: int, text: str) -> int:
    """Where `text` first appears on that line (1 when it cannot be found, e.g. split lines)."""
    lines = source.splitlines() or [""]
    found = re.search(rf"(?<![\w.]){re.escape(text)}(?!\w)", lines[min(line, len(lines)) - 1])
    return found.start() + 1 if found else 1


def _loop_names(tree: nodes.Template) -> dict[str, str]:
    """Loop variables over a list of the catalogue: name -> the list's root."""
    found = {}
    for loop in tree.find_all(nodes.For):
        if (
            isinstance(loop.target, nodes.Name)
            and isinstance(loop.iter, nodes.Name)
            and loop.iter.name in LISTS
        ):
            found[loop.target.name] = loop.iter.name
    return found


def _assigned(tree: nodes.Template) -> set[str]:
    """Names the template defines itself ({% set %}, loop targets, macros)."""
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names |= {m.name for m in tree.find_all(nodes.Macro)}
    return names | {"loop"}


def _problems(source: str, tree: nodes.Template) -> Iterator[TemplateProblem]:
    loops = _loop_names(tree)
    local = _assigned(tree)
    for node in tree.find_all(nodes.Getattr):
        if not isinstance(node.node, nodes.Name):
            continue
        root = loops.get(node.node.name, node.node.name)
        fields = CATALOGUE.get(root)
        if root in CATALOGUE and (fields is None or node.attr not in fields):
            where = f"{node.node.name}.{node.attr}"
            line, column = node.lineno, _column(source, node.lineno, where)
            if fields:
                yield TemplateProblem(
                    line,
                    column,
                    N_("unknown merge field '%(field)s' (fields of %(root)s: %(known)s)"),
                    params=(("field", where), ("root", root), ("known", ", ".join(sorted(fields)))),
                )
            else:
                yield TemplateProblem(
                    line,
                    column,
                    N_("unknown merge field '%(field)s' (%(root)s is a plain value)"),
                    params=(("field", where), ("root", root)),
                )
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in CATALOGUE and name.name not in local:
            if name.name in loops:
                continue
            yield TemplateProblem(
                name.lineno,
                _column(source, name.lineno, name.name),
                N_("unknown merge field '%(field)s' (known: %(known)s)"),
                params=(("field", name.name), ("known", ", ".join(CATALOGUE))),
            )


def check_template(source: str) -> list[TemplateProblem]:
    """Syntax errors and unknown merge fields, each with its line and column; [] when fine."""
    try:
        tree = _environment().parse(source)
    except TemplateSyntaxError as exc:
        line = exc.lineno or 1
        lines = source.splitlines() or [""]
        text = lines[min(line, len(lines)) - 1]
        opener = max(text.rfind("{{"), text.rfind("{%"))  # the tag the parser choked in
        column = opener + 1 if opener >= 0 else len(text) - len(text.lstrip()) + 1
        return [TemplateProblem(line, column, exc.message or "syntax error", syntax=True)]
    seen: set[tuple[int, int, str]] = set()
    problems = []
    for problem in _problems(source, tree):
        key = (problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return sorted(problems, key=lambda p: (p.line, p.column))
