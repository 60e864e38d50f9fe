"""The customer portal's use cases: signed links, emailed codes, the account a customer sees,
and paying it online (the providers' checkout and confirmation: the customer's act, so it sits
with the portal, above dunning and dialogue whose outbox and notices it uses)."""
