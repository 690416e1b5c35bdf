"""Customer service: tickets, canned answers, the FAQ and the complaints figures."""
