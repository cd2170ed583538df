"""Registers with named bit fields, declared once, and their exact word encoding.

Two kinds of declaration produce the same :class:`Register` description:

* a *value register* is a frozen attrs class whose fields are declared with
  :func:`bits`, :func:`flag` or :func:`choice`; the :func:`register` decorator
  derives the bit layout from the declaration order and attaches it as
  ``cls.REGISTER``. Instances are the typed, readable objects users handle.
* an *array register* (:class:`ArrayRegister`) packs a bulk numpy array of small
  integers (4-bit synapse weights, 10-bit floating-gate cells, switch bits) into
  words, several elements per word.

Either way a value that does not fit its field raises
:class:`~hal.errors.FieldOverflowError`; nothing is wrapped or clipped.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import numpy as np

from hal.errors import ConfigError, FieldOverflowError, UnknownNameError

__all__ = [
    "Access",
    "Field",
    "Register",
    "RegisterValue",
    "ArrayRegister",
    "RegisterFile",
    "register",
    "bits",
    "flag",
    "choice",
    "word_dtype",
    "markdown_reference",
]


class Access(str, enum.Enum):
    """How software may use a field: read-write, read-only (status) or write-only (command)."""

    READ_WRITE = "rw"
    READ_ONLY = "ro"
    WRITE_ONLY = "wo"


@attrs.frozen
class Field:
    """One named bit field of a register word."""

    name: str
    lsb: int
    width: int
    reset: int = 0
    access: Access = Access.READ_WRITE
    doc: str = ""

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    @property
    def max(self) -> int:
        return self.mask

    def valid_text(self) -> str:
        return f"0..{self.max}"


def word_dtype(width: int) -> np.dtype:
    """The unsigned dtype that holds a register word of ``width`` bits."""
    return np.dtype(np.uint32) if width <= 32 else np.dtype(np.uint64)


@attrs.frozen
class Register:
    """A register declaration: ``count`` instances at ``address .. address + count - 1``.

    ``words_per_row`` only matters for array registers: it is how many words one
    row of the typed array occupies, so that writes can be reported per row.
    """

    name: str
    address: int
    count: int
    fields: tuple[Field, ...]
    width: int = 32
    doc: str = ""
    access: Access = Access.READ_WRITE
    #: (instance, word) pairs whose reset differs from the fields' resets (e.g. the merger tree's
    #: upper levels, which the chip's software resets to a tree that passes each block straight on).
    instance_resets: tuple[tuple[int, int], ...] = ()

    def __attrs_post_init__(self):
        if not 1 <= self.width <= 64:
            raise ConfigError(f"register {self.name}: width {self.width} not in 1..64")
        for index, word in self.instance_resets:
            if not 0 <= index < self.count:
                raise ConfigError(f"register {self.name}: reset of instance {index} out of range; valid 0..{self.count - 1}")
        used = 0
        for f in self.fields:
            if f.lsb < 0 or f.lsb + f.width > self.width:
                raise ConfigError(
                    f"register {self.name}: field {f.name} (bits {f.lsb}..{f.lsb + f.width - 1}) "
                    f"exceeds the {self.width}-bit word"
                )
            field_bits = f.mask << f.lsb
            if used & field_bits:
                raise ConfigError(f"register {self.name}: field {f.name} overlaps another field")
            used |= field_bits
            if not 0 <= f.reset <= f.max:
                raise ConfigError(f"register {self.name}: reset {f.reset} of {f.name} does not fit {f.width} bits")

    @property
    def dtype(self) -> np.dtype:
        return word_dtype(self.width)

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.address + self.count

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise UnknownNameError(f"field of register {self.name}", name, (f.name for f in self.fields))

    @property
    def reset_word(self) -> int:
        return sum(f.reset << f.lsb for f in self.fields)

    def reset_words(self) -> np.ndarray:
        """Words of all instances after reset (``instance_resets`` where given, else :attr:`reset_word`)."""
        words = np.full(self.count, self.reset_word, dtype=self.dtype)
        for index, word in self.instance_resets:
            words[index] = word
        return words

    # -- vectorised encoding ---------------------------------------------------------------

    def check_field(self, name: str, values: Any, where: Callable[[int], str] | None = None) -> np.ndarray:
        """Return ``values`` as a uint64 array, raising if any element does not fit the field."""
        f = self.field(name)
        arr = _integer_array(values, self.name, name, f"integers {f.valid_text()}")
        bad_mask = (arr < 0) | (arr > f.max)
        if np.any(bad_mask):
            idx = int(np.flatnonzero(bad_mask.ravel())[0])
            value = _plain(arr.ravel()[idx])
            location = where(idx) if where is not None else (f"index {idx}" if arr.ndim else "")
            raise FieldOverflowError(self.name, name, value, f.valid_text(), location)
        return arr.astype(np.uint64)

    def pack(self, columns: Mapping[str, Any], base: np.ndarray | None = None) -> np.ndarray:
        """Encode field columns into words; fields not given keep ``base``'s bits (or reset)."""
        unknown = set(columns) - {f.name for f in self.fields}
        if unknown:
            name = sorted(unknown)[0]
            raise UnknownNameError(f"field of register {self.name}", name, (f.name for f in self.fields))
        words = None if base is None else np.asarray(base, dtype=np.uint64).copy()
        for f in self.fields:
            if f.name in columns:
                col = self.check_field(f.name, columns[f.name])
            elif words is not None:
                continue
            else:
                col = np.uint64(f.reset)
            shifted = col << np.uint64(f.lsb)
            if words is None:
                words = np.broadcast_to(np.uint64(0), np.shape(shifted)).astype(np.uint64)
            words = (words & ~np.uint64(f.mask << f.lsb)) | shifted
        return np.asarray(words).astype(self.dtype)

    def unpack(self, words: Any) -> dict[str, np.ndarray]:
        """Decode words into one array per field."""
        w = np.asarray(words, dtype=np.uint64)
        return {f.name: ((w >> np.uint64(f.lsb)) & np.uint64(f.mask)) for f in self.fields}

    def unpack_field(self, words: Any, name: str) -> np.ndarray:
        f = self.field(name)
        return (np.asarray(words, dtype=np.uint64) >> np.uint64(f.lsb)) & np.uint64(f.mask)

    def check_words(self, words: Any) -> np.ndarray:
        """Validate raw words (expert writes): right shape, no bits outside the declared fields."""
        w = np.asarray(words)
        if w.dtype.kind not in "iu":
            raise FieldOverflowError(self.name, "<word>", _plain(w.flat[0]) if w.size else w, "unsigned integers")
        if w.shape != (self.count,):
            raise ConfigError(f"register {self.name}: expected {self.count} words, got shape {w.shape}")
        if np.any(w < 0):
            idx = int(np.flatnonzero(w < 0)[0])
            raise FieldOverflowError(self.name, "<word>", _plain(w[idx]), f"0..{hex((1 << self.width) - 1)}", f"address {hex(self.address + idx)}")
        used = sum(f.mask << f.lsb for f in self.fields)
        stray = np.asarray(w, dtype=np.uint64) & np.uint64(~used & ((1 << 64) - 1))
        if np.any(stray):
            idx = int(np.flatnonzero(stray)[0])
            raise FieldOverflowError(
                self.name, "<word>", hex(int(w[idx])), f"only bits of mask {hex(used)}", f"address {hex(self.address + idx)}"
            )
        return w.astype(self.dtype)


