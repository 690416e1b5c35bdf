"""Reward crowdfunding (众筹): a product line of its own, outside the lending rules."""
