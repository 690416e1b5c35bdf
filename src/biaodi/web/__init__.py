"""The web pages: server-rendered Jinja2 pages for investors, borrowers and operators."""