def _plain(value: Any) -> Any:
    """numpy scalar -> Python scalar, so messages read ``270`` and not ``np.int64(270)``."""
    return value.item() if isinstance(value, np.generic) else value


def _integer_array(values: Any, register: str, field: str, valid: str) -> np.ndarray:
    """``values`` as an integer (or bool-as-uint8) array, before any range check.

    Integral floats (e.g. 3.0 from a computation) are accepted; 3.5, NaN or a string raise
    :class:`FieldOverflowError` naming the first element and ``valid``.
    """
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if arr.dtype.kind in "iu":
        return arr
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise FieldOverflowError(register, field, _plain(arr.flat[0]) if arr.size else arr, valid)


# -- value registers ---------------------------------------------------------------------

_META = "hal_register_field"


def bits(width: int, *, reset: int = 0, access: Access = Access.READ_WRITE, doc: str = "") -> Any:
    """An unsigned integer field of ``width`` bits."""
    return attrs.field(
        default=reset,
        converter=_to_int,
        validator=_fits(width),
        metadata={_META: ("int", width, access, doc, None)},
    )


def flag(*, reset: bool = False, access: Access = Access.READ_WRITE, doc: str = "") -> Any:
    """A one-bit boolean field."""
    return attrs.field(
        default=bool(reset),
        converter=_to_bool,
        validator=_is_bool,
        metadata={_META: ("bool", 1, access, doc, None)},
    )


