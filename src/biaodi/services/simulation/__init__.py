"""The market simulator: a day-by-day market driven through the platform's own services."""
