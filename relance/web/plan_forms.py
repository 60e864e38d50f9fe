"""The plan editor's forms, and how they map to and from a plan's stored (YAML) form.

The forms only collect values: every rule of a valid plan is checked by relance.domain.plans,
whose problems come back with paths such as `steps[2].recipients[1]` and are put next to the
field they are about. Keys a form does not know (added by a later version, or written in YAML)
are kept as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from relance.domain.plans.model import MAX_DAYS
from relance.domain.plans.problems import Problem
from relance.messaging import library
from relance.models import Alias, Company, Membership

CHANNELS = [
    ("email", _("Email")),
    ("sms", _("SMS")),
    ("letter", _("Letter")),
    ("call", _("Call")),
    ("task", _("Task")),
]
MODES = [("auto", _("Automatic")), ("manual", _("Manual: a person does it or approves it"))]
ATTACHMENTS = [
    ("none", _("No invoice")),
    ("reference", _("The invoice the step is about")),
    ("overdue", _("Every overdue invoice")),
    ("open", _("Every unpaid invoice")),
]
WHO = [
    ("role:billing", _("Billing contacts")),
    ("role:primary", _("Primary contacts")),
    ("role:escalation", _("Escalation contacts")),
    ("role:legal", _("Legal contacts")),
    ("owner", _("The account owner")),
    ("sales_rep", _("The sales rep")),
]
OWNERS = [("owner", _("The account owner")), ("sales_rep", _("The sales rep"))]
#: The library's templates by the title people know them by (a name not listed is humanised).
TEMPLATE_TITLES = {
    "broken_promise": _("Broken promise"),
    "card_expiry_notice": _("Card expiry notice"),
    "credit_limit_notice": _("Credit limit notice"),
    "dispute_acknowledgement": _("Dispute acknowledgement"),
    "firm_reminder": _("Firm reminder"),
    "first_reminder": _("First reminder"),
    "formal_notice": _("Formal notice"),
    "gentle_note": _("Gentle note"),
    "instalment_reminder": _("Instalment reminder"),
    "missed_instalment": _("Missed instalment"),
    "payment_thanks": _("Thanks for the payment"),
    "pre_due_reminder": _("Reminder before the due date"),
    "promise_reminder": _("Promise reminder"),
}


def template_title(name: str) -> str:
    """A library template's title in the reader's language: `first_reminder` -> First reminder."""
    if not name:
        return ""
    known = TEMPLATE_TITLES.get(name)
    return str(known) if known else name.replace("_", " ").replace("-", " ").capitalize()


BEFORE, AFTER = "before", "after"
_SPLIT = re.compile(r"[\s,;]+")


def _addresses(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text) if part]


class StepForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    days = forms.IntegerField(label=_("Days"), min_value=0, max_value=MAX_DAYS)
    direction = forms.ChoiceField(
        label=_("Before or after"), choices=[(BEFORE, _("before")), (AFTER, _("after"))]
    )
    trigger_from = forms.ChoiceField(
        label=_("Counted from"),
        choices=[("due_date", _("the due date")), ("issue_date", _("the issue date"))],
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS)
    mode = forms.ChoiceField(label=_("Mode"), choices=MODES, widget=forms.RadioSelect)
    recipients = forms.MultipleChoiceField(
        label=_("Send to"), choices=WHO, required=False, widget=forms.CheckboxSelectMultiple
    )
    recipient_addresses = forms.CharField(
        label=_("Other addresses"),
        required=False,
        help_text=_("Sent to these addresses for every customer on the plan."),
    )
    cc = forms.MultipleChoiceField(
        label=_("Copy to"), choices=WHO, required=False, widget=forms.CheckboxSelectMultiple
    )
    cc_addresses = forms.CharField(
        label=_("Other addresses in copy"),
        required=False,
        help_text=_("Copied to these addresses for every customer on the plan."),
    )
    owners = forms.MultipleChoiceField(
        label=_("Who does it"),
        choices=OWNERS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Manual steps land in these people's Actions inbox."),
    )
    owner_groups = forms.MultipleChoiceField(label=_("Teams"), required=False)
    owner_people = forms.MultipleChoiceField(label=_("People and shared mailboxes"), required=False)
    attach = forms.ChoiceField(label=_("Invoices listed and attached"), choices=ATTACHMENTS)
    notify_sales_rep_days_before = forms.IntegerField(
        label=_("Tell the sales rep, days before"),
        required=False,
        min_value=1,
        help_text=_(
            "The customer's sales rep hears of this step that many days ahead, with links to "
            "hold, flag a dispute or record a promise without logging in."
        ),
    )
    template = forms.ChoiceField(label=_("Template"), required=False)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=500)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
        help_text=_("Leave empty to use the template, in the customer's language."),
    )
    variant_share = forms.IntegerField(
        label=_("Share of customers getting variant B (%)"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_(
            "Leave empty for no A/B test. Each customer always gets the same variant; "
            "Analytics compares what each brought in."
        ),
    )
    variant_template = forms.ChoiceField(label=_("Variant B template"), required=False)
    variant_subject = forms.CharField(label=_("Variant B subject"), required=False, max_length=500)
    variant_body = forms.CharField(
        label=_("Variant B text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
    )

    def __init__(self, *args: Any, company: Company | None, step: Mapping[str, Any], **kw: Any):
        super().__init__(*args, **kw)
        self.step = dict(step)
        groups = sorted(Group.objects.values_list("name", flat=True))
        owners = set(step.get("owners", ()))
        self._choices("owner_groups", [f"group:{g}" for g in groups], owners, "group:")
        staff = _staff_addresses(company)
        self._choices("owner_people", staff, owners, "@")
        field: Any = self.fields["template"]
        titled = sorted(((template_title(n), n) for n in library.names()), key=lambda t: t[0])
        field.choices = [("", _("None: I write the text"))] + [(n, t) for t, n in titled]
        stored = step.get("template")
        if stored and stored not in library.names():
            field.choices.append((stored, template_title(stored)))
        variant: Any = self.fields["variant_template"]
        variant.choices = field.choices

    def _choices(self, name: str, offered: Iterable[str], stored: set[str], mark: str) -> None:
        """Offer the known values, and keep any stored one that is not among them."""
        values = list(offered) + sorted(v for v in stored if mark in v and v not in offered)
        field: Any = self.fields[name]
        field.choices = [(v, v.removeprefix("group:")) for v in values]

    @classmethod
    def initial_for(cls, step: Mapping[str, Any]) -> dict[str, Any]:
        trigger = step.get("trigger") or {}
        days = int(trigger.get("days") or 0)

        def roles(entries: Iterable[str]) -> list[str]:
            return [e for e in entries if "@" not in e]

        def addresses(entries: Iterable[str]) -> str:
            return ", ".join(e for e in entries if "@" in e)

        owners = list(step.get("owners", ()))
        variant = step.get("variant_b") or {}
        return {
            "name": step.get("name", ""),
            "days": abs(days),
            "direction": BEFORE if days < 0 else AFTER,
            "trigger_from": trigger.get("from", "due_date"),
            "channel": step.get("channel", "email"),
            "mode": step.get("mode", "auto"),
            "recipients": roles(step.get("recipients", ())),
            "recipient_addresses": addresses(step.get("recipients", ())),
            "cc": roles(step.get("cc", ())),
            "cc_addresses": addresses(step.get("cc", ())),
            "owners": [o for o in owners if o in ("owner", "sales_rep")],
            "owner_groups": [o for o in owners if o.startswith("group:")],
            "owner_people": [o for o in owners if "@" in o],
            "attach": step.get("attach", "overdue"),
            "notify_sales_rep_days_before": step.get("notify_sales_rep_days_before"),
            "template": step.get("template", ""),
            "subject": step.get("subject", ""),
            "body": step.get("body", ""),
            "variant_share": variant.get("share"),
            "variant_template": variant.get("template", ""),
            "variant_subject": variant.get("subject", ""),
            "variant_body": variant.get("body", ""),
        }

    def as_step(self) -> dict[str, Any]:
        """The step's stored form: the form's values over the keys the form does not know."""
        data = self.cleaned_data
        days = data["days"] if data["direction"] == AFTER else -data["days"]
        step = dict(self.step)
        if data["channel"] == "sms":  # an SMS has no subject: what the form kept hidden is dropped
            data = {**data, "subject": "", "variant_subject": ""}
        step.update(
            name=data["name"].strip(),
            trigger={"days": days, "from": data["trigger_from"]},
            channel=data["channel"],
            mode=data["mode"],
            recipients=data["recipients"] + _addresses(data["recipient_addresses"]),
            cc=data["cc"] + _addresses(data["cc_addresses"]),
            owners=data["owners"] + data["owner_groups"] + data["owner_people"],
            attach=data["attach"],
            notify_sales_rep_days_before=data["notify_sales_rep_days_before"],
            template=data["template"],
            subject=data["subject"],
            body=data["body"].replace("\r\n", "\n"),
            variant_b=self._variant(data),
        )
        return step

    @staticmethod
    def _variant(data: Mapping[str, Any]) -> dict[str, Any] | None:
        """An A/B test once a share or a B text is given (the domain then checks it whole)."""
        body = (data["variant_body"] or "").replace("\r\n", "\n")
        if data["variant_share"] is None and not (
            data["variant_template"] or data["variant_subject"] or body
        ):
            return None
        return {
            "share": data["variant_share"] or 50,
            "template": data["variant_template"],
            "subject": data["variant_subject"],
            "body": body,
        }

    def show_warnings(self, warnings: Iterable[Problem], index: int) -> list[str]:
        """Put the domain's warnings about step `index` next to their fields (`field.warnings` in
        the template); those about no field of the form are returned, for above it."""
        return attach_warnings(self, [w for w in warnings if step_of(w.path) == index], index)

    def show_problems(self, problems: Iterable[Problem], index: int) -> None:
        """Put the domain's problems about step `index` (1-based) next to their fields."""
        for problem in problems:
            field = step_field(problem.path, index)
            if field is not None:
                self.add_error(field if field in self.fields else None, problem.message)


