"""``/api/v2/barong/identity``: what a visitor does before having a session — sign up,
confirm the email, reset the password (``users``) — and logging in and out (``sessions``).
Barong's helpers (``ping``, ``time``, ``configs``, …) are served here too: ``public``."""
