"""Helpers for testing code that uses hal (hypothesis strategies, fakes)."""

__all__: list[str] = []
