"""Customer service (客服): ticket rules, categories and their response-time targets."""
