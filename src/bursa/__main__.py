"""``python -m bursa`` is the ``bursa`` command."""

from bursa.cli.main import app

app()