def choice(enum_type: type[enum.IntEnum], width: int, *, reset: enum.IntEnum, access: Access = Access.READ_WRITE, doc: str = "") -> Any:
    """A field holding one member of an :class:`enum.IntEnum`, encoded in ``width`` bits."""
    return attrs.field(
        default=reset,
        converter=_to_enum(enum_type),
        validator=_is_member(enum_type, width),
        metadata={_META: ("enum", width, access, doc, enum_type)},
    )


def _to_int(value):
    if isinstance(value, (bool, np.bool_)):
        return value  # rejected by the validator: a flag is not a number
    try:
        return operator.index(value)
    except TypeError:
        return value


def _to_bool(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    return value


def _to_enum(enum_type):
    def convert(value):
        if isinstance(value, enum_type):
            return value
        if isinstance(value, str) and value.upper() in enum_type.__members__:
            return enum_type[value.upper()]
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            try:
                return enum_type(int(value))
            except ValueError:
                return value
        return value

    return convert


def _owner(instance) -> str:
    reg = getattr(type(instance), "REGISTER", None)
    return reg.name if reg is not None else type(instance).__name__


def _fits(width: int):
    hi = (1 << width) - 1

    def validate(instance, attribute, value):
        if not isinstance(value, int) or isinstance(value, bool):
            raise FieldOverflowError(_owner(instance), attribute.name, value, f"an integer 0..{hi}")
        if not 0 <= value <= hi:
            raise FieldOverflowError(_owner(instance), attribute.name, value, f"0..{hi}")

    return validate


def _is_bool(instance, attribute, value):
    if not isinstance(value, bool):
        raise FieldOverflowError(_owner(instance), attribute.name, value, "True/False (or 0/1)")


def _is_member(enum_type, width):
    def validate(instance, attribute, value):
        if not isinstance(value, enum_type):
            names = ", ".join(f"{m.name}={m.value}" for m in enum_type)
            raise FieldOverflowError(_owner(instance), attribute.name, value, f"one of {names}")
        if value.value >= 1 << width:  # a declaration error, caught by tests
            raise FieldOverflowError(_owner(instance), attribute.name, value, f"0..{(1 << width) - 1}")

    return validate


class RegisterValue:
    """Base of the typed value classes; :func:`register` fills in ``REGISTER``."""

    REGISTER: ClassVar[Register]

    def to_word(self) -> int:
        word = 0
        for f, a in zip(self.REGISTER.fields, attrs.fields(type(self))):
            word |= int(getattr(self, a.name)) << f.lsb
        return word

    @classmethod
    def from_word(cls, word: int) -> RegisterValue:
        word = int(word)
        return cls.from_columns({f.name: (word >> f.lsb) & f.mask for f in cls.REGISTER.fields})

    @classmethod
    def from_columns(cls, values: Mapping[str, Any]) -> RegisterValue:
        kwargs = {}
        for a in attrs.fields(cls):
            kind = a.metadata[_META][0]
            v = int(values[a.name])
            kwargs[a.name] = bool(v) if kind == "bool" else v
        return cls(**kwargs)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.REGISTER.fields)


def register(*, name: str, count: int = 1, width: int = 32, doc: str = "", access: Access = Access.READ_WRITE,
             instance_resets: Mapping[int, Mapping[str, Any]] | None = None):
    """Class decorator: derive the register layout of an attrs value class.

    Fields are laid out from bit 0 upwards in declaration order. The address is
    assigned when the register is placed in a :class:`RegisterFile`. ``instance_resets``
    gives instances whose reset differs: ``{index: {field: value}}`` (other fields keep theirs).
    """

    def decorate(cls):
        fields = []
        lsb = 0
        for a in attrs.fields(cls):
            if _META not in a.metadata:
                raise ConfigError(f"{cls.__name__}.{a.name} is not declared with bits()/flag()/choice()")
            kind, fwidth, faccess, fdoc, _ = a.metadata[_META]
            reset = int(a.default)
            fields.append(Field(a.name, lsb, fwidth, reset, faccess, fdoc))
            lsb += fwidth
        cls.REGISTER = Register(name, 0, count, tuple(fields), width, doc or (cls.__doc__ or "").strip(), access)
        if instance_resets:  # the words come from the typed values, which need REGISTER's layout
            resets = tuple((int(index), cls(**values).to_word()) for index, values in sorted(instance_resets.items()))
            cls.REGISTER = attrs.evolve(cls.REGISTER, instance_resets=resets)
        return cls

    return decorate


