"""The emulator backend: a Cython kernel of the analog chip with its fixed-pattern mismatch and link limits."""

__all__: list[str] = []
