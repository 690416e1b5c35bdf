"""Notifications: messages captured from committed facts into the inbox and the outbox
(`capture`), sent by the relay over SMTP and the SMS gateway (`relay`), read and configured by
their users (`inbox`); account security (`security`)."""
