"""Outgoing messages: e-mail over SMTP and SMS through a gateway, behind one interface."""
