"""Custody fixtures: one real anvil node for the whole test session."""

from tests.custody.anvil import anvil  # noqa: F401 - the fixture, shared by every module
