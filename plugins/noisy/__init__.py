"""The noisy backend: the emulator plus trial-to-trial variation."""

__all__: list[str] = []
