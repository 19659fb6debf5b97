"""Built-in strategies (each registered by name in ``bursa.bots.plugins``)."""
