"""Where mappings come from: the built-in ones shipped with relance (services/ledger/mappings/
*.yaml, one per product export, each naming its source) and each company's saved ones
(SavedMapping). `resolve` finds a mapping by name, or reads a YAML file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from relance.domain.errors import Invalid, NotFound
from relance.domain.mappings import MAX_MAPPING_BYTES, Mapping, MappingError, parse
from relance.models import Company, SavedMapping

BUILTIN_DIR = Path(__file__).parent / "mappings"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


@dataclass(frozen=True)
class Stored:
    name: str
    kind: str
    label: str
    source: str  # "built-in" or "saved"
    yaml: str

    def as_json(self, with_yaml: bool = False) -> dict[str, Any]:
        out = {"name": self.name, "kind": self.kind, "label": self.label, "source": self.source}
        if with_yaml:
            out["yaml"] = self.yaml
        return out


@cache
def builtins() -> dict[str, Stored]:
    found = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        mapping = parse(text)
        found[path.stem] = Stored(path.stem, mapping.kind, mapping.label, "built-in", text)
    return found


def all_mappings(company: Company) -> list[Stored]:
    saved = [
        Stored(m.name, m.kind, _label(m.yaml), "saved", m.yaml)
        for m in SavedMapping.objects.filter(company=company)
    ]
    return [*builtins().values(), *saved]


def _label(text: str) -> str:
    try:
        return parse(text).label
    except MappingError:
        return ""


def get(company: Company, name: str) -> Stored:
    saved = SavedMapping.objects.filter(company=company, name=name).first()
    if saved is not None:
        return Stored(saved.name, saved.kind, _label(saved.yaml), "saved", saved.yaml)
    if name in builtins():
        return builtins()[name]
    known = ", ".join(m.name for m in all_mappings(company))
    raise NotFound(f"no mapping '{name}' in company {company.code}; mappings: {known}")


def resolve(company: Company, name_or_path: str) -> Mapping:
    """A mapping by name (the company's saved ones, then the built-in ones), or from a YAML
    file when the argument ends in .yaml/.yml or names an existing file."""
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        try:
            if path.stat().st_size > MAX_MAPPING_BYTES:
                raise Invalid(f"{path}: a mapping is at most {MAX_MAPPING_BYTES // 1000} kB")
            text = read_text(path.read_bytes())
        except OSError as exc:
            raise Invalid(f"cannot read the mapping {path}: {exc.strerror}") from None
        try:
            return parse(text)
        except MappingError as exc:
            raise Invalid(f"{path}: {exc}") from None
    return named(company, name_or_path)


def named(company: Company, name: str) -> Mapping:
    """A mapping by name only (the company's saved ones, then the built-in ones): what the staff
    app and its background jobs use, as they must never read a path on the server."""
    stored = get(company, name)
    try:
        return parse(stored.yaml)
    except MappingError as exc:
        raise Invalid(f"mapping '{stored.name}': {exc}") from None


def read_text(data: bytes) -> str:
    """A mapping file's text: UTF-8 (with or without BOM), else Windows-1252 as Notepad saves
    "ANSI" files on a French or English Windows."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def save(company: Company, name: str, text: str, user: Any = None) -> tuple[Stored, bool]:
    """Create or replace the company's mapping `name` (checked first); (it, created)."""
    if not _NAME.match(name):
        raise Invalid(
            f"'{name}' is not a mapping name: lower-case letters, digits and dashes, at most 60"
        )
    if name in builtins():
        raise Invalid(f"'{name}' is a built-in mapping; save yours under another name")
    try:
        mapping = parse(text)
    except MappingError as exc:
        raise Invalid(f"the mapping is not valid: {exc}") from None
    saved, created = SavedMapping.objects.update_or_create(
        company=company,
        name=name,
        defaults={"kind": mapping.kind, "yaml": text, "updated_at": timezone.now()},
        create_defaults={
            "kind": mapping.kind,
            "yaml": text,
            "created_by": user if getattr(user, "pk", None) else None,
        },
    )
    return Stored(saved.name, saved.kind, mapping.label, "saved", saved.yaml), created
