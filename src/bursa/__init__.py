"""Bursa: an open-source crypto-currency exchange speaking the OpenDAX API dialect."""

__version__ = "0.1.0"
