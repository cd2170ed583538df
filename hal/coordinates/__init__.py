"""Coordinates of the BrainScaleS-1 wafer and its HICANN chips.

Every coordinate is a small frozen value: hashable, ordered by its linear
index, and validated when it is built. Names follow the ``XOnY`` convention of
the BrainScaleS software (``NeuronOnHICANN`` is a neuron relative to one
HICANN), conversions are ``to_<thing>()`` methods, and every enumerable type
offers

* ``size`` -- the number of instances (class attribute),
* ``all()`` -- every instance, in enum order (cached),
* ``enum`` -- the linear index of an instance, ``0 .. size - 1``,
* ``from_enum(i)`` -- the inverse of ``enum`` (validated).

Invalid values raise :class:`hal.errors.CoordinateError`, whose message names
the type, the field, the value and what is valid, for example
``NeuronOnHICANN.x: 270 out of range; valid 0..255``. Values are never
wrapped or clamped.

Sources
-------
The geometry, the lookup tables and the L1 connectivity formulas follow the
public ``electronicvisions/halco`` repository (``include/halco/hicann/v2/*.h``,
``src/halco/hicann/v2/{hicann,l1,synapse,neuron,lookup_tables}.cpp``); the
numbers are restated here as data, see ``/work/shared/HARDWARE_FACTS.md``
sections 1-5. Where this package deliberately differs from halco (an enum
order, a numbering) the class docstring says so.

Ordering is by ``enum`` for every type (not by field tuple, which is what
``attrs`` ``order=True`` would give), so that ``sorted(T.all()) == T.all()``
holds even for types such as ``NeuronOnHICANN`` whose enum is column-minor.

Modules
-------
This package only re-exports; import from ``hal.coordinates``. The types are
defined in modules that import each other in one direction only:
``_base`` (halco tables, base classes) -> ``wafer`` -> ``input``
(:class:`InputAddress`), and ``_base`` -> ``l1`` (lines, repeaters, crossbar,
mergers, links, L1 addresses) -> ``neurons`` (denmems, floating gates,
background generators, synapse columns) -> ``synapses`` (drivers, rows,
synapses, synaptic inputs, VLine -> driver switches).
"""

from __future__ import annotations

from hal.coordinates.input import InputAddress
from hal.coordinates.l1 import (
    AnalogOnHICANN,
    CrossbarSwitchOnHICANN,
    DNCMergerOnHICANN,
    GbitLinkOnHICANN,
    HLineOnHICANN,
    HRepeaterOnHICANN,
    L1Address,
    MergerOnHICANN,
    RepeaterBlockOnHICANN,
    SendingRepeaterOnHICANN,
    VLineOnHICANN,
    VRepeaterOnHICANN,
)
from hal.coordinates.neurons import (
    BackgroundGeneratorOnHICANN,
    FGBlockOnHICANN,
    FGCellOnFGBlock,
    FGRowOnFGBlock,
    NeuronBlockOnHICANN,
    NeuronOnHICANN,
    QuadOnHICANN,
)
from hal.coordinates.synapses import (
    SynapseColumnOnHICANN,
    SynapseDriverOnHICANN,
    SynapseOnHICANN,
    SynapseRowOnHICANN,
    SynapseSwitchOnHICANN,
    SynapticInputOnNeuron,
)
from hal.coordinates.wafer import (
    DNCOnWafer,
    FPGAOnWafer,
    HICANNOnDNC,
    HICANNOnWafer,
    HighspeedLinkOnDNC,
    ReticleOnWafer,
    Wafer,
)

__all__ = [
    "InputAddress",
    # wafer level
    "Wafer",
    "DNCOnWafer",
    "ReticleOnWafer",
    "HICANNOnWafer",
    "HICANNOnDNC",
    "HighspeedLinkOnDNC",
    "FPGAOnWafer",
    # neurons and floating gates
    "NeuronOnHICANN",
    "QuadOnHICANN",
    "NeuronBlockOnHICANN",
    "FGBlockOnHICANN",
    "FGRowOnFGBlock",
    "FGCellOnFGBlock",
    # synapses
    "SynapseDriverOnHICANN",
    "SynapseRowOnHICANN",
    "SynapseColumnOnHICANN",
    "SynapseOnHICANN",
    "SynapticInputOnNeuron",
    # L1 routing
    "HLineOnHICANN",
    "VLineOnHICANN",
    "HRepeaterOnHICANN",
    "VRepeaterOnHICANN",
    "RepeaterBlockOnHICANN",
    "CrossbarSwitchOnHICANN",
    "SynapseSwitchOnHICANN",
    "SendingRepeaterOnHICANN",
    "MergerOnHICANN",
    "DNCMergerOnHICANN",
    "GbitLinkOnHICANN",
    "BackgroundGeneratorOnHICANN",
    "AnalogOnHICANN",
    "L1Address",
]
