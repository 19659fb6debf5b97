"""Secrets at rest: a key store that encrypts what Bursa must keep but never show."""
