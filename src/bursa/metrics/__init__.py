"""Prometheus metrics: what every Bursa process exports, defined in one place per domain.

Metrics live in prometheus-client's default registry and are named ``bursa_…`` (seconds for
durations, base units); code elsewhere imports the metric objects from these modules and
updates them. The package sits at the bottom of the layers so that any context may record
into it; it imports nothing of Bursa's own. Money shown in a gauge is a float of whole
units: Prometheus has only floats, and the figure is for display, never for a decision.
"""
