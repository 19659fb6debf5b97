"""Chain plugins shipped with Bursa, one module per chain, each registered in the
``bursa.blockchains`` entry point group (``pyproject.toml``)."""
