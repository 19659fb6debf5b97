"""Custody: blockchains, wallets, payment addresses, coin deposits and withdrawals.

Chain plugins (``bursa.custody.chain``) are found through the ``bursa.blockchains`` entry
point group, so a new chain is an installable package. Keys are made and used on Bursa's
side and stored only sealed by the key store (``bursa.secrets.keystore``).
"""
