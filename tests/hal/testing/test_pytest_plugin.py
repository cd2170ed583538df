"""hal's pytest plugin, as a user's test suite sees it."""

from __future__ import annotations


def test_hal_backend_fixture_runs_over_the_named_backend(pytester):
    pytester.makepyfile(
        """
        import numpy as np
        import hal
        from hal.testing.networks import layered_network, poisson_experiment

        def test_runs(hal_backend):
            net = layered_network((2, 1), [np.array([[9, 9]])])
            rec = hal.run(poisson_experiment(net, np.full(2, 30.0)), hal_backend)
            assert rec.spike_counts.shape == (1, 3)

        def test_recording(hal_recording_backend):
            net = layered_network((2, 1), [np.array([[9, 9]])])
            hal.run(poisson_experiment(net, np.full(2, 30.0)), hal_recording_backend)
            assert any(w.register == "synapse_weight" for w in hal_recording_backend.write_log)
        """
    )
    result = pytester.runpytest_subprocess("--hal-backend", "reference", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_runs?reference? PASSED*"])


def test_unknown_backend_option_is_reported(pytester):
    pytester.makepyfile("def test_x(hal_backend):\n    pass\n")
    result = pytester.runpytest_subprocess("--hal-backend", "nope", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*unknown backend 'nope'*known: *reference*"])
