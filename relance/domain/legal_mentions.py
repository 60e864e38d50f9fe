"""The legal identity a company prints on its letters and emails.

French business letters must name the legal form, the share capital, the RCS city and the SIREN
number (Code de commerce R123-237: "SAS au capital de 10 000 €, RCS Lyon 123 456 789"); British
ones the place of registration and the company number. Both the letter's footer and the email's
build the same line here, in the reader's language, from values already formatted (the share
capital arrives as text: formatting money is the caller's)."""

from __future__ import annotations

_CAPITAL = {
    "fr": ("{form} au capital de {capital}", "Capital social {capital}"),
    "en": ("{form} with a share capital of {capital}", "Share capital {capital}"),
}
_REGISTERED = {
    "fr": ("Immatriculée à {registry} sous le n° {number}", "Immatriculation {number}"),
    "en": ("Registered in {registry}, company no. {number}", "Company no. {number}"),
}


def siren(number: str) -> str:
    """A French registration number as the RCS mention prints it: the SIREN (the first nine
    digits of a SIRET) in groups of three; anything else as given."""
    digits = "".join(number.split())
    if digits.isdigit() and len(digits) in (9, 14):
        return f"{digits[:3]} {digits[3:6]} {digits[6:9]}"
    return number.strip()


def identity(
    *,
    legal_form: str,
    share_capital: str,
    registry: str,
    registration_number: str,
    country: str,
    language: str,
) -> tuple[str, ...]:
    """The parts of the legal identity, e.g. ("SAS au capital de 10 000 €", "RCS Lyon 123 456
    789"): what is not known is left out, so a company that filled in nothing prints nothing."""
    lang = language if language in _CAPITAL else "en"
    form, capital = legal_form.strip(), share_capital.strip()
    registry, number = registry.strip(), registration_number.strip()
    parts: list[str] = []
    with_form, alone = _CAPITAL[lang]
    if form and capital:
        parts.append(with_form.format(form=form, capital=capital))
    elif form:
        parts.append(form)
    elif capital:
        parts.append(alone.format(capital=capital))
    if number:
        registered, unnamed = _REGISTERED[lang]
        if country == "FR" and registry:
            # The RCS mention is a French legal designation: the same in every language.
            parts.append(f"RCS {registry} {siren(number)}")
        elif registry:
            parts.append(registered.format(registry=registry, number=number))
        else:
            parts.append(unnamed.format(number=number))
    return tuple(parts)
