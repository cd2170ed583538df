"""Build script: the package folders and the compiled parts (Cython kernels).

Everything declarative lives in pyproject.toml; this file holds what setuptools cannot say
there:

* The repository folders ``plugins/`` and ``trainers/`` install as the packages
  ``hal_plugins`` and ``hal_trainers``. Generic top-level names would collide with a user's
  own ``plugins`` folder (Jupyter and ``python -m`` put the working directory first on
  ``sys.path``) and with any other distribution that ships a ``plugins`` package.
* The Cython extensions. Compiler directives are set once here; ``HAL_CYTHON_DEBUG=1``
  turns the safety checks back on. The default build runs on any x86-64 (a virtual
  environment built on a cluster's login node is used by workers with other CPUs): the
  emulator's hot loop is compiled for AVX-512, AVX2 and the baseline in the same module and
  picked at run time; ``HAL_NATIVE=1`` adds ``-march=native`` for the machine it is built on.
* Floating point: fast-math's parts that cannot change a result (no errno, no traps, no
  infinities or NaNs, no signed zeros), but neither reassociation nor FMA contraction: with them
  the vectorised loop and its scalar variants round differently, and a sample's spikes would
  depend on its neighbours in a block and on the CPU (tests/plugins/emulator check that they do not).
"""

import os

from setuptools import find_packages, setup

#: installed package name -> repository folder
PACKAGE_DIRS = {"hal": "hal", "hal_plugins": "plugins", "hal_trainers": "trainers"}

# (module name, source) for every Cython kernel in the project.
CYTHON_EXTENSIONS: list[tuple[str, str]] = [
    ("hal_plugins.emulator._kernel", "plugins/emulator/_kernel.pyx"),
]


def _packages() -> list[str]:
    packages = []
    for name, folder in PACKAGE_DIRS.items():
        packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
    return packages


_FLOAT_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffinite-math-only", "-fno-signed-zeros", "-ffp-contract=off"]


def _extensions():
    if not CYTHON_EXTENSIONS:
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    debug = os.environ.get("HAL_CYTHON_DEBUG") == "1"
    native = ["-march=native"] if os.environ.get("HAL_NATIVE") == "1" else []
    directives = {
        "language_level": "3",
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "cdivision": not debug,
    }
    extensions = [
        Extension(name, [source], include_dirs=[numpy.get_include()], extra_compile_args=[*_FLOAT_FLAGS, *native])
        for name, source in CYTHON_EXTENSIONS
    ]
    return cythonize(extensions, compiler_directives=directives)


setup(packages=_packages(), package_dir={k: v for k, v in PACKAGE_DIRS.items() if k != v}, ext_modules=_extensions())
