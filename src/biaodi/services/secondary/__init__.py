"""Secondary market (债权转让): holders offer holdings (`sales`), buyers take all or part of an
offer (`purchases`), servicing cancels offers whose loan changed (`cancel`), and investors see
their sales and purchases (`queries`). Rules live in `domain.secondary`."""
