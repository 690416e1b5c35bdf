"""Servicing rules, free of I/O: overdue buckets and grace, penalties and the cost cap,
allocation order, the disposal waterfall, re-amortisation after a part prepayment, and the
rules of conduct for collections. The close-of-business SQL in `services/servicing` is built
from the constants here, so the rules live in one place."""
