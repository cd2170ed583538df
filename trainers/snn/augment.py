"""Data augmentation for training: random small shifts, affine or elastic distortions of the images, drawn reproducibly.

A network trained on MNIST's centred digits learns their exact pixel positions; shifting each
training image by a pixel or two (zeros fill the edge it leaves) makes it learn the strokes
instead (the standard remedy for the gap between training and test accuracy). The shifts are
drawn from a generator the caller seeds, so a resumed training draws the same ones.
"""

from __future__ import annotations

import attrs
import numpy as np

from hal.errors import ConfigError, ConfigValueError, UnknownNameError

__all__ = ["shift_images", "square_side", "Distortion", "as_distortion", "distort_images", "elastic_field"]


def square_side(pixels: int) -> int | None:
    """The side of a square image of ``pixels`` pixels, or None when ``pixels`` is not a square."""
    side = int(round(np.sqrt(pixels)))
    return side if side * side == pixels else None


def shift_images(x: np.ndarray, side: int, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image of ``x`` (samples, side * side) moved by its own (dy, dx), each uniform in
    ``-max_shift..max_shift`` pixels; returns a new array, ``x`` is unchanged."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != side * side:
        raise ConfigError(f"shift_images: images of shape {x.shape}; expected (samples, {side * side}) for {side}x{side} images")
    if max_shift == 0 or len(x) == 0:
        return x.copy()
    n = len(x)
    padded = np.pad(x.reshape(n, side, side), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, n))
    # Output pixel (r, c) is input pixel (r - dy, c - dx): a positive dy moves the image down.
    rows = np.arange(side)[None, :] + max_shift - dy[:, None]
    cols = np.arange(side)[None, :] + max_shift - dx[:, None]
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, side * side)


def _in_range(name: str, low: float, high: float, what: str, *, zero_is_off: bool = True):
    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
            raise ConfigValueError("Distortion", name, value, f"{low:g}..{high:g} ({what}{'; 0: off' if zero_is_off else ''})")
    return check


@attrs.frozen
class Distortion:
    """A random affine distortion of training images, drawn per image: a rotation uniform in
    ``+-rotate_deg`` degrees, a scaling uniform in ``1 +- scale`` (each axis on its own), a shift
    uniform in ``+-shift_px`` pixels (each axis; fractions allowed), about the image's centre.

    ``elastic_px`` adds an elastic distortion on top (Simard et al. 2003, the classic one for
    handwriting): every pixel moves by a random displacement whose two components are smooth
    Gaussian fields (correlation length ``elastic_sigma_px``) with a root-mean-square of
    ``elastic_px`` pixels -- a writer's wobble, which an affine map cannot express.

    Sub-pixel moves matter on a small image: one pixel of a 16x16 digit is almost two of the
    28x28 original, so whole-pixel shifts distort more than the writers differ.
    """

    rotate_deg: float = attrs.field(default=0.0, validator=_in_range("rotate_deg", 0.0, 45.0, "degrees"))
    scale: float = attrs.field(default=0.0, validator=_in_range("scale", 0.0, 0.5, "a fraction of the size"))
    shift_px: float = attrs.field(default=0.0, validator=_in_range("shift_px", 0.0, 4.0, "pixels"))
    elastic_px: float = attrs.field(default=0.0, validator=_in_range("elastic_px", 0.0, 4.0, "pixels, root-mean-square"))
    elastic_sigma_px: float = attrs.field(default=2.0, validator=_in_range("elastic_sigma_px", 0.5, 16.0, "pixels, the field's smoothness",
                                                                           zero_is_off=False))

    @property
    def active(self) -> bool:
        return bool(self.rotate_deg or self.scale or self.shift_px or self.elastic_px)

    def settings(self) -> dict:
        """The fields as a dict, the elastic ones only where elastic is on (a checkpoint's record of
        its training: those written before the elastic fields existed stay comparable)."""
        fields = attrs.asdict(self)
        if not self.elastic_px:
            del fields["elastic_px"], fields["elastic_sigma_px"]
        return fields


