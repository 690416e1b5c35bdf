"""Rules every capability shares: money in integer fen, business errors, the compliance profile."""
