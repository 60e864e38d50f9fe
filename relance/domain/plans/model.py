"""The plan model: a plan's steps and the words they are written in (channels, modes, what is
attached, when a step fires), as immutable values the engine acts on without re-checking.

Build plans with `relance.domain.plans.reading.parse_plan`, which validates; the constructors do
not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, Literal

Channel = Literal["email", "sms", "letter", "call", "task"]
Mode = Literal["auto", "manual"]
TriggerFrom = Literal["due_date", "issue_date"]
Attach = Literal["none", "reference", "overdue", "open"]
EMAIL: Final = "email"
SMS: Final = "sms"
LETTER: Final = "letter"
CALL: Final = "call"
TASK: Final = "task"
CHANNELS: Final[tuple[Channel, ...]] = (EMAIL, SMS, LETTER, CALL, TASK)
#: Channels that reach the customer; they count as contact for the minimum contact delay.
CUSTOMER_FACING_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, SMS, LETTER, CALL})
#: A person must do these; there is nothing to send automatically.
MANUAL_ONLY_CHANNELS: Final[frozenset[Channel]] = frozenset({CALL, TASK})
#: Channels that can produce something on their own, hence may loop when repeated unbounded.
AUTOMATIC_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, SMS, LETTER})
#: Channels whose message has a subject line (an email subject, a letter's "Re:" line).
SUBJECT_CHANNELS: Final[frozenset[Channel]] = frozenset({EMAIL, LETTER})
AUTO: Final = "auto"
MANUAL: Final = "manual"
MODES: Final[tuple[Mode, ...]] = (AUTO, MANUAL)
DUE_DATE: Final = "due_date"
ISSUE_DATE: Final = "issue_date"
TRIGGER_FROMS: Final[tuple[TriggerFrom, ...]] = (DUE_DATE, ISSUE_DATE)
ATTACH_NONE: Final = "none"
ATTACH_REFERENCE: Final = "reference"
ATTACH_OVERDUE: Final = "overdue"
ATTACH_OPEN: Final = "open"
ATTACHMENTS: Final[tuple[Attach, ...]] = (
    ATTACH_NONE,
    ATTACH_REFERENCE,
    ATTACH_OVERDUE,
    ATTACH_OPEN,
)
#: Contact roles of the contacts CSV (DESIGN §4); `role:X` in recipients picks those contacts.
CONTACT_ROLES: Final[tuple[str, ...]] = ("billing", "escalation", "legal", "primary")
OWNER: Final = "owner"
SALES_REP: Final = "sales_rep"
#: Upper bound for every day count in a plan (about ten years). Larger values are certainly typos
#: and would overflow date arithmetic in the engine.
MAX_DAYS: Final = 3660
VARIANT_A: Final = "A"
VARIANT_B: Final = "B"


@dataclass(frozen=True, slots=True)
class Variant:
    """The other text of an A/B test of a step: `share` percent of the plan's customers get it
    (each customer always the same side, see `variant_for`), the others the step's own text."""

    share: int = 50
    template: str = ""
    subject: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a plan's escalation ladder: when it fires, how, to whom, and what it says.

    A step is immutable and already validated and normalised (a `call` is always `manual`, defaults
    are filled in), so the engine can act on it without second-guessing the YAML it came from.
    `trigger_days` counts from the reference invoice's `trigger_from` date; negative means before.
    `recipients`/`cc` hold `role:X`, `owner`, `sales_rep` or a fixed email address; `owners` (who
    handles a manual step) hold `owner`, `sales_rep`, `group:NAME` or a staff email address.
    `subject` and `body` are Jinja2 sources, rendered later in a sandbox; `template` names a
    template of the library (in the recipient's language), used where they are empty.
    `notify_sales_rep_days_before`: the customer's sales rep hears of the step that many days
    ahead, with one-click links to hold, dispute or record a promise (a firm step's heads-up).
    """

    name: str
    trigger_days: int
    trigger_from: TriggerFrom = DUE_DATE
    channel: Channel = EMAIL
    mode: Mode = AUTO
    recipients: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    attach: Attach = ATTACH_OVERDUE
    subject: str = ""
    body: str = ""
    template: str = ""
    notify_sales_rep_days_before: int | None = None
    variant_b: Variant | None = None

    @property
    def is_customer_facing(self) -> bool:
        """Whether this step contacts the customer (and so obeys the minimum contact delay)."""
        return self.channel in CUSTOMER_FACING_CHANNELS

    @property
    def is_manual(self) -> bool:
        """Whether a person must act (or approve) before anything happens."""
        return self.mode == MANUAL


@dataclass(frozen=True, slots=True)
class Plan:
    """A named dunning plan: the steps, in order, plus the rules that hold across all of them.

    `min_contact_delay_days` spaces out customer contacts whatever their origin;
    `tolerance` (ISO currency -> amount) lets tiny residues such as bank fees stay out of dunning;
    the last step may repeat every `repeat_last_every_days`, at most `repeat_last_max` times (None:
    until paid). Build plans with `parse_plan`, which validates; the constructor does not.
    `tolerance` is a plain dict for easy use, but treat it as read-only like the rest of the plan.
    """

    code: str
    name: str
    min_contact_delay_days: int = 0
    tolerance: dict[str, Decimal] = field(default_factory=dict)
    repeat_last_every_days: int | None = None
    repeat_last_max: int | None = None
    steps: tuple[Step, ...] = ()

    def __hash__(self) -> int:
        # The dataclass hash would choke on the `tolerance` dict; plans are values, so hash them.
        return hash(
            (
                self.code,
                self.name,
                self.min_contact_delay_days,
                tuple(sorted(self.tolerance.items())),
                self.repeat_last_every_days,
                self.repeat_last_max,
                self.steps,
            )
        )

    def tolerance_for(self, currency: str) -> Decimal:
        """Amount due at or below which an invoice in `currency` is not chased (0 if unset)."""
        return self.tolerance.get(currency, Decimal(0))


def variant_for(step: Step, customer: str, plan_code: str) -> str:
    """ "A" or "B" for a step with an A/B test ("" without): a hash of the plan, step and
    customer, so a customer stays on one side run after run and the split needs no stored
    state."""
    if step.variant_b is None:
        return ""
    digest = hashlib.sha256(f"{plan_code}\x1f{step.name}\x1f{customer}".encode()).digest()
    return (
        VARIANT_B if int.from_bytes(digest[:8], "big") % 100 < step.variant_b.share else VARIANT_A
    )


def with_side(step: Step, side: str) -> Step:
    """The step as the customers of `side` ("A", "B" or "") of its A/B test receive it."""
    if side != VARIANT_B or step.variant_b is None:
        return step
    b = step.variant_b
    return replace(step, template=b.template, subject=b.subject, body=b.body)
