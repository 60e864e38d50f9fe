"""Dunning plans: the ordered steps a finance team runs against a customer's unpaid invoices.

Plans are written by people, in YAML (DESIGN §4 "Plan YAML"), and then drive automatic emails and
letters to real customers. A typo must therefore never be silently ignored, and a plan with five
mistakes should report all five at once, each with a path a finance user can follow
(`standard: steps[2].channel: 'fax' is not one of email, sms, letter, call, task`).

The package turns that text into immutable `Plan` / `Step` objects the engine can trust without
re-checking, and back. It is pure Python (no Django). Import from the module that says what it is:

    model      `Plan`, `Step`, their A/B `Variant`; channels, modes, attachments, day bounds;
               which side of an A/B test a customer is on (`variant_for`, `with_side`)
    problems   `Problem` and `PlanError` (every mistake, by path), the report that collects them,
               YAML read strictly (`read_yaml`); shared with the assignment rules
    fields     how each value a person writes is read and checked: text, numbers, choices,
               addresses, tolerances, triggers
    reading    `parse_plan`, `parse_plans`, `load_plans_yaml`: a whole plan or document, every
               error at once
    advice     `plan_warnings`: what is allowed but probably not meant
    writing    `plan_to_dict`: the form storage keeps, which `parse_plan` reads back exactly
"""
