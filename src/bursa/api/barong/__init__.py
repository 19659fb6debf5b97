"""Barong's API (``/api/v2/barong``), one package or module per URL area: ``identity``
(before a session), ``public``, ``resource`` (the member's own account), ``admin`` and
``management``. Shared pieces: ``deps`` (who is calling, the identity services) and
``schemas`` (the answer entities). OAuth lives in ``bursa.api.oauth``; the gateway's
authorization step in ``bursa.api.authz``."""
