"""Networks saved and loaded: exact round trips (property-based), per-projection scales, older files."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.errors import FileFormatError
from hal.network import SCHMITT2017, Network, Population, Projection, SourcePopulation, load_network, save_network

_scales = st.one_of(st.none(), st.floats(0.01, 2.0, allow_nan=False, allow_infinity=False))


@st.composite
def networks(draw) -> Network:
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    names = [f"p{i}" for i in range(len(sizes))]
    n_src = draw(st.integers(1, 5))
    pre_names = names + ["src"]
    size = dict(zip(names, sizes), src=n_src)
    projections = []
    for _ in range(draw(st.integers(0, 4))):
        pre, post = draw(st.sampled_from(pre_names)), draw(st.sampled_from(names))
        receptor = draw(st.sampled_from(["excitatory", "inhibitory"]))
        connector = draw(st.sampled_from(["all_to_all", "matrix", "list"]))
        scale = draw(_scales)
        if connector == "matrix":
            bits = np.array(draw(st.lists(st.integers(0, 15), min_size=size[pre] * size[post], max_size=size[pre] * size[post])))
            projections.append(Projection(pre, post, receptor, connector, weight_bits=bits.reshape(size[post], size[pre]),
                                          ns_per_weight_bit=scale))
        elif connector == "list":
            pairs = tuple(draw(st.lists(st.tuples(st.integers(0, size[pre] - 1), st.integers(0, size[post] - 1)), min_size=1, max_size=5)))
            projections.append(Projection(pre, post, receptor, connector, pairs=pairs, weight_bits=draw(st.integers(0, 15)),
                                          ns_per_weight_bit=scale))
        else:
            # weight_ns within 0..15 bits of the projection's own scale (or the network's 0.68)
            unit = 0.68 if scale is None else scale
            projections.append(Projection(pre, post, receptor, weight_ns=draw(st.integers(0, 15)) * unit, ns_per_weight_bit=scale))
    return Network([Population(n, s) for n, s in zip(names, sizes)], [SourcePopulation("src", n_src)], projections)


def _same(a: Network, b: Network) -> None:
    assert [(p.name, p.size, p.params) for p in a.populations] == [(p.name, p.size, p.params) for p in b.populations]
    assert [(s.name, s.size) for s in a.sources] == [(s.name, s.size) for s in b.sources]
    assert a.ns_per_weight_bit == b.ns_per_weight_bit
    assert len(a.projections) == len(b.projections)
    for p, q in zip(a.projections, b.projections):
        assert (p.pre, p.post, p.receptor, p.connector, p.ns_per_weight_bit) == (q.pre, q.post, q.receptor, q.connector, q.ns_per_weight_bit)
        pre, post = p.edges(a.size(p.pre), a.size(p.post))
        np.testing.assert_array_equal(p.bits(pre, post, a.ns_per_bit(p)), q.bits(pre, post, b.ns_per_bit(q)))
        assert (None if p.pairs is None else [tuple(x) for x in p.pairs]) == (None if q.pairs is None else [tuple(x) for x in q.pairs])


@settings(max_examples=40, deadline=None)
@given(net=networks())
def test_save_load_round_trip(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("net") / "net.json"
    save_network(net, path)
    loaded = load_network(path)
    _same(net, loaded)
    # Saving the loaded network writes the same file.
    again = path.with_name("again.json")
    save_network(loaded, again)
    assert again.read_text() == path.read_text()


def test_a_projection_without_its_own_scale_is_written_as_before(tmp_path):
    net = Network([Population("a", 2), Population("b", 2)], [],
                  [Projection("a", "b", weight_bits=3), Projection("a", "b", "inhibitory", weight_bits=3, ns_per_weight_bit=0.34)])
    save_network(net, tmp_path / "net.json")
    data = json.loads((tmp_path / "net.json").read_text())
    assert "ns_per_weight_bit" not in data["projections"][0]
    assert data["projections"][1]["ns_per_weight_bit"] == 0.34
    assert [p.ns_per_weight_bit for p in load_network(tmp_path / "net.json").projections] == [None, 0.34]


def test_files_from_before_per_projection_scales_still_load(tmp_path):
    # As hal wrote networks before projections had their own scale: no such key at all.
    params = attrs.asdict(SCHMITT2017)
    old = {"format": "hal-network", "version": 1, "populations": [{"name": "a", "size": 2, "params": params}, {"name": "b", "size": 2, "params": params}],
           "sources": [], "projections": [{"pre": "a", "post": "b", "receptor": "excitatory", "connector": "all_to_all",
                                           "pairs": None, "weight_bits": 3, "weight_ns": None}],
           "ns_per_weight_bit": 0.68}
    (tmp_path / "old.json").write_text(json.dumps(old))
    net = load_network(tmp_path / "old.json")
    assert net.projections[0].ns_per_weight_bit is None and net.ns_per_bit(net.projections[0]) == 0.68


def test_a_bad_scale_in_a_file_is_a_file_format_error(tmp_path):
    net = Network([Population("a", 2), Population("b", 2)], [], [Projection("a", "b", weight_bits=3, ns_per_weight_bit=0.34)])
    save_network(net, tmp_path / "net.json")
    data = json.loads((tmp_path / "net.json").read_text())
    data["projections"][0]["ns_per_weight_bit"] = -1.0
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(FileFormatError, match=r"bad\.json: invalid network: .*ns_per_weight_bit.*-1\.0"):
        load_network(tmp_path / "bad.json")
