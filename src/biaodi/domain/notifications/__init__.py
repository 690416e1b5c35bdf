"""Notifications: what each kind of event says (zh-CN and en), on which channels it goes by
default, and how long a failed delivery waits before the next try. No I/O."""