def _staff_addresses(company: Company | None) -> list[str]:
    """Addresses a manual step can be given to: the company's people and shared mailboxes."""
    members = Membership.objects.exclude(user__email="")
    aliases = Alias.objects.all()
    if company is not None:
        members, aliases = members.filter(company=company), aliases.filter(company=company)
    found = set(members.values_list("user__email", flat=True))
    found |= set(aliases.values_list("email", flat=True))
    return sorted(found, key=str.lower)


_STEP_PATH = re.compile(r"steps\[(\d+)\](?:\.([a-z_]+))?(?:\.([a-z_]+))?")
_FIELD_OF = {
    "trigger": "days",
    "recipients": "recipient_addresses",
    "cc": "cc_addresses",
    "owners": "owner_people",
}


def step_field(path: str, index: int) -> str | None:
    """The form field a problem at `path` is about, when it is about step `index`: None when it
    is about another step or the plan, "" (the whole form) when no field matches."""
    found = _STEP_PATH.match(path)
    if found is None or int(found.group(1)) != index:
        return None
    key = found.group(2) or ""
    if key == "variant_b":
        return f"variant_{found.group(3) or 'share'}"
    return _FIELD_OF.get(key, key)


def attach_warnings(form: forms.Form, warnings: Iterable[Problem], index: int | None) -> list[str]:
    """Warnings next to the fields they are about; the others returned."""
    left: list[str] = []
    for warning in warnings:
        if index is None:
            name: str | None = warning.path.split(".")[0].split("[")[0]
        else:
            name = step_field(warning.path, index)
        if name and name in form.fields:
            bound: Any = form[name]
            bound.warnings = [*getattr(bound, "warnings", []), warning.message]
        else:
            left.append(warning.message)
    return left


