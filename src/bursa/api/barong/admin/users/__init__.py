"""``/api/v2/barong/admin/users``: ``accounts`` (search, one user, role, state, 2FA off),
``labels``, ``comments``, ``documents`` (review) and ``data_storage``."""
