"""What every capability's use cases share: idempotency, transactions, rates, SQL helpers."""
