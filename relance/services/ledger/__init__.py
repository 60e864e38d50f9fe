"""The ledger: importing it, allocating payments, what each customer owes and when."""
