"""A company's settings as its admins change them in the staff app: who may, what each section
holds, the checks that go beyond one field (sending hours, payment options), the logo (an image
checked for what it really is, re-encoded, never an SVG), and the journal entry naming the fields
changed (never a secret's value).

The companies a user may create: superusers, and admins of an existing company (they already hold
a company's bank details and team; a new entity of the same group is theirs to set up). The new
company is made by `companies.upsert_company`, as `relance company add` makes it, and its creator
becomes its admin."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from relance.domain.errors import Forbidden
from relance.messaging import library
from relance.models import Company, Membership
from relance.models.company import FIRST_RUN_STEP1
from relance.services.organisation import access, companies, journal

#: The fields of each section of the settings page, in the order shown.
SECTIONS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "legal_form",
        "share_capital",
        "registration_number",
        "registration_city",
        "vat_number",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "currency",
        "time_zone",
        "email",
        "phone",
        "iban",
        "bic",
        "sort_code",
        "account_number",
    ),
    "branding": ("brand_colour", "letter_statement"),
    "sending": (
        "sender_email",
        "reply_to",
        "send_days",
        "send_from",
        "send_until",
        "daily_cap",
    ),
    "law": ("law_pack",),
    "portal": (
        "portal_link_days",
        "payment_provider",
        "payment_link_template",
        "payment_webhook_secret",
        "early_discount_percent",
        "early_discount_days",
        "thanks_template",
    ),
    "disputes": (
        "dispute_ack_hours",
        "dispute_resolve_days",
        "promise_max_days",
        "plan_max_instalments",
        "plan_max_days",
        "plan_auto_approve_below",
        "plan_grace_days",
        "credit_notice_percent",
    ),
}

#: Fields whose values are never shown back nor written to the journal.
SECRETS = frozenset({"payment_webhook_secret"})

#: A logo is at most this large as uploaded, and this many pixels on its longer side once stored.
MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_PIXELS = 20_000_000  # what Pillow may decode at all: refuses decompression bombs
LOGO_SIDE = 1200

_PAYMENT_FIELDS = {"reference": "R", "amount": "1.00", "currency": "EUR", "customer": "C"}


class SettingsRefused(Forbidden, PermissionError):
    """The user may not change this company's settings, or create a company."""


def may_edit(user: Any, company: Company) -> bool:
    """Admins of the company (and superusers, who are every company's admin)."""
    return access.roles(user).get(company.pk) == Membership.Role.ADMIN


def may_create(user: Any) -> bool:
    """Superusers, and admins of at least one company."""
    return bool(getattr(user, "is_superuser", False)) or Membership.Role.ADMIN in (
        access.roles(user).values()
    )


# ------------------------------------------------------------------------------------------------
# The logo
# ------------------------------------------------------------------------------------------------


