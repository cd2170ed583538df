"""From registers back to a network: the wiring read back from a configuration, the netlist a
simulating backend integrates, and the biological parameters of its circuits."""

from hal.netlist.build import Netlist, background_trains, build_netlist, trace_events
from hal.netlist.wiring import LogicalNeuron, Origin, SynapseTable, Wiring, extract_wiring

__all__ = ["Netlist", "background_trains", "build_netlist", "trace_events",
           "LogicalNeuron", "Origin", "SynapseTable", "Wiring", "extract_wiring"]
