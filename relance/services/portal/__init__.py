"""The customer portal's use cases: signed links, emailed codes, the account a customer sees."""
