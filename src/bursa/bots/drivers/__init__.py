"""Drivers: how a bot talks to an exchange (REST and websocket)."""