def elastic_field(n: int, side: int, sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """(2, n, side, side) smooth random displacements with unit variance at every pixel.

    White noise smoothed by a Gaussian of ``sigma_px`` along each axis (zeros beyond the image);
    each pixel's variance is known exactly from the kernel, so the division makes every pixel's
    displacement -- border ones included -- a standard normal variable.
    """
    k = np.arange(side)
    g = np.exp(-((k[:, None] - k[None, :]) ** 2) / (2 * sigma_px ** 2))
    std = np.sqrt(np.outer((g ** 2).sum(1), (g ** 2).sum(1)))
    noise = rng.standard_normal((2, n, side, side))
    return np.einsum("ij,abjk,lk->abil", g, noise, g) / std


def as_distortion(value) -> Distortion | None:
    """A distortion setting as given: None (off), a Distortion, or its fields as a dict (JSON of a trial setting)."""
    if value is None or isinstance(value, Distortion):
        return value
    fields = [f.name for f in attrs.fields(Distortion)]
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise UnknownNameError("Distortion field", unknown[0], fields)
        return Distortion(**value)
    raise ConfigValueError("Trainer", "augment_distortion", value, f"None, a Distortion, or a dict of {', '.join(fields)}")


def distort_images(x: np.ndarray, side: int, distortion: Distortion, rng: np.random.Generator) -> np.ndarray:
    """Each image of ``x`` (samples, side * side) under its own draw of ``distortion``, resampled
    bilinearly (zeros outside the image); returns a new float32 array, ``x`` is unchanged."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != side * side:
        raise ConfigError(f"distort_images: images of shape {x.shape}; expected (samples, {side * side}) for {side}x{side} images")
    n = len(x)
    if not distortion.active or n == 0:
        return x.astype(np.float32, copy=True)
    angle = np.deg2rad(rng.uniform(-distortion.rotate_deg, distortion.rotate_deg, n))
    zoom = rng.uniform(1 - distortion.scale, 1 + distortion.scale, (2, n))
    shift = rng.uniform(-distortion.shift_px, distortion.shift_px, (2, n))
    # Each output pixel samples the input where the inverse transform takes it: out = R S (in - c) + c + t.
    centre = (side - 1) / 2
    r, c = np.meshgrid(np.arange(side) - centre, np.arange(side) - centre, indexing="ij")
    r = r.ravel()[None, :] - shift[0][:, None]
    c = c.ravel()[None, :] - shift[1][:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    src_r = (cos * r + sin * c) / zoom[0][:, None] + centre
    src_c = (-sin * r + cos * c) / zoom[1][:, None] + centre
    if distortion.elastic_px:
        # drawn after the affine parts, so an affine distortion's draws are those it always had
        moved = distortion.elastic_px * elastic_field(n, side, distortion.elastic_sigma_px, rng).reshape(2, n, side * side)
        src_r, src_c = src_r + moved[0], src_c + moved[1]
    padded = np.pad(x.reshape(n, side, side).astype(np.float32), ((0, 0), (1, 1), (1, 1)))
    r0 = np.floor(src_r).astype(np.int64)
    c0 = np.floor(src_c).astype(np.int64)
    fr = (src_r - r0).astype(np.float32)
    fc = (src_c - c0).astype(np.float32)
    rows = np.arange(n)[:, None]

    def at(rr, cc):
        # one pixel of zeros around the image; anything further out reads that border
        return padded[rows, np.clip(rr + 1, 0, side + 1), np.clip(cc + 1, 0, side + 1)]

    out = ((1 - fr) * (1 - fc) * at(r0, c0) + (1 - fr) * fc * at(r0, c0 + 1)
           + fr * (1 - fc) * at(r0 + 1, c0) + fr * fc * at(r0 + 1, c0 + 1))
    # a weighted mean of the input's pixels and the zeros around them, but float rounding can step an ulp past that range
    return np.clip(out, min(x.min(), 0), max(x.max(), 0)).astype(np.float32)
