"""Reading a mapping back: which synapses a mapping says it realised, and which the registers realise.

For tests of mappers (ours and users'): a mapping is right when the two agree,
``realised_edges(config, result) == expected_edges(network, result)``.
"""

from __future__ import annotations

from hal.netlist.wiring import extract_wiring

__all__ = ["expected_edges", "realised_edges"]


def expected_edges(network, result) -> dict:
    """(pre pop, pre, post pop, post, excitatory) -> 1 for every synapse the result calls realised (weight > 0)."""
    out = {}
    for j, proj in enumerate(network.projections):
        pre, post = proj.edges(network.size(proj.pre), network.size(proj.post))
        bits = proj.bits(pre, post, network.ns_per_weight_bit)
        hic = result.synapse_location[j][0]
        for a, b, w, h in zip(pre, post, bits, hic):
            if w > 0 and h >= 0:
                key = (proj.pre, int(a), proj.post, int(b), proj.receptor == "excitatory")
                out[key] = out.get(key, 0) + 1
    return out


def realised_edges(config, result):
    """(pre population, pre index, post population, post index, sign) -> weight, read back from the registers."""
    wiring = extract_wiring(config)
    neuron_id = {}
    for pop, placed in result.placement.items():
        for i, (h, denmems) in enumerate(placed):
            neuron_id[(h, denmems[0])] = (pop, i)
    post_of = [neuron_id[(n.hicann, n.firing)] for n in wiring.neurons]
    # Who sends what into which origin: neurons by (origin, address); sources by their input address.
    senders = {}
    for k, n in enumerate(wiring.neurons):
        if wiring.neuron_origin[k] >= 0:
            key = (int(wiring.neuron_origin[k]), n.address)
            if key in senders:
                raise AssertionError(f"two senders share address {n.address} on one bus (origin {wiring.origins[key[0]]!r})")
            senders[key] = post_of[k]
    origin_index = {(o.hicann, o.channel): i for i, o in enumerate(wiring.origins)}
    for name, addresses in result.source_address.items():
        for i, a in enumerate(addresses):
            if a is not None:
                key = (origin_index[(a.hicann, a.channel)], a.address)
                if key in senders:
                    raise AssertionError(f"source {name}[{i}] shares address {a.address} with another sender on its bus")
                senders[key] = (name, i)
    syn = wiring.synapses
    found = {}
    for o, addr, post, exc, g in zip(syn.origin, syn.address, syn.post, syn.excitatory, syn.conductance_ns):
        pre = senders.get((int(o), int(addr)))
        if pre is None:
            continue
        key = (*pre, *post_of[post], bool(exc))
        found[key] = found.get(key, 0) + 1
    return found
