"""``/api/v2/barong/resource``: the signed-in member's own account, one module per path:
``users`` (``me``, ``activity``, ``password``), ``otp``, ``api_keys``, ``phones``,
``profiles``, ``documents``, ``addresses``, ``labels``, ``data_storage``,
``service_accounts`` and ``oauth`` (grants)."""
