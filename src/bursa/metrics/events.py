"""The Event API's metrics: how far the outbox is behind, and what the relay published.

The backlog and the oldest event's age are read from the database (``event_outbox``), so
a relay standing by reports them too, and an outage of RabbitMQ shows as a growing age.
"""

from prometheus_client import Counter, Gauge

OUTBOX_BACKLOG = Gauge("bursa_outbox_backlog", "Outbox rows (transactions) not yet published")
OUTBOX_OLDEST_AGE = Gauge(
    "bursa_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when none waits)",
)
EVENTS_PUBLISHED = Counter(
    "bursa_events_published_total",
    "Events the destination confirmed (RabbitMQ's publisher confirms, or the bus)",
    ["exchange"],
)
PUBLISH_FAILURES = Counter(
    "bursa_events_publish_failures_total",
    "Publishes refused or not confirmed (the row stays and is tried again)",
)
RELAY_ACTIVE = Gauge(
    "bursa_relay_active", "1 while this relay holds its lock and publishes, 0 standing by"
)
