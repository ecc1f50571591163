"""The tray app with the benchmarks' timing probes: ``python benchmarks/_tray_probes.py -v`` is ``python -m tray -v``
plus a ``selector painted at <epoch>`` log line (logger ``benchmarks.probes``) in the idle pass after the region
selector's canvas is first exposed, i.e. once the frozen screen is drawn (benchmarks/hotkey_latency.py reads it).

The probe lives here, not in the app: this launcher wraps :class:`tray.ui.selector.RegionSelector` in a subclass
when the app first imports ``tray.ui.selector`` (at the first capture, as without the probe: importing it here would
put the selector and its imports into the idle app the benchmark measures), then runs the normal CLI.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger("benchmarks.probes")


def _wrap_selector(selector) -> None:
    class ProbedRegionSelector(selector.RegionSelector):
        def __init__(self, root, *args, **kwargs):
            super().__init__(root, *args, **kwargs)
            self.canvas.bind("<Expose>", lambda e: root.after_idle(
                lambda: log.info("selector painted at %.6f", time.time())), add="+")

    selector.RegionSelector = ProbedRegionSelector


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds ``tray.ui.selector`` like the normal path finder, and wraps it right after the module has run."""

    NAME = "tray.ui.selector"

    def find_spec(self, name, path, target=None):
        if name != self.NAME:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            run(module)
            _wrap_selector(module)

        spec.loader.exec_module = exec_module
        return spec


def install_probes() -> None:
    """Wrap the selector when it is first imported (at once if something imported it already)."""
    if _PatchOnImport.NAME in sys.modules:
        _wrap_selector(sys.modules[_PatchOnImport.NAME])
    else:
        sys.meta_path.insert(0, _PatchOnImport())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `import tray`, as `-m tray`
    install_probes()
    from tray.cli import main

    raise SystemExit(main())
