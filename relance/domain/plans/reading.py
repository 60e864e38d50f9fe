"""Reading plans people wrote: a plan mapping, a document of plans, or its YAML text, into `Plan`s.

Every error is collected into one `PlanError`, each with its path; normalisations done on the way
(an `auto` call made manual) and `advice.plan_warnings` come back as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from relance.domain.plans import fields
from relance.domain.plans.advice import plan_warnings
from relance.domain.plans.model import (
    ATTACH_NONE,
    ATTACH_OVERDUE,
    ATTACHMENTS,
    AUTO,
    CHANNELS,
    MANUAL,
    MANUAL_ONLY_CHANNELS,
    MODES,
    SUBJECT_CHANNELS,
    Plan,
    Step,
    Variant,
)
from relance.domain.plans.problems import (
    PlanError,
    Problem,
    Report,
    describe,
    error,
    join,
    read_yaml,
)
from relance.domain.texts import N_, phrase


def _message_text(
    raw: Mapping[Any, Any], base: str, channel: str | None, r: Report
) -> tuple[str | None, str | None, str | None]:
    """(template, subject, body) of a step or of its variant B: a library template, or a
    subject (for channels that have one) and a body of its own, each a valid Jinja2 source;
    None for a value that is wrong (reported)."""
    template = fields.text(raw, "template", base, r, required=False)
    if template and not fields.SLUG.fullmatch(template):
        r.error(
            join(base, "template"),
            N_("'%(template)s' is not a template name such as first_reminder"),
            template=template,
        )
    needs_subject = channel in SUBJECT_CHANNELS and not template
    subject = fields.text(
        raw,
        "subject",
        base,
        r,
        required=(
            phrase(N_("is required for %(channel)s steps without a template"), channel=channel)
            if needs_subject
            else False
        ),
    )
    body = fields.text(
        raw,
        "body",
        base,
        r,
        required=(
            False
            if template
            else phrase(
                N_("is required (the message text, call script or task description), or a template")
            )
        ),
        single_line=False,
        strip=False,
    )
    for key, source in (("subject", subject), ("body", body)):
        if source:
            fields.template_source(source, join(base, key), r)
    return template, subject, body


def _variant(raw: object, base: str, channel: str | None, r: Report) -> Variant | None:
    """`variant_b: {share, template | subject and body}`: checked as the step's own text is."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        r.error(
            base,
            N_("must be a mapping with %(keys)s, not %(value)s"),
            keys=", ".join(fields.VARIANT_KEYS),
            value=describe(raw),
        )
        return None
    errors_before = len(r.errors)
    fields.check_keys(raw, fields.VARIANT_KEYS, base, r)
    percentage = phrase(N_("a percentage from 1 to 99"))
    share = fields.whole_number(raw, "share", base, r, minimum=1, what=percentage)
    if share is not None and share > 99:
        r.error(
            join(base, "share"),
            N_("must be %(what)s, not %(value)s"),
            what=percentage,
            value=share,
        )
    template, subject, body = _message_text(raw, base, channel, r)
    if len(r.errors) != errors_before or subject is None or body is None or template is None:
        return None
    return Variant(share=share or 50, template=template, subject=subject, body=body)


def _step(raw: object, index: int, r: Report) -> Step | None:
    base = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        r.error(base, N_("must be a mapping of step settings, not %(value)s"), value=describe(raw))
        return None
    errors_before = len(r.errors)
    fields.check_keys(raw, fields.STEP_KEYS, base, r)
    name = fields.text(raw, "name", base, r, required=True)
    days, trigger_from = fields.trigger(raw.get("trigger"), join(base, "trigger"), r)
    channel = fields.choice(raw, "channel", base, r, CHANNELS, required=True)

    mode = fields.choice(raw, "mode", base, r, MODES, required=False)
    if channel is not None:
        if mode is None and raw.get("mode") is None:
            mode = MANUAL if channel in MANUAL_ONLY_CHANNELS else AUTO
        elif mode == AUTO and channel in MANUAL_ONLY_CHANNELS:
            r.warn(
                join(base, "mode"),
                N_("%(channel)s steps are always done by a person: 'auto' was changed to 'manual'"),
                channel=channel,
            )
            mode = MANUAL

    recipients = fields.addresses(raw, "recipients", base, r, fields.RECIPIENT_LIST)
    cc = fields.addresses(raw, "cc", base, r, fields.RECIPIENT_LIST)
    owners = fields.addresses(raw, "owners", base, r, fields.OWNER_LIST)

    attach = fields.choice(raw, "attach", base, r, ATTACHMENTS, required=False)
    if attach is None and raw.get("attach") is None and channel is not None:
        attach = ATTACH_NONE if channel in MANUAL_ONLY_CHANNELS else ATTACH_OVERDUE

    template, subject, body = _message_text(raw, base, channel, r)
    heads_up = fields.whole_number(
        raw,
        "notify_sales_rep_days_before",
        base,
        r,
        minimum=1,
        what=phrase(N_("a number of days, 1 or more")),
    )
    variant_b = _variant(raw.get("variant_b"), join(base, "variant_b"), channel, r)

    if (
        len(r.errors) != errors_before
        or name is None
        or days is None
        or trigger_from is None
        or channel is None
        or mode is None
        or attach is None
        or recipients is None
        or cc is None
        or owners is None
        or subject is None
        or body is None
        or template is None
    ):
        return None
    return Step(
        name=name,
        trigger_days=days,
        trigger_from=trigger_from,
        channel=channel,
        mode=mode,
        recipients=recipients,
        cc=cc,
        owners=owners,
        attach=attach,
        subject=subject,
        body=body,
        template=template,
        notify_sales_rep_days_before=heads_up,
        variant_b=variant_b,
    )