# -- array registers ---------------------------------------------------------------------


@attrs.frozen
class ArrayRegister:
    """A bulk array of small unsigned integers packed ``per_word`` elements to a word.

    ``shape`` is the typed array's shape; its last axis is split into words, so it
    must be a multiple of ``per_word``. ``reset`` gives the typed array after reset.
    """

    name: str
    shape: tuple[int, ...]
    element_width: int
    per_word: int
    element_name: str = "value"
    axes: tuple[str, ...] = ()
    reset: Callable[[], np.ndarray] | None = None
    doc: str = ""
    access: Access = Access.READ_WRITE

    def describe_index(self, flat: int) -> str:
        """``"row 5, column 3"`` for a flat index into the typed array."""
        pos = np.unravel_index(flat, self.shape)
        names = self.axes or tuple(f"axis{i}" for i in range(len(self.shape)))
        return ", ".join(f"{n} {int(p)}" for n, p in zip(names, pos))

    def __attrs_post_init__(self):
        if len(self.axes) not in (0, len(self.shape)):
            raise ConfigError(f"array register {self.name}: {len(self.axes)} axis names for {len(self.shape)} axes")
        if self.shape[-1] % self.per_word:
            raise ConfigError(f"array register {self.name}: last axis {self.shape[-1]} not a multiple of {self.per_word}")

    @property
    def word_count(self) -> int:
        return int(np.prod(self.shape)) // self.per_word

    @property
    def words_per_row(self) -> int:
        return self.shape[-1] // self.per_word

    @property
    def element_dtype(self) -> np.dtype:
        return np.dtype(np.uint8) if self.element_width <= 8 else np.dtype(np.uint16)

    def as_register(self, address: int) -> Register:
        width = self.element_width * self.per_word
        fields = tuple(
            Field(f"{self.element_name}_{i}", i * self.element_width, self.element_width)
            for i in range(self.per_word)
        )
        return Register(self.name, address, self.word_count, fields, width, self.doc, self.access)

    def reset_array(self) -> np.ndarray:
        if self.reset is None:
            return np.zeros(self.shape, dtype=self.element_dtype)
        return np.asarray(self.reset(), dtype=self.element_dtype).reshape(self.shape)

    def check(self, values: Any, index_of: Callable[[int], str] | None = None, element_name: str | None = None) -> np.ndarray:
        """Validate typed values (any shape that broadcasts) and return them in the element dtype."""
        element = element_name or self.element_name
        hi = (1 << self.element_width) - 1
        arr = _integer_array(values, self.name, element, f"integers 0..{hi}")
        bad = (arr < 0) | (arr > hi)
        if np.any(bad):
            flat = int(np.flatnonzero(bad.ravel())[0])
            where = index_of(flat) if index_of else f"index {np.unravel_index(flat, arr.shape) if arr.ndim else ()}"
            raise FieldOverflowError(self.name, element, _plain(arr.ravel()[flat]), f"0..{hi}", where)
        return arr.astype(self.element_dtype)

    def to_words(self, array: np.ndarray) -> np.ndarray:
        """Typed array -> words (element ``i`` of a word sits at bits ``i*width``)."""
        a = np.asarray(array, dtype=np.uint64).reshape(-1, self.per_word)
        shifts = np.arange(self.per_word, dtype=np.uint64) * np.uint64(self.element_width)
        words = np.bitwise_or.reduce(a << shifts, axis=1)
        return words.astype(word_dtype(self.element_width * self.per_word))

    def from_words(self, words: np.ndarray) -> np.ndarray:
        w = np.asarray(words, dtype=np.uint64).reshape(-1, 1)
        shifts = np.arange(self.per_word, dtype=np.uint64) * np.uint64(self.element_width)
        mask = np.uint64((1 << self.element_width) - 1)
        return ((w >> shifts) & mask).astype(self.element_dtype).reshape(self.shape)


