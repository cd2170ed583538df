"""Schmitt et al. 2017, "Neuromorphic hardware in the loop": the paper reproduced end to end.

One trial trains the software model, converts it to a 4-bit spiking network on a backend,
trains it in the loop and evaluates it; ``hal reproduce schmitt2017`` runs many trials on Dask
and writes a report and the paper's figures.

Modules
-------
- :mod:`.trial` -- the paper's numbers (:data:`PAPER`) and one trial (:func:`run_trial`);
- :mod:`.reproduce` -- many trials on Dask, resumable (:func:`.reproduce.reproduce`);
- :mod:`.report` -- ``report.json``: every trial's numbers, their summary, provenance (:func:`summarize`);
- :mod:`.figures` -- Figs. 8, 9 and 10 of the paper (:func:`write_figures`);
- :mod:`.command` -- the ``hal reproduce schmitt2017`` command line (registered by ``hal_trainers.plugin``).

Importing the package needs neither torch, Dask nor matplotlib: they are imported where used.
"""

from __future__ import annotations

from hal_trainers.schmitt2017.figures import write_figures
from hal_trainers.schmitt2017.report import summarize
from hal_trainers.schmitt2017.trial import FAST_OPTIONS, PAPER, run_trial, trial_backend_options

# Not re-exported here: the function ``reproduce``, which would hide its module's name
# (``hal_trainers.schmitt2017.reproduce``); import it from that module.
__all__ = ["FAST_OPTIONS", "PAPER", "run_trial", "summarize", "trial_backend_options", "write_figures"]
