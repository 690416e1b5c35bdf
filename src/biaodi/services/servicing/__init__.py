"""Servicing use cases: close of business, repayments, defaults per listing type, collections.

The set-based steps take a business date and a range of listing ids; close of business runs
them chunk by chunk, and the per-loan use cases (a repayment, an early repayment, a disposal)
run the same steps over one loan.
"""
