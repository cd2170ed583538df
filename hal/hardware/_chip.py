"""What every chip configuration shares: a register image and raw word access."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from hal.errors import ConfigError, FieldOverflowError, UnknownNameError
from hal.registers import Access, RegisterFile

__all__ = ["ChipConfig"]


class ChipConfig:
    """Configuration of one chip: one word array per state register (the register image).

    The image is the only state; subclasses add typed views that read and write
    it, so what a user sets is exactly what the configurator will write.
    """

    register_file: ClassVar[RegisterFile]
    _reset: ClassVar[dict[str, np.ndarray]]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        rf = cls.register_file
        cls._reset = {r.name: rf.reset_words(r.name) for r in rf.state_registers()}

    def __init__(self, image: dict[str, np.ndarray] | None = None):
        if image is None:
            image = self.reset_image()
        missing = set(self._reset) - set(image)
        extra = set(image) - set(self._reset)
        if missing or extra:
            raise ConfigError(
                f"{self.register_file.chip} register image: missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        self.image = image

    @classmethod
    def reset_image(cls) -> dict[str, np.ndarray]:
        """A fresh copy of the register image after reset."""
        return {name: words.copy() for name, words in cls._reset.items()}

    def read_words(self, register: str) -> np.ndarray:
        """A copy of the words of one register."""
        self._state_register(register)
        return self.image[register].copy()

    def write_words(self, register: str, words: Any, index: Any = None) -> None:
        """Write raw words to all instances (``index=None``) or the selected ones.

        Bits outside the declared fields, negative values and wrong shapes raise
        before anything changes.
        """
        reg = self._state_register(register)
        w = np.asarray(words)
        if w.dtype.kind not in "iu":
            raise FieldOverflowError(register, "<word>", w.flat[0] if w.size else w, "unsigned integers")
        new = self.image[register].astype(np.int64)
        try:
            new[slice(None) if index is None else index] = w
        except (IndexError, ValueError) as exc:
            raise ConfigError(
                f"register {register}: cannot write words of shape {w.shape} at {index!r} "
                f"(register has {reg.count} instances): {exc}"
            ) from None
        self.image[register][:] = reg.check_words(new)

    def _state_register(self, register: str):
        reg = self.register_file[register]  # UnknownNameError with the known names
        if reg.access is Access.WRITE_ONLY:
            raise UnknownNameError(f"{self.register_file.chip} state register", register, self.image)
        return reg

    def copy(self):
        return type(self)({k: v.copy() for k, v in self.image.items()})

    def is_reset(self) -> bool:
        return all(np.array_equal(self.image[k], self._reset[k]) for k in self.image)

    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.image.values())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(np.array_equal(self.image[k], other.image[k]) for k in self.image)

    __hash__ = None  # mutable
