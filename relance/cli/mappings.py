"""`relance mapping list|show|save`: the built-in mappings and each company's saved ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
def mapping() -> None:
    """Mappings: how another product's export reads as a ledger file (README "Mappings")."""


def _options(f: Any) -> Any:
    """--company and --json, as every command of the CLI has them."""
    f = click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")(f)
    return click.option(
        "--company", "company_code", metavar="CODE", help="Company code (default: default)."
    )(f)


@mapping.command("list")
@_options
def mapping_list(company_code: str | None, as_json: bool) -> None:
    """The built-in mappings and the company's saved ones."""
    from relance.cli.output import emit, rejections
    from relance.services.ledger.mapping_store import all_mappings
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        found = all_mappings(get_company(company_code))
    width = max((len(m.name) for m in found), default=10)
    emit(
        as_json,
        {"mappings": [m.as_json() for m in found]},
        "\n".join(f"{m.name:<{width}}  {m.kind:<12} {m.source:<9} {m.label}" for m in found),
    )


@mapping.command("show")
@click.argument("name")
@_options
def mapping_show(name: str, company_code: str | None, as_json: bool) -> None:
    """Print mapping NAME's YAML (save a copy to adapt it)."""
    from relance.cli.output import emit, rejections
    from relance.services.ledger.mapping_store import get
    from relance.services.organisation.companies import get_company

    with rejections(as_json):
        found = get(get_company(company_code), name)
    emit(as_json, found.as_json(with_yaml=True), found.yaml.rstrip("\n"))


@mapping.command("save")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@_options
def mapping_save(name: str, file: Path | None, company_code: str | None, as_json: bool) -> None:
    """Save FILE (YAML) as the company's mapping NAME, replacing one of that name.

    `relance mapping save FILE.yaml` alone saves it under the file's name."""
    from relance.cli.output import emit, reject, rejections
    from relance.domain.mappings import MAX_MAPPING_BYTES
    from relance.services.ledger.mapping_store import read_text, save
    from relance.services.organisation.companies import get_company

    if file is None:
        file = Path(name)
        name = file.stem.lower().replace("_", "-").replace(" ", "-")

    try:
        if file.stat().st_size > MAX_MAPPING_BYTES:
            reject(f"{file}: a mapping is at most {MAX_MAPPING_BYTES // 1000} kB", as_json)
        text = read_text(file.read_bytes())
    except OSError as exc:
        reject(f"cannot read {file}: {exc.strerror}", as_json)
    with rejections(as_json):
        stored, created = save(get_company(company_code), name, text)
    emit(
        as_json,
        {**stored.as_json(), "created": created},
        f"{'Saved' if created else 'Replaced'} mapping {stored.name} ({stored.kind}).",
    )
