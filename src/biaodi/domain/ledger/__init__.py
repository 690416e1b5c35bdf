"""Double-entry rules: account types, the chart of accounts, balanced entry drafts."""
