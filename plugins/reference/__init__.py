"""Reference (ground-truth) simulation of the networks the wafer emulates.

:mod:`hal_plugins.reference.integrator` integrates NEST's ``iaf_cond_exp`` model
accurately in pure numpy; ``docs/validation.md`` documents its error and its
agreement with NEST.
"""

__all__: list[str] = []
