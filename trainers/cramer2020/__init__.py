"""Cramer et al. (2020; PNAS 2022), "Surrogate gradients for analog neuromorphic computing", on hal.

:mod:`.trial` runs one trial (mock training on the twin, transfer, in-the-loop training).
"""
