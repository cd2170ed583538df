"""Hook specifications: how plugins extend hal.

Plugins are modules or objects with functions marked ``@hal.hookimpl`` and
registered under the entry-point group ``hal`` (``[project.entry-points.hal]``
in their ``pyproject.toml``). hal's own backends and trainers are registered the
same way. Every hook is called with keyword arguments only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from hal.backend import Backend, RunRequest, RunResult
    from hal.extension.registry import Registry

__all__ = ["hookspec", "hookimpl", "PROJECT"]

PROJECT = "hal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def hal_register_backends(registry: Registry) -> None:
    """Register backends by name.

    Called once when a plugin manager first lists or creates backends. Call
    ``registry.add(name, factory, description=...)`` for each backend, where
    ``factory(**options)`` returns a :class:`hal.backend.Backend`. Import heavy
    dependencies (compiled kernels) inside the factory, not at module level, so
    that listing plugins works even when they are not built.

    :param registry: collects the registrations of this plugin; a name already
        taken by another distribution raises :class:`hal.errors.PluginRegistrationError`.
    :return: nothing.

    .. versionadded:: 0.1
    """


@hookspec
def hal_register_trainers(registry: Registry) -> None:
    """Register trainers by name; as :func:`hal_register_backends`, with ``factory(backend=..., **hyperparameters)``.

    :param registry: collects the registrations of this plugin.
    :return: nothing.

    .. versionadded:: 0.1
    """


@hookspec
def hal_register_calibrations(registry: Registry) -> None:
    """Register calibration routines by name; as :func:`hal_register_backends`.

    :param registry: collects the registrations of this plugin.
    :return: nothing.

    .. versionadded:: 0.1
    """


@hookspec
def hal_register_commands(registry: Registry) -> None:
    """Register ``hal`` sub-commands by name.

    Called once when the ``hal`` command line builds its parser. Call
    ``registry.add(name, configure, description=...)``: ``name`` is the command's words
    (``"bench"``, or ``"reproduce schmitt2017"`` for a command under a group), ``description``
    its one-line help, and ``configure(parser)`` adds the arguments to the
    :class:`argparse.ArgumentParser` hal made for it and returns the handler, a callable that
    takes the parsed arguments and returns the exit code. A handler raises
    :class:`hal.errors.HalError` for a user's mistake (the command line prints it and exits 2).
    Import heavy dependencies inside the handler, so that ``hal --help`` stays fast.

    :param registry: collects the registrations of this plugin.
    :return: nothing.

    .. versionadded:: 0.2
    """


@hookspec
def hal_before_run(backend: Backend, request: RunRequest) -> None:
    """Observe a run before it starts (after the capability check). Must not modify its arguments.

    :param backend: the backend about to run.
    :param request: the playback and recording request.
    :return: nothing.

    .. versionadded:: 0.1
    """


@hookspec
def hal_after_run(backend: Backend, request: RunRequest, result: RunResult) -> None:
    """Observe a finished run (e.g. to log or collect provenance). Must not modify its arguments.

    :param backend: the backend that ran.
    :param request: the request it ran.
    :param result: what it returned.
    :return: nothing.

    .. versionadded:: 0.1
    """
