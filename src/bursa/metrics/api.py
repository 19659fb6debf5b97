"""The HTTP API's metrics: requests by method, route template and status, their latency,
requests in flight, rate-limit refusals, and engine commands the API role gave up on.

``bursa.api.metrics`` records the requests (an ASGI middleware); the limiter records its
refusals; the API role's engine client records its timeouts. What every request records
is kept without locks (``bursa.metrics.lockfree``): it is recorded on the event loop.
"""

from prometheus_client import Counter

from bursa.metrics import lockfree

REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the route of a request no route took (404s, the web app's pages)

HTTP_REQUESTS = lockfree.Counter(
    "bursa_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = lockfree.Histogram(
    "bursa_http_request_seconds",
    "Time to answer an HTTP request (until its last byte was handed to the server)",
    ["method", "route"],
    buckets=REQUEST_BUCKETS,
)
HTTP_IN_FLIGHT = lockfree.Gauge("bursa_http_in_flight", "HTTP requests being answered")
RATE_LIMIT_REFUSALS = Counter(
    "bursa_rate_limit_refusals_total",
    "Requests a rate limit refused (or that reached a limit), by the limit's name",
    ["scope"],
)
ENGINE_CLIENT_TIMEOUTS = Counter(
    "bursa_engine_client_timeouts_total",
    "Engine commands the API role sent and got no answer to in time (answered 503)",
)