def step_of(path: str) -> int | None:
    """The step (1-based) a problem's path is about, or None for the plan as a whole."""
    found = _STEP_PATH.match(path)
    return int(found.group(1)) if found else None


class SettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    min_contact_delay_days = forms.IntegerField(
        label=_("Minimum days between two contacts"),
        min_value=0,
        max_value=MAX_DAYS,
        help_text=_("Whatever sent the last message: a step, a broadcast, a missed promise."),
    )
    tolerance = forms.CharField(
        label=_("Tolerance"),
        required=False,
        help_text=_("Amounts left unpaid that are not chased, e.g. EUR 5.00, GBP 5.00"),
    )
    repeat_last_every_days = forms.IntegerField(
        label=_("Repeat the last step every (days)"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
    )
    repeat_last_max = forms.IntegerField(
        label=_("At most (times)"), required=False, min_value=1, max_value=MAX_DAYS
    )

    @classmethod
    def initial_for(cls, definition: Mapping[str, Any]) -> dict[str, Any]:
        tolerance = definition.get("tolerance") or {}
        return {
            "name": definition.get("name", ""),
            "min_contact_delay_days": definition.get("min_contact_delay_days") or 0,
            "tolerance": ", ".join(f"{c} {a}" for c, a in tolerance.items()),
            "repeat_last_every_days": definition.get("repeat_last_every_days"),
            "repeat_last_max": definition.get("repeat_last_max"),
        }

    def clean_tolerance(self) -> dict[str, str]:
        words = _addresses(self.cleaned_data["tolerance"])
        if len(words) % 2:
            raise forms.ValidationError(_("Write a currency and an amount, e.g. EUR 5.00."))
        return {words[i].upper(): words[i + 1] for i in range(0, len(words), 2)}

    def apply(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        updated = dict(definition)
        updated.update(self.cleaned_data)
        updated["name"] = self.cleaned_data["name"].strip()
        return updated

    def show_problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if step_of(problem.path) is None:
                key = problem.path.split(".")[0]
                self.add_error(key if key in self.fields else None, problem.message)


class NewPlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        required=False,
        help_text=_("Lower-case letters, digits and dashes; made from the name when empty."),
    )
    company = forms.ChoiceField(label=_("Company"))
    start_from = forms.ChoiceField(label=_("Start from"), required=False)

    def __init__(self, *args: Any, companies: list[Company], copies: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        field: Any = self.fields["company"]
        field.choices = [(str(c.pk), c.name) for c in companies]
        start: Any = self.fields["start_from"]
        several = len(companies) > 1
        start.choices = [("", _("One email step"))] + [
            (str(p.pk), _("A copy of %(plan)s") % {"plan": f"{p.name} ({p.company.name})"})
            if several
            else (str(p.pk), _("A copy of %(plan)s") % {"plan": p.name})
            for p in copies
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("code") and data.get("name"):
            data["code"] = slugify(data["name"])[:50]
        return data


def first_step() -> dict[str, Any]:
    """A new plan's one step: a plain reminder from the library, so it is valid at once."""
    return {
        "name": str(_("Payment reminder")),
        "trigger": {"days": 7, "from": "due_date"},
        "channel": "email",
        "mode": "auto",
        "recipients": ["role:billing"],
        "cc": [],
        "owners": [],
        "attach": "overdue",
        "template": "first_reminder",
        "subject": "",
        "body": "",
    }
