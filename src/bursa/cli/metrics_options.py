"""``--metrics-port`` of the worker commands: where a worker serves ``/metrics`` and its
health (``bursa.metrics.process.serve_metrics``), off unless given."""

from typing import Annotated

import typer

from bursa.config.settings import Settings

MetricsPort = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=65535,
        envvar="BURSA_METRICS_PORT",
        show_default=False,
        help="serve /metrics, /health/alive and /health/ready on this port"
        " (BURSA_METRICS_HOST, default 127.0.0.1); 0 or unset: off",
    ),
]


def metrics_address(settings: Settings, port: int | None) -> tuple[str, int | None]:
    """The host and port to serve metrics on (port None: not served)."""
    chosen = port if port is not None else settings.metrics_port
    return settings.metrics_host, chosen or None


# For commands that read no Bursa settings (the bots: a client of any exchange).
MetricsHost = Annotated[
    str,
    typer.Option(envvar="BURSA_METRICS_HOST", help="the address --metrics-port listens on"),
]
