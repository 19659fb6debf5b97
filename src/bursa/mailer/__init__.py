"""The event mailer (Barong's postmaster): Event API events in, notification mail out.

It reads signed events (RabbitMQ, or the in-process bus of ``bursa up``), keeps those its
configuration names, and mails the member the template of their language. Events never
carry secrets: one-time codes are mailed by the identity service itself.
"""
