"""Signatures other systems check: jwt-multisig envelopes (Event API, Management API)."""
