"""What customers and staff say that changes dunning: holds, disputes, promises, payment
plans, discounts and the notices that answer them."""
