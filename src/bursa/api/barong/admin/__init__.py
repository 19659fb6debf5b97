"""``/api/v2/barong/admin``: Barong's admin API, one module per path: ``users/`` (accounts,
labels, comments, documents, data storage), ``permissions``, ``restrictions``,
``activities``, ``api_keys``, ``profiles``, ``levels``, ``service_accounts`` and ``oauth``
(client applications).

Every request passes the same authorization step as ``/api/v2/auth`` (``bursa.api.authz``:
restrictions, session or API key, CSRF, the permission table, audit of writes): the
permission table decides who may call what, so an operator changes access by editing
permissions, not code. The rules no table can grant live in the identity services
(``bursa.identity.user_admin``: ranks, who changes roles).
"""
