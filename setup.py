"""Build hook: a wheel carries the top-level resources/ as ``echogen_desktop/_resources/``.

resources/ stays at the repository's top level, where the frozen builds (packaging/), the packaging
tools and a source checkout read it; only a built package gets this copy, which
``echogen_desktop/resources.py`` looks for first. Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's resources/ directly
        target = Path(self.build_lib) / "echogen_desktop" / "_resources"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "resources", target)


setup(cmdclass={"build_py": BuildWithResources})
