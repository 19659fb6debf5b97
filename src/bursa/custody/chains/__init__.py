"""Chain plugins, one module per chain (registered in the ``bursa.blockchains`` entry points)."""
