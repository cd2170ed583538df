"""The analog side: biological <-> hardware domains, and the ideal chip's DAC -> parameter transfer functions."""

from hal.analog.domains import PAPER_DOMAINS, Domains
from hal.analog.transfer import NOMINAL, Transfer, nominal, nominal_inverse

__all__ = ["PAPER_DOMAINS", "Domains", "NOMINAL", "Transfer", "nominal", "nominal_inverse"]