def _plan(data: object, r: Report) -> Plan | None:
    if not isinstance(data, Mapping):
        r.error(
            "",
            N_("a plan must be a mapping (code, name, steps, …), not %(value)s"),
            value=describe(data),
        )
        return None
    fields.check_keys(data, fields.PLAN_KEYS, "", r)

    code = fields.text(data, "code", "", r, required=True)
    if code and not fields.SLUG.fullmatch(code):
        r.error(
            "code",
            N_(
                "'%(code)s' is not a valid code: use lower-case letters, digits, '-' and '_', "
                "starting with a letter or digit"
            ),
            code=code,
        )
        code = None
    name = fields.text(data, "name", "", r, required=True)
    min_delay = fields.whole_number(
        data,
        "min_contact_delay_days",
        "",
        r,
        minimum=0,
        what=phrase(N_("a whole number of days, 0 or more")),
    )
    if min_delay is None and data.get("min_contact_delay_days") is None:
        min_delay = 0
    tolerance = fields.tolerances(data, r)
    positive = phrase(N_("a positive whole number or null"))
    every = fields.whole_number(data, "repeat_last_every_days", "", r, minimum=1, what=positive)
    most = fields.whole_number(data, "repeat_last_max", "", r, minimum=1, what=positive)

    raw_steps = data.get("steps")
    steps: list[Step] = []
    if raw_steps is None or (isinstance(raw_steps, list | tuple) and not raw_steps):
        r.error("steps", N_("at least one step is required"))
    elif not isinstance(raw_steps, list | tuple):
        r.error("steps", N_("must be a list of steps, not %(value)s"), value=describe(raw_steps))
    else:
        seen: dict[str, int] = {}
        for index, raw_step in enumerate(raw_steps, start=1):
            step = _step(raw_step, index, r)
            if isinstance(raw_step, Mapping) and isinstance(raw_step.get("name"), str):
                key = raw_step["name"].strip().casefold()
                if key and key in seen:
                    shown = raw_step["name"].strip()
                    # The other step named as the editor shows it (its position), the path
                    # stays for the YAML's author.
                    r.error(
                        f"steps[{index}].name",
                        N_('duplicate step name "%(name)s" (also step %(other_index)s)'),
                        name=shown,
                        other_index=seen[key],
                    )
                elif key:
                    seen[key] = index
            if step is not None:
                steps.append(step)

    if r.errors or code is None or name is None or min_delay is None or tolerance is None:
        return None
    return Plan(
        code=code,
        name=name,
        min_contact_delay_days=min_delay,
        tolerance=tolerance,
        repeat_last_every_days=every,
        repeat_last_max=most,
        steps=tuple(steps),
    )


def parse_plan(
    data: Mapping[str, Any], where: str = "", *, warnings: list[Problem] | None = None
) -> Plan:
    """Validate one plan mapping (the YAML form) and return the `Plan`.

    Raises `PlanError` listing every error found, each path prefixed with `where` (e.g. the plan
    code) when given. If `warnings` is a list, warnings are appended to it: normalisations done
    while parsing (an `auto` call made manual) and, when the plan is valid, `plan_warnings`.
    """
    report = Report(where)
    plan = _plan(data, report)
    if warnings is not None:
        warnings.extend(report.warnings)
    if report.errors or plan is None:
        raise PlanError(report.errors)
    if warnings is not None:
        warnings.extend(plan_warnings(plan, where))
    return plan


def parse_plans(document: object, *, warnings: list[Problem] | None = None) -> list[Plan]:
    """Validate a document holding one plan mapping or a list of them.

    Errors from every plan are collected into one `PlanError`; each path is prefixed with the
    plan's code, or with `plans[i]` (1-based) when the code is missing, invalid or duplicated.
    Duplicate codes within the document are an error.
    """
    if isinstance(document, Mapping):
        items: list[object] = [document]
        fallback = ["plan"]
    elif isinstance(document, list | tuple):
        items = list(document)
        fallback = [f"plans[{i}]" for i in range(1, len(items) + 1)]
        if not items:
            raise PlanError([error("document", N_("contains no plans"))])
    else:
        raise PlanError(
            [
                error(
                    "document",
                    N_("must be a plan or a list of plans, not %(value)s"),
                    value=describe(document),
                )
            ]
        )

    codes: list[str | None] = []
    for item in items:
        code = item.get("code") if isinstance(item, Mapping) else None
        if isinstance(code, str) and fields.SLUG.fullmatch(code.strip()):
            codes.append(code.strip())
        else:
            codes.append(None)

    problems: list[Problem] = []
    plans: list[Plan] = []
    first_index: dict[str, int] = {}
    for position, (item, code) in enumerate(zip(items, codes, strict=True)):
        duplicated = code is not None and codes.count(code) > 1
        where = code if code is not None and not duplicated else fallback[position]
        if code is not None and duplicated:
            if code in first_index:
                problems.append(
                    error(
                        f"{where}: code",
                        N_("duplicate plan code '%(code)s' (also plan %(other_index)s)"),
                        code=code,
                        other_index=first_index[code] + 1,
                    )
                )
            else:
                first_index[code] = position
        try:
            plans.append(parse_plan(cast(Mapping[str, Any], item), where, warnings=warnings))
        except PlanError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PlanError(problems)
    return plans


def load_plans_yaml(text: str, *, warnings: list[Problem] | None = None) -> list[Plan]:
    """Parse YAML text holding one plan or a list of plans (see `read_yaml`, `parse_plans`)."""
    document = read_yaml(text)
    if document is None:
        raise PlanError([error("document", N_("is empty: expected a plan or a list of plans"))])
    return parse_plans(document, warnings=warnings)
