"""Mappings and file uploads over HTTP: the CLI's `relance mapping list|show|save` and
`relance import KIND FILE --mapping NAME --sheet NAME`, behind the ledger's token scopes (any
token reads, a read-and-write token saves and imports).

An upload is read by the same reader as the CLI and the staff app (services/ledger/tabular)
and is at most RELANCE_MAX_API_REQUEST_MB (20 MB by default; larger requests are refused with
413 before the body is read). A mapping is named (a built-in or the company's saved one) or
given inline as YAML: never a path on the server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from relance.api import schemas
from relance.api.auth import company_of, source_of, writing
from relance.api.errors import ERRORS, ErrorOut
from relance.domain.errors import Invalid
from relance.domain.ledger_files import KINDS
from relance.domain.mappings import MAX_MAPPING_BYTES, MappingError, parse
from relance.services.ledger import imports, mapping_store

router = Router(tags=["Imports"])


class MappingOut(schemas.Out):
    name: str
    kind: str
    label: str
    source: str = Field(description="built-in or saved")


class MappingDetail(MappingOut):
    yaml: str


class MappingIn(schemas.Strict):
    yaml: str = Field(min_length=1, max_length=MAX_MAPPING_BYTES)


class FileFormat(schemas.Out):
    encoding: str | None
    delimiter: str | None
    sheet: str | None


class ImportFileOut(schemas.ImportOut):
    dry_run: bool
    format: FileFormat | None
    settled: dict[str, int] = Field(
        default_factory=dict,
        description="Balance-only imports: settled parts (<invoice>:settled payments) created, "
        "updated and deleted",
    )


@router.get("/mappings", response={200: list[MappingOut], **ERRORS}, operation_id="list_mappings")
def list_mappings(request: HttpRequest) -> list[dict[str, Any]]:
    """The built-in mappings and the company's saved ones."""
    return [m.as_json() for m in mapping_store.all_mappings(company_of(request))]


@router.get("/mappings/{name}", response={200: MappingDetail, **ERRORS}, operation_id="get_mapping")
def get_mapping(request: HttpRequest, name: str) -> dict[str, Any]:
    """One mapping with its YAML."""
    return mapping_store.get(company_of(request), name).as_json(with_yaml=True)


@router.put(
    "/mappings/{name}",
    response={200: MappingDetail, 201: MappingDetail, **ERRORS},
    operation_id="save_mapping",
)
def save_mapping(request: HttpRequest, name: str, payload: MappingIn) -> Status[dict[str, Any]]:
    """Create or replace the company's mapping `name` (checked first: 422 naming the key)."""
    company = writing(request)
    stored, created = mapping_store.save(company, name, payload.yaml)
    return Status(201 if created else 200, stored.as_json(with_yaml=True))


@router.post(
    "/imports/{kind}",
    response={200: ImportFileOut, 413: ErrorOut, **ERRORS},
    operation_id="import_file",
    summary="Upsert a CSV or workbook file of one ledger kind, all or nothing",
)
def import_file(
    request: HttpRequest,
    kind: str,
    file: File[UploadedFile],
    mapping: Form[str | None] = None,
    mapping_yaml: Form[str | None] = None,
    sheet: Form[str | None] = None,
    dry_run: Form[bool] = False,
) -> dict[str, Any]:
    """`file` is CSV (any of , ; tab | as separator; UTF-8, UTF-16 or Windows-1252) or a
    workbook (.xlsx, .xlsm, .xls, .ods; `sheet` names one, else the first). `mapping` names a
    built-in or saved mapping, or `mapping_yaml` gives one inline. A file with any bad row is
    refused whole (422, every problem with its row and field)."""
    company = writing(request)
    if kind not in KINDS:
        raise Invalid(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    limit = int(settings.RELANCE_MAX_API_REQUEST_BYTES)
    if (file.size or 0) > limit:
        raise Invalid(f"the file is larger than {limit // 2**20} MB")
    if mapping and mapping_yaml:
        raise Invalid("give either `mapping` (a name) or `mapping_yaml`, not both")
    chosen = None
    if mapping:
        chosen = mapping_store.named(company, mapping)
    elif mapping_yaml:
        try:
            chosen = parse(mapping_yaml)
        except MappingError as exc:
            raise Invalid(f"the mapping is not valid: {exc}") from None
    result = imports.import_stream(
        kind,
        file,  # an UploadedFile reads as a binary stream
        company,
        dry_run=dry_run,
        source=source_of(request),
        filename=(file.name or "")[:200],
        mapping=chosen,
        sheet=sheet or None,
    )
    if not result.ok:
        details = [e.as_json() for e in result.errors]
        raise Invalid(f"{file.name}: {result.error_count} problem(s); nothing was written", details)
    return {**result.as_json(), "settled": result.settled}
