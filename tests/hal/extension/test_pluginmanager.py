"""Plugins: registration through hooks and real entry points, duplicates, unknown names, blocking."""

from __future__ import annotations

import sys
import textwrap

import pytest

import hal
from hal.backend import Backend, Capabilities, RunResult
from hal.errors import PluginRegistrationError, UnknownPluginError
from hal.backend.events import HardwareEvents
from hal.extension.manager import Plugins, get_plugin_manager


class ToyBackend(Backend):
    name = "toy"
    capabilities = Capabilities()

    def _run(self, request):
        return RunResult(HardwareEvents.empty())


class ToyPlugin:
    @hal.hookimpl
    def hal_register_backends(self, registry):
        registry.add("toy", ToyBackend, description="does nothing")


@pytest.fixture
def pm():
    """A fresh manager without entry points."""
    return get_plugin_manager(load_entrypoints=False)


def test_registered_backend_is_created_by_name(pm):
    pm.register(ToyPlugin(), name="toy-plugin")
    plugins = Plugins(pm)
    assert plugins.names("backend") == ["toy"]
    backend = plugins.create("backend", "toy", wafer=3)
    assert isinstance(backend, ToyBackend) and backend.wafer == hal.coordinates.Wafer(3)
    reg = plugins.registrations("backend")["toy"]
    assert reg.distribution == "toy-plugin (registered directly)" and reg.description == "does nothing"


def test_unknown_name_lists_the_known_ones(pm):
    pm.register(ToyPlugin(), name="toy-plugin")
    with pytest.raises(UnknownPluginError) as info:
        Plugins(pm).create("backend", "tyo")
    assert str(info.value) == "unknown backend 'tyo'; did you mean 'toy'? known: toy"
    with pytest.raises(UnknownPluginError, match="unknown plugin kind 'backends'; did you mean 'backend'"):
        Plugins(pm).names("backends")


def test_two_plugins_claiming_one_name(pm):
    class Other:
        @hal.hookimpl
        def hal_register_backends(self, registry):
            registry.add("toy", ToyBackend)

    pm.register(ToyPlugin(), name="first")
    pm.register(Other(), name="second")
    with pytest.raises(PluginRegistrationError) as info:
        Plugins(pm).names("backend")
    assert "'toy' is claimed twice" in str(info.value)
    assert "first (registered directly)" in str(info.value) and "second (registered directly)" in str(info.value)


@pytest.mark.parametrize("name", ["Toy", "9lives", "", "a b"])
def test_invalid_names(pm, name):
    class Bad:
        @hal.hookimpl
        def hal_register_backends(self, registry):
            registry.add(name, ToyBackend)

    pm.register(Bad(), name="bad")
    with pytest.raises(PluginRegistrationError, match="is not valid"):
        Plugins(pm).names("backend")


def test_unknown_backend_option_is_an_error(pm):
    pm.register(ToyPlugin(), name="toy-plugin")
    with pytest.raises(hal.errors.ConfigError, match="backend 'toy': unknown option\\(s\\) speed"):
        Plugins(pm).create("backend", "toy", speed=3)


def _install_distribution(root, dist: str, module: str, source: str, entry_name: str) -> None:
    """A minimal installed distribution: a module plus .dist-info with an entry point in group 'hal'."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[hal]\n{entry_name} = {module}\n")


TOY_SOURCE = """
    import numpy as np
    import hal
    from hal.backend import Backend, Capabilities, RunResult
    from hal.backend.events import HardwareEvents
    from hal.netlist.wiring import extract_wiring

    class EchoBackend(Backend):
        '''Every recorded neuron fires once per sample, 1 ms after the start.'''
        name = "echo"
        capabilities = Capabilities()

        def _run(self, request):
            wiring = extract_wiring(self.wafer_config())
            rows = []
            for s in range(request.n_samples):
                for k, n in enumerate(wiring.neurons):
                    if wiring.recorded[k]:
                        o = wiring.origins[wiring.neuron_origin[k]]
                        rows.append((s, 25, n.hicann.enum, o.channel, n.address))
            cols = list(zip(*rows)) if rows else [[]] * 5
            return RunResult(HardwareEvents(*[np.array(c) for c in cols]))

    @hal.hookimpl
    def hal_register_backends(registry):
        registry.add("echo", EchoBackend, description="test backend")
"""


def test_backend_from_a_real_entry_point_runs_an_experiment(tmp_path, monkeypatch):
    _install_distribution(tmp_path, "echo-backend", "echo_backend_plugin", TOY_SOURCE, "echo")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = Plugins(get_plugin_manager())
    reg = plugins.registrations("backend")
    assert {"echo", "reference"} <= set(reg)
    assert reg["echo"].distribution == "echo-backend" and reg["echo"].version == "1.0"
    assert reg["reference"].distribution == "wafer-hal"

    from hal.testing.networks import layered_network, poisson_experiment
    import numpy as np

    net = layered_network((3, 2), [np.array([[5, -5, 0], [0, 7, 7]])])
    recording = hal.run(poisson_experiment(net, np.full(3, 10.0)), plugins.create("backend", "echo"), plugins=plugins)
    assert recording.spike_counts.tolist() == [[1, 1, 1, 1, 1]]
    assert np.allclose(recording.spikes(0)[0], 0.04 * 25)
    sys.modules.pop("echo_backend_plugin", None)


def test_two_distributions_claiming_one_name_are_both_named(tmp_path, monkeypatch):
    source = """
        import hal
        from hal_plugins.reference.backend import ReferenceBackend

        @hal.hookimpl
        def hal_register_backends(registry):
            registry.add("reference", ReferenceBackend)
    """
    _install_distribution(tmp_path, "impostor-backend", "impostor_plugin", source, "impostor")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginRegistrationError) as info:
        Plugins(get_plugin_manager()).names("backend")
    message = str(info.value)
    assert "wafer-hal" in message and "impostor-backend" in message
    # Blocking one of them resolves it.
    monkeypatch.setenv("HAL_DISABLE_PLUGINS", "impostor")
    assert "reference" in Plugins(get_plugin_manager()).names("backend")
    sys.modules.pop("impostor_plugin", None)


def test_observer_hooks_see_every_run(pm):
    seen = []

    class Observer:
        @hal.hookimpl
        def hal_before_run(self, backend, request):
            seen.append(("before", backend.name, request.n_samples))

        @hal.hookimpl
        def hal_after_run(self, backend, request, result):
            seen.append(("after", backend.name, len(result.trace)))

    pm.register(Observer(), name="observer")
    from hal.testing.fakes import RecordingBackend
    from hal.testing.networks import layered_network, poisson_experiment
    import numpy as np

    net = layered_network((2, 1), [np.array([[3, 3]])])
    hal.run(poisson_experiment(net, np.full((3, 2), 5.0)), RecordingBackend(), plugins=Plugins(pm))
    assert seen == [("before", "recording", 3), ("after", "recording", 0)]


def test_every_hookspec_is_documented_with_its_signature():
    import inspect
    import pathlib

    from hal.extension import hookspecs

    page = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "plugins.md").read_text()
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("hal_"):
            signature = f"{name}{inspect.signature(fn)}"
            assert signature.replace("'", "") in page, f"docs/plugins.md lacks `{signature}`"
