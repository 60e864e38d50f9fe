"""An invoice's PDF from its page, for whoever may see the invoice: the one imported from the ERP
(`relance invoices attach-pdfs`), else the one-page summary the customer portal gives (which
says it is not the invoice), in the reader's language."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from relance.services.organisation import access, hours
from relance.services.portal.accounts import invoice_pdf as document
from relance.web import pages


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        access.invoices(request.user).select_related("customer__company"), pk=pk
    )
    customer = invoice.customer
    name, content = document(
        customer, invoice.external_id, hours.company_today(customer.company), pages.language()
    )
    response = HttpResponse(content, content_type="application/pdf")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    response["Content-Disposition"] = f'inline; filename="{safe}"'
    return response
