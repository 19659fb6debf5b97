"""The websocket (Ranger) metrics: connections by kind, streams subscribed, messages sent,
slow clients dropped, and resyncs (the hub fell behind the bus and dropped everyone).

``bursa.api.ranger.hub`` updates them; the gauges are this process's connections only.
"""

from prometheus_client import Counter, Gauge

PUBLIC, PRIVATE = "public", "private"

WS_CONNECTIONS = Gauge("bursa_ws_connections", "Open websocket connections, by kind", ["kind"])
WS_PUBLIC_CONNECTIONS = WS_CONNECTIONS.labels(PUBLIC)
WS_PRIVATE_CONNECTIONS = WS_CONNECTIONS.labels(PRIVATE)
WS_SUBSCRIPTIONS = Gauge(
    "bursa_ws_subscriptions", "Streams subscribed, summed over every websocket connection"
)
WS_MESSAGES_SENT = Counter(
    "bursa_ws_messages_sent_total", "Websocket messages handed to clients' connections"
)
WS_SLOW_CLIENT_DROPS = Counter(
    "bursa_ws_slow_client_drops_total",
    "Websocket clients disconnected for not reading fast enough (their buffer was full)",
)
WS_RESYNCS = Counter(
    "bursa_ws_resyncs_total",
    "Times the websocket hub fell behind the event bus and made every client start over",
)