# -- register files ------------------------------------------------------------------------


@attrs.frozen
class RegisterFile:
    """The ordered register map of one chip type, with non-overlapping address ranges.

    ``kinds`` maps each register name to the value class or :class:`ArrayRegister`
    that declared it; ``registers`` maps it to the placed :class:`Register`.
    """

    chip: str
    registers: Mapping[str, Register]
    kinds: Mapping[str, Any]

    @classmethod
    def build(cls, chip: str, declarations: Sequence[Any], align: int = 0x1000) -> RegisterFile:
        """Place declarations one after another, each starting on an ``align`` boundary."""
        registers: dict[str, Register] = {}
        kinds: dict[str, Any] = {}
        address = 0
        for decl in declarations:
            if isinstance(decl, ArrayRegister):
                reg = decl.as_register(address)
            else:
                reg = attrs.evolve(decl.REGISTER, address=address)
                decl.REGISTER = reg  # the class now knows where it lives
            if reg.name in registers:
                raise ConfigError(f"{chip}: register {reg.name} declared twice")
            registers[reg.name] = reg
            kinds[reg.name] = decl
            address = -(-reg.end // align) * align
        return cls(chip, registers, kinds)

    def __getitem__(self, name: str) -> Register:
        try:
            return self.registers[name]
        except KeyError:
            raise UnknownNameError(f"{self.chip} register", name, self.registers) from None

    def __iter__(self):
        return iter(self.registers.values())

    def __len__(self) -> int:
        return len(self.registers)

    def names(self) -> tuple[str, ...]:
        return tuple(self.registers)

    def locate(self, address: int) -> tuple[Register, int]:
        """Map an absolute address to (register, instance index)."""
        for reg in self.registers.values():
            if reg.address <= address < reg.end:
                return reg, address - reg.address
        raise UnknownNameError(f"{self.chip} register address", hex(address), (hex(r.address) for r in self))

    def reset_words(self, name: str) -> np.ndarray:
        kind = self.kinds[name]
        if isinstance(kind, ArrayRegister):
            return kind.to_words(kind.reset_array())
        return self.registers[name].reset_words()

    def state_registers(self) -> Iterable[Register]:
        """Registers that hold configuration state (write-only command registers excluded)."""
        return (r for r in self.registers.values() if r.access is not Access.WRITE_ONLY)


def markdown_reference(register_files: Sequence[RegisterFile]) -> str:
    """A Markdown page listing every register and field (``docs/registers.md`` is generated by this)."""
    lines = [
        "# Register reference",
        "",
        "Generated from the declarations in `hal/hardware/` by `hal info registers --markdown`; do not edit by hand.",
        "Addresses are word addresses in the chip's register space; `count` instances occupy consecutive addresses.",
        "",
    ]
    for rf in register_files:
        lines += [f"## {rf.chip}", ""]
        for reg in rf:
            kind = rf.kinds[reg.name]
            label = "array register" if isinstance(kind, ArrayRegister) else f"`{kind.__name__}`"
            lines += [
                f"### `{reg.name}` ({label})",
                "",
                f"{reg.doc}" if reg.doc else "",
                "",
                f"address {hex(reg.address)}..{hex(reg.end - 1)}, count {reg.count}, width {reg.width} bits, access {reg.access.value}",
                "",
            ]
            if isinstance(kind, ArrayRegister):
                lines += [
                    f"Typed view: array of shape {kind.shape} ({', '.join(kind.axes)}), {kind.element_width}-bit elements, "
                    f"{kind.per_word} per word; element `i` of a word at bits `{kind.element_width}*i`.",
                    "",
                ]
                continue
            lines += ["| field | bits | reset | access | meaning |", "|---|---|---|---|---|"]
            for f in reg.fields:
                span = f"{f.lsb}" if f.width == 1 else f"{f.lsb + f.width - 1}:{f.lsb}"
                lines.append(f"| `{f.name}` | {span} | {f.reset} | {f.access.value} | {f.doc} |")
            lines.append("")
            if reg.instance_resets:
                lines += ["Instances with another reset word: " + ", ".join(f"{i}: {hex(w)}" for i, w in reg.instance_resets) + ".", ""]
    return "\n".join(lines).replace("\n\n\n", "\n\n")
