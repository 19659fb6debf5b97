"""The event mailer's metrics: mails sent per template, sends that failed."""

from prometheus_client import Counter

MAILS_SENT = Counter(
    "bursa_mails_sent_total", "Mails the mail server accepted, by configured mail", ["template"]
)
MAIL_FAILURES = Counter(
    "bursa_mail_failures_total",
    "Sends the mail server refused or that could not reach it (retried later)",
)
