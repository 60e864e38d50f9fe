"""The few words the layout itself prints, per language.

Everything else (subject, body, dates, amounts, total labels) arrives already written in the
customer's language, so these stay a small dict rather than a gettext catalogue.
"""

from __future__ import annotations

from relance.documents.model import Language

NBSP = "\u00a0"
APOSTROPHE = "\u2019"  # French typography: the curly apostrophe

LABELS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject": f"Objet{NBSP}:",
        "reference": f"Réf.{NBSP}:",
        "contact": f"Contact{NBSP}:",
        "phone": "Tél.",
        "email": "E-mail",
        "invoices_heading": "Détail des sommes dues",
        "invoice": "Facture",
        "issued": "Émise le",
        "due": "Échéance",
        "days_late": "Jours de retard",
        "total": "Montant TTC",
        "amount_due": "Reste dû",
        "late_interest": "Intérêts de retard",
        "fixed_indemnity": "Indemnité forfaitaire",
        "not_late": "—",
        "payment_title": "Règlement par virement",
        "beneficiary": "Bénéficiaire",
        "iban": "IBAN",
        "bic": "BIC",
        "sort_code": "Sort code",
        "account_number": "Numéro de compte",
        "payment_reference": "Référence à rappeler",
        "appendix": "Annexe",
        "statement_title": "Relevé de compte",
        "customer": "Client",
        "registration": "Immatriculation",
        "vat": f"N°{NBSP}TVA",
        "page_before": "Page ",
        "page_between": " sur ",
        "summary_title": "Récapitulatif de facture",
        "summary_notice": (
            "Ce récapitulatif est établi pour faciliter le suivi de votre compte. Il ne remplace "
            "pas la facture originale, qui seule fait foi."
        ),
        "invoice_number": "Numéro de facture",
        "issue_date": f"Date d{APOSTROPHE}émission",
        "due_date": f"Date d{APOSTROPHE}échéance",
        "summary_details": "Détail",
    },
    "en": {
        "subject": "Subject:",
        "reference": "Our ref.:",
        "contact": "Contact:",
        "phone": "Tel.",
        "email": "Email",
        "invoices_heading": "Amounts outstanding",
        "invoice": "Invoice",
        "issued": "Issued",
        "due": "Due",
        "days_late": "Days late",
        "total": "Invoice total",
        "amount_due": "Amount due",
        "late_interest": "Late interest",
        "fixed_indemnity": "Fixed indemnity",
        "not_late": "—",
        "payment_title": "Payment by bank transfer",
        "beneficiary": "Beneficiary",
        "iban": "IBAN",
        "bic": "BIC",
        "sort_code": "Sort code",
        "account_number": "Account number",
        "payment_reference": "Payment reference",
        "appendix": "Appendix",
        "statement_title": "Statement of account",
        "customer": "Customer",
        "registration": "Company no.",
        "vat": "VAT no.",
        "page_before": "Page ",
        "page_between": " of ",
        "summary_title": "Invoice summary",
        "summary_notice": (
            "This summary is provided for your convenience. It does not replace the original "
            "invoice, which alone is authoritative."
        ),
        "invoice_number": "Invoice number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "summary_details": "Details",
    },
}