def read_logo(data: bytes) -> tuple[bytes, str]:
    """The uploaded logo as stored: (image bytes, extension). Only PNG and JPEG are taken, as
    Pillow reads them, whatever the file is named; the image is decoded and written again, so
    nothing but pixels survives (no script, no metadata, no trailing payload). Raises
    ValidationError in words the uploader can act on."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(
            _("The logo is %(size)s KB: at most 1 MB is accepted. Export a smaller image.")
            % {"size": len(data) // 1024}
        )
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg", b"<!--")) or b"<svg" in head:
        raise ValidationError(
            _("SVG logos are not accepted (an SVG file can carry scripts): export it as PNG.")
        )
    not_an_image = ValidationError(
        _("This file is not a PNG or JPEG image: export the logo as PNG or JPEG.")
    )
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in ("PNG", "JPEG"):
                raise not_an_image
            if width * height > MAX_LOGO_PIXELS:
                raise ValidationError(
                    _("The logo is %(width)s by %(height)s pixels: export it smaller.")
                    % {"width": width, "height": height}
                )
            probe.verify()
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            image.load()
            picture = image.copy()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    picture.thumbnail((LOGO_SIDE, LOGO_SIDE))
    out = io.BytesIO()
    if kind == "JPEG":
        picture.convert("RGB").save(out, "JPEG", quality=90)
        return out.getvalue(), "jpg"
    if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    picture.save(out, "PNG", optimize=True)
    return out.getvalue(), "png"


# ------------------------------------------------------------------------------------------------
# Saving
# ------------------------------------------------------------------------------------------------


def digits_of(value: str) -> str:
    """A sort code or account number as stored: "12-34-56" and "12 34 56" are 123456 (anything
    else typed is kept, for the validator to name)."""
    return "".join(value.split()).replace("-", "")


def _normalised(field: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if field in ("country", "currency", "bic"):
            value = value.upper()
        elif field == "iban":
            value = "".join(value.split()).upper()
        elif field in ("sort_code", "account_number"):
            value = digits_of(value)
        elif field == "brand_colour":
            value = value.lower()
    return value


def _check(company: Company, fields: set[str]) -> None:
    """What no single field's validator can tell, named on the field to correct."""
    errors: dict[str, list[str]] = {}
    if company.send_from >= company.send_until:
        errors.setdefault("send_until", []).append(
            _("The sending window must end after it starts: choose a later time than %(start)s.")
            % {"start": company.send_from.strftime("%H:%M")}
        )
    if bool(company.sort_code) != bool(company.account_number):
        missing = "account_number" if company.sort_code else "sort_code"
        errors.setdefault(missing, []).append(
            _("UK bank details need both the sort code and the account number.")
        )
    if company.payment_provider == "link" and not company.payment_link_template:
        errors.setdefault("payment_link_template", []).append(
            _("Give the address of your payment link, or choose another payment option.")
        )
    if company.payment_link_template:
        template = company.payment_link_template
        try:
            filled = template.format(
                **{k: quote(v, safe="") for k, v in _PAYMENT_FIELDS.items()},
                return_url="https%3A%2F%2Fexample.org",
            )
        except (KeyError, IndexError, ValueError):
            errors.setdefault("payment_link_template", []).append(
                _(
                    "Only {reference}, {amount}, {currency}, {customer} and {return_url} may "
                    "appear between braces."
                )
            )
        else:
            parts = urlsplit(filled)
            if parts.scheme != "https" or not parts.netloc:
                errors.setdefault("payment_link_template", []).append(
                    _("The payment link must start with https://")
                )
    if (company.early_discount_percent is None) != (company.early_discount_days is None):
        field = (
            "early_discount_days"
            if company.early_discount_days is None
            else "early_discount_percent"
        )
        errors.setdefault(field, []).append(
            _("An early-payment discount needs both its percentage and its number of days.")
        )
    if company.early_discount_percent is not None and not (
        Decimal(0) < company.early_discount_percent < Decimal(100)
    ):
        errors.setdefault("early_discount_percent", []).append(
            _("The discount is a percentage between 0 and 100, e.g. 2.00.")
        )
    if company.credit_notice_percent > 100 or company.credit_notice_percent == 0:
        errors.setdefault("credit_notice_percent", []).append(
            _("Choose a share of the credit limit between 1 and 100.")
        )
    if company.thanks_template and company.thanks_template not in library.names():
        errors.setdefault("thanks_template", []).append(
            _("No template '%(name)s' in the library.") % {"name": company.thanks_template}
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save(
    company: Company,
    section: str,
    values: dict[str, Any],
    *,
    actor: Any,
    logo: bytes | None = None,
    remove_logo: bool = False,
    clear: tuple[str, ...] = (),
) -> list[str]:
    """Change the fields of `section` given in `values` (a secret given empty is kept, `clear`
    names the secrets to remove), and the logo (raw upload bytes) for the branding section; the
    names of the fields changed, recorded on the company's journal. Raises SettingsRefused for
    someone who is not the company's admin, ValidationError naming each field wrong (nothing is
    saved then)."""
    if not may_edit(actor, company):
        raise SettingsRefused(_("Only the company's administrators may change its settings."))
    allowed = SECTIONS.get(section)
    if allowed is None:
        raise ValidationError(_("Unknown settings section '%(name)s'.") % {"name": section})
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError(
            _("These fields are not in this section: %(names)s.") % {"names": ", ".join(unknown)}
        )
    changed: list[str] = []
    for field, raw in values.items():
        value = _normalised(field, raw)
        if field in SECRETS and not value:
            continue  # left empty: the secret is kept (it is never shown back)
        if getattr(company, field) != value:
            setattr(company, field, value)
            changed.append(field)
    for field in clear:
        if field in SECRETS and field in allowed and getattr(company, field):
            setattr(company, field, "")
            changed.append(field)
    stored_logo: tuple[bytes, str] | None = None
    if section == "branding":
        if logo is not None:
            try:
                stored_logo = read_logo(logo)
            except ValidationError as exc:
                raise ValidationError({"logo": exc.messages}) from None
        elif remove_logo and company.logo:
            changed.append("logo")
    company.full_clean(exclude=["logo", "members"])
    _check(company, set(changed))
    old_logo = company.logo.name if company.logo else ""
    if stored_logo is not None:
        data, extension = stored_logo
        digest = hashlib.sha256(data).hexdigest()[:12]
        company.logo.save(f"{company.code}-{digest}.{extension}", ContentFile(data), save=False)
        changed.append("logo")
    elif "logo" in changed:
        company.logo = ""
    if not changed:
        return []
    company.save()
    if "logo" in changed and old_logo and old_logo != company.logo.name:
        storage = company.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    journal.record(
        "company.settings_changed",
        company,
        actor=actor,
        source="web",
        data={"section": section, "fields": changed},
    )
    return changed


def create(values: dict[str, Any], *, actor: Any) -> Company:
    """A new company made in the staff app, as `relance company add` makes one (its own copy of
    the library's plans), with its creator as its admin, but with automatic sending off and the
    first-run policy 'step 1' (issue 19's contract: the CLI's companies send, by age). Raises
    SettingsRefused for someone who may not create companies, ValidationError naming each field
    wrong."""
    if not may_create(actor):
        raise SettingsRefused(_("Only administrators may create a company."))
    code = str(values.get("code", "")).strip().lower()
    if Company.objects.filter(code=code).exists():
        raise ValidationError(
            {"code": [_("A company with the code '%(code)s' exists already.") % {"code": code}]}
        )
    fields = {k: _normalised(k, v) for k, v in values.items() if k != "code"}
    with transaction.atomic():
        # Not live: nothing goes out by itself until an admin reviews the first cycle and
        # switches sending on (services.dunning.golive), each customer starting at step 1.
        company, _created = companies.upsert_company(
            code,
            source="web",
            actor=actor,
            automatic_sending=False,
            first_run=FIRST_RUN_STEP1,
            **fields,
        )
        if not actor.is_superuser:  # superusers administer every company already
            Membership.objects.get_or_create(
                company=company, user=actor, defaults={"role": Membership.Role.ADMIN}
            )
    return company


__all__ = [
    "MAX_LOGO_BYTES",
    "SECRETS",
    "SECTIONS",
    "SettingsRefused",
    "create",
    "digits_of",
    "may_create",
    "may_edit",
    "read_logo",
    "save",
]
