"""The customer portal's addresses: everything under the personal link /p/<token>/."""

from django.urls import path

from relance.portal import payments, views

urlpatterns = [
    path("p/<str:token>/", views.statement, name="portal"),
    path("p/<str:token>/new-link/", views.new_link, name="portal-new-link"),
    path("p/<str:token>/dispute/", views.dispute, name="portal-dispute"),
    path("p/<str:token>/promise/", views.promise, name="portal-promise"),
    path("p/<str:token>/pay/", payments.pay, name="portal-pay"),
    path("p/<str:token>/payment-plan/", views.payment_plan, name="portal-payment-plan"),
    path("payments/stripe/", payments.stripe_webhook, name="stripe-webhook"),
    path("payments/link/<slug:company>/", payments.link_webhook, name="payment-link-webhook"),
    path("p/<str:token>/statement.pdf", views.statement_pdf, name="portal-statement-pdf"),
    path("p/<str:token>/statement.csv", views.statement_csv, name="portal-statement-csv"),
    path("p/<str:token>/invoices/<str:invoice>.pdf", views.invoice_pdf, name="portal-invoice-pdf"),
]
