"""Registers the trainers with hal (entry point ``hal: trainers``): ``ann``, ``conversion``, ``in_the_loop``, the
papers end to end (``schmitt2017``, ``cramer2020``), their ``hal reproduce`` commands, and ``hal data download``."""

from __future__ import annotations

import hal


def _ann(**hyperparameters):
    from hal_trainers.ann import ANNTrainer

    return ANNTrainer(**hyperparameters)


def _conversion(backend, weights_4bit, **options):
    from hal_trainers.conversion import SpikingNetwork

    return SpikingNetwork(backend if not isinstance(backend, str) else hal.get_backend(backend), weights_4bit, **options)


def _in_the_loop(backend, **hyperparameters):
    from hal_trainers.in_the_loop import InTheLoopTrainer

    return InTheLoopTrainer(backend if not isinstance(backend, str) else hal.get_backend(backend), **hyperparameters)


class _Cramer2020:
    """Cramer et al. 2020/2022 end to end (also ``hal reproduce cramer2020``)."""

    def run(self, **options):
        from hal_trainers.cramer2020.reproduce import reproduce

        return reproduce(**options)


class _Schmitt2017:
    """The paper end to end (also ``hal reproduce schmitt2017``)."""

    def run(self, **options):
        from hal_trainers.schmitt2017.reproduce import reproduce

        return reproduce(**options)


@hal.hookimpl
def hal_register_commands(registry) -> None:
    from hal_trainers import data_command
    from hal_trainers.cramer2020 import command as cramer2020
    from hal_trainers.schmitt2017 import command as schmitt2017

    registry.add("reproduce schmitt2017", schmitt2017.configure, description=schmitt2017.DESCRIPTION)
    registry.add("reproduce cramer2020", cramer2020.configure, description=cramer2020.DESCRIPTION)
    registry.add("data download", data_command.configure, description=data_command.DESCRIPTION)


@hal.hookimpl
def hal_register_trainers(registry) -> None:
    registry.add("schmitt2017", _Schmitt2017, description="Schmitt et al. 2017 end to end: trials on Dask, report.json and figures")
    registry.add("cramer2020", _Cramer2020, description="Cramer et al. 2020/2022 end to end: surrogate gradients, mock and "
                 "in-the-loop training; trials on Dask, report.json and figures")
    registry.add("ann", _ann, description="software model of Schmitt et al. 2017: 100-15-15-5 ReLU, momentum SGD (torch)")
    registry.add("conversion", _conversion, description="ANN -> 4-bit spiking network mapped onto a backend; Poisson pixel input")
    registry.add("in_the_loop", _in_the_loop, description="hardware-in-the-loop training: measured rates forward, ReLU gradient backward")
