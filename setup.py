"""Build script for the compiled parts (Cython kernels).

Everything declarative lives in pyproject.toml; this file only lists the Cython
extensions, because setuptools has no declarative form for them. Compiler
directives are set once here; ``HAL_CYTHON_DEBUG=1`` turns the safety checks
back on for debugging, ``HAL_PORTABLE=1`` leaves out ``-march=native``.
"""

import os

from setuptools import setup

# (module name, source) for every Cython kernel in the project.
CYTHON_EXTENSIONS: list[tuple[str, str]] = [
    ("plugins.emulator._kernel", "plugins/emulator/_kernel.pyx"),
]


def _extensions():
    if not CYTHON_EXTENSIONS:
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    debug = os.environ.get("HAL_CYTHON_DEBUG") == "1"
    # Built for the CPU it is built on (the kernel's hot loop vectorises with its widest units);
    # HAL_PORTABLE=1 builds a wheel that runs on any x86-64.
    native = [] if os.environ.get("HAL_PORTABLE") == "1" else ["-march=native"]
    directives = {
        "language_level": "3",
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "cdivision": not debug,
    }
    extensions = [
        Extension(name, [source], include_dirs=[numpy.get_include()], extra_compile_args=["-O3", "-ffast-math", *native])
        for name, source in CYTHON_EXTENSIONS
    ]
    return cythonize(extensions, compiler_directives=directives)


setup(ext_modules=_extensions())
