"""NIR import and export: graphs of the neuromorphic intermediate representation in and out of hal.

::

    import nir, hal.nir
    imported = hal.nir.from_nir(nir.read("model.nir"))     # current-based NIR -> hal's conductance-based circuit
    mapped = hal.nir.MappedNIR.map(imported)                # hal's one mapper
    result = mapped.run(spikes, "emulator")                 # spikes: (samples, steps, inputs) of 0/1
    result.counts[imported.outputs[0]]                      # (samples, neurons) spike counts

* :func:`from_nir` -> :class:`ImportedNetwork` (:mod:`hal.nir.importer`), around an
  :class:`OperatingPoint` (:mod:`hal.nir.operating_point`: reversal potentials, the linearisation
  voltage, the time scale);
* :func:`to_nir` (:mod:`hal.nir.exporter`): a hal network as a NIR graph, exact hal terms in metadata;
* :class:`MappedNIR` (:mod:`hal.nir.run`): mapping and running an imported graph;
* :func:`simulate` (:mod:`hal.nir.simulate`): a graph as NIR defines it, the yardstick of the mapping's error.

The ``nir`` package is an optional extra (``interop``); without it these raise
:class:`MissingExtraError`. See ``docs/nir.md``.
"""

from hal.nir._extra import MissingExtraError
from hal.nir.exporter import linearised_weights, to_nir
from hal.nir.importer import DEFAULT_DT_S, ImportedNetwork, VoltageMap, from_nir
from hal.nir.operating_point import AUTO_TAU_M_MS, OperatingPoint
from hal.nir.run import MappedNIR, NIRResult
from hal.nir.simulate import simulate

__all__ = ["from_nir", "to_nir", "linearised_weights", "ImportedNetwork", "VoltageMap", "OperatingPoint", "AUTO_TAU_M_MS",
           "DEFAULT_DT_S", "MappedNIR", "NIRResult", "simulate", "MissingExtraError"]
