"""`relance token`: the API tokens other systems use."""

from __future__ import annotations

import click

from relance.cli.options import company_option, json_option
from relance.cli.output import emit, reject, rejections


@click.group()
def token() -> None:
    """API tokens: create (the secret is printed once), list, revoke."""


@token.command("create")
@click.option("--name", required=True, help="What uses it, e.g. 'ERP nightly sync'.")
@click.option("--write", is_flag=True, help="Read and write (default: read only).")
@company_option
@json_option
def token_create(name: str, write: bool, company_code: str | None, as_json: bool) -> None:
    """Create an API token for one company and print its secret (shown this once)."""
    from relance.services.integrations import api_tokens
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        company = get_company(company_code)
        made, secret = api_tokens.create(company, name, "write" if write else "read", source="cli")
    emit(
        as_json,
        {"name": made.name, "company": company.code, "scope": made.scope, "token": secret},
        f"{secret}\n(company {company.code}, {made.scope}; shown once: keep it now)",
    )


@token.command("list")
@company_option
@json_option
def token_list(company_code: str | None, as_json: bool) -> None:
    """A company's tokens: prefix, name, scope, last use, revoked or not (never the secret)."""
    from relance.models import ApiToken
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        company = get_company(company_code)
    rows = [
        {
            "prefix": t.prefix,
            "name": t.name,
            "scope": t.scope,
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked": t.revoked_at is not None,
        }
        for t in ApiToken.objects.filter(company=company)
    ]
    text = "\n".join(
        f"rl_{r['prefix']}_…  {r['scope']:<5}  {r['name']}"
        + ("  (revoked)" if r["revoked"] else "")
        for r in rows
    )
    emit(as_json, {"tokens": rows}, text or "No token.")


@token.command("revoke")
@click.argument("prefix")
@json_option
def token_revoke(prefix: str, as_json: bool) -> None:
    """Revoke the token whose secret starts with rl_PREFIX_: it stops working at once."""
    from relance.models import ApiToken
    from relance.services.integrations import api_tokens

    found = ApiToken.objects.filter(prefix=prefix.removeprefix("rl_").split("_")[0]).first()
    if found is None:
        reject(f"no token rl_{prefix}_…", as_json, {"error": "unknown token", "prefix": prefix})
    api_tokens.revoke(found, source="cli")
    emit(as_json, {"prefix": found.prefix, "revoked": True}, f"Revoked {found.name}.")
