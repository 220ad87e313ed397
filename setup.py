"""Build hook: copies the repo's top-level resources/ and pricing/ into the wheel.

They live at the top of the repo (fixed layout) but must travel inside the installed
package, so build_py places them under spendtray/_data/ where spendtray.paths finds them.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
# README images: documentation, not something the app loads.
LEAVE_OUT = shutil.ignore_patterns("screenshots")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "spendtray" / "_data"
        for name in ("resources", "pricing"):
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, target / name, dirs_exist_ok=True, ignore=LEAVE_OUT)


setup(cmdclass={"build_py": BuildWithData})
