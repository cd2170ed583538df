"""``hal map`` reaches the wafer: by default what the network needs up to all 384 HICANNs; --hicann, --rect and
--reticle restrict it (their union); bad sets are refused naming the value and what is valid; --json reports the bound."""

from __future__ import annotations

import json

import pytest

from hal import coordinates as C
from hal.cli import main
from hal.errors import ConfigError
from hal.mapping import MappingOptions
from hal.mapping.hicanns import DEFAULT_CHAIN, on_reticles, rectangle, wafer_order
from hal.network import Network, Population, Projection, SourcePopulation, save_network


@pytest.fixture
def big_network(tmp_path):
    """2,000 neurons of 4 circuits: at least 16 HICANNs, more than the 12 of the old default."""
    path = tmp_path / "big.json"
    net = Network([Population("a", 1000), Population("b", 1000)], [SourcePopulation("s", 10)],
                  [Projection("s", "a", connector="list", pairs=((0, 0), (1, 1)), weight_bits=5),
                   Projection("a", "b", connector="one_to_one", weight_bits=5)])
    save_network(net, path)
    return path


def _json(capsys, argv: list[str]) -> dict:
    assert main(["--log-level", "warning", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _error(capsys, argv: list[str]) -> str:
    """The one error line of a refused command (HalError: status 2 from main; argparse: SystemExit 2)."""
    try:
        code = main(["--log-level", "warning", *argv])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error: " in line]
    assert len(lines) == 1 and "Traceback" not in err
    return lines[0]


def test_wafer_order_holds_every_hicann_once_starting_with_the_default_chain():
    order = wafer_order()
    assert len(order) == len(set(order)) == 384 and order[:12] == DEFAULT_CHAIN == MappingOptions().hicanns
    assert [h.y for h in order[12:36]] == [7] * 24 and [h.y for h in order[36:108]] == [8] * 36 + [6] * 36


def test_rectangle_and_reticles():
    assert rectangle(12, 7, 13, 8) == tuple(C.HICANNOnWafer.from_xy(x, y) for y in (7, 8) for x in (12, 13))
    assert len(rectangle(0, 0, 35, 15)) == 384
    assert set(on_reticles([20])) == set(C.DNCOnWafer.all()[20].hicanns()) and len(on_reticles([20, 21])) == 16


def test_by_default_hal_map_uses_what_the_network_needs_beyond_twelve_hicanns(capsys, big_network):
    report = _json(capsys, ["map", str(big_network)])
    assert report["hicanns"] == 19 and report["synapses"] == 1002 and report["synapses_lost"] == 0
    # the old default chain first, then on along row 7 (the fed population keeps channels free for its sources)
    used = sorted(int(h) for h in report["per_hicann"])
    assert {h.enum for h in DEFAULT_CHAIN} <= set(used) and all(C.HICANNOnWafer(h).y == 7 for h in used)
    assert report["bound"] == {"synapses": 1002, "bound": 1002, "realised": 1002, "realised_of_bound": 1.0, "limited": {}}


def test_rect_and_reticle_restrict_the_hicanns(capsys, big_network):
    report = _json(capsys, ["map", str(big_network), "--rect", "12,6,21,7"])
    allowed = {h.enum for h in rectangle(12, 6, 21, 7)}
    assert report["hicanns"] == 19 and {int(h) for h in report["per_hicann"]} <= allowed
    report = _json(capsys, ["map", str(big_network), "--reticle", "19-21", "--hicann", "0"])
    allowed = {h.enum for h in on_reticles([19, 20, 21])} | {0}
    assert {int(h) for h in report["per_hicann"]} <= allowed


def test_a_set_too_small_names_the_hicanns_and_the_way_out(capsys, big_network):
    err = _error(capsys, ["map", str(big_network), "--reticle", "20"])
    hicanns = ", ".join(str(h.enum) for h in on_reticles([20]))
    assert err.startswith("hal: error: placement: 2000 neurons of 4 circuits")
    assert f"do not fit the 8 allowed HICANNs ({hicanns})" in err and "--hicann/--rect/--reticle" in err


@pytest.mark.parametrize("option, value, message", [
    ("--rect", "0,0,3,3", "HICANN rectangle x 0..3, y 0..3: no HICANN there (the wafer is round); valid: a rectangle that meets"),
    ("--rect", "0,0,36,3", "argument --rect: X1 36 out of range; valid X0,Y0,X1,Y1 with x 0..35, y 0..15"),
    ("--rect", "5,5,4,6", "argument --rect: '5,5,4,6' is an empty rectangle; valid X0,Y0,X1,Y1"),
    ("--rect", "1,2,3", "argument --rect: '1,2,3' is not a rectangle; valid X0,Y0,X1,Y1"),
    ("--rect", "a,2,3,4", "argument --rect: 'a' is not an integer; valid X0,Y0,X1,Y1"),
    ("--reticle", "48", "argument --reticle: 48 out of range; valid reticle enums 0..47"),
    ("--reticle", "3-1", "argument --reticle: '3-1' is an empty range; valid reticle enums 0..47"),
    ("--hicann", "384", "argument --hicann: 384 out of range; valid HICANN enums 0..383"),
])
def test_bad_hicann_sets_are_refused_with_what_is_valid(capsys, big_network, option, value, message):
    assert message in _error(capsys, ["map", str(big_network), option, value])


def test_all_hicanns_disabled_is_a_config_error_naming_them():
    with pytest.raises(ConfigError, match=r"MappingOptions.hicanns: all 2 \(168, 169\) are disabled \(defect list\); valid: HICANNs not on it"):
        MappingOptions(hicanns=DEFAULT_CHAIN[:2], disabled_hicanns=frozenset({168, 169}))


def test_router_and_merge_blocks_reach_the_mapper(capsys, tmp_path, monkeypatch):
    """--router and --merge-blocks become MappingOptions; a router hal does not have is refused by argparse, naming the choices."""
    import hal.mapping as mapping_package
    from hal.cli import mapping as cli_mapping

    seen = []
    real = mapping_package.map_network

    def spy(network, wafer, options):
        seen.append(options)
        return real(network, wafer, options)

    monkeypatch.setattr(mapping_package, "map_network", spy)
    path = tmp_path / "small.json"
    save_network(Network([Population("a", 20)], [SourcePopulation("s", 4)],
                         [Projection("s", "a", connector="all_to_all", weight_bits=5)]), path)
    _json(capsys, ["map", str(path), "--router", "negotiated", "--merge-blocks", "--route-work", "5000"])
    _json(capsys, ["map", str(path)])
    assert (seen[0].router, seen[0].merge_blocks, seen[0].route_work) == ("negotiated", True, 5000)
    assert (seen[1].router, seen[1].merge_blocks, seen[1].route_work) == (MappingOptions().router, False, MappingOptions().route_work)
    assert "invalid choice: 'pathfinder' (choose from 'greedy', 'negotiated')" in _error(capsys, ["map", str(path), "--router", "pathfinder"])
    assert cli_mapping.ROUTERS == mapping_package.ROUTERS
    assert "--route-work: -3 out of range; valid integers >= 0" in _error(capsys, ["map", str(path), "--route-work", "-3"])
    assert "--route-work: '1.5' is not an integer" in _error(capsys, ["map", str(path), "--route-work", "1.5"])
