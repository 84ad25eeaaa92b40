"""Build the optional C parts of the TiC reader; everything else is in pyproject.toml.

The extensions are optional: where no C compiler is present the install still
succeeds and the reader uses its pure-Python path (correct, slower).
"""

from setuptools import Extension, setup

HERE = "src/payerbrief/sources/tic/innetwork"
FLAGS = ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"]

setup(
    ext_modules=[
        Extension(
            f"payerbrief.sources.tic.innetwork.{name}",
            [f"{HERE}/{name}.c"],
            extra_compile_args=FLAGS,
            optional=True,
        )
        for name in ("_scan", "_flatten")
    ]
)
