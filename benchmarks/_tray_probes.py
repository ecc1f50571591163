"""The tray app with the benchmarks' timing probes: ``python benchmarks/_tray_probes.py -v`` is ``python -m tray -v``
plus a ``selector painted at <epoch>`` log line (logger ``benchmarks.probes``) in the idle pass after the region
selector's canvas is first exposed, i.e. once the frozen screen is drawn (benchmarks/hotkey_latency.py reads it).

The probe lives here, not in the app: this launcher wraps :class:`tray.ui.selector.RegionSelector` in a subclass
before the app starts (the tray imports the selector class when a capture starts), then runs the normal CLI.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

log = logging.getLogger("benchmarks.probes")


def install_probes() -> None:
    from tray.ui import selector

    class ProbedRegionSelector(selector.RegionSelector):
        def __init__(self, root, *args, **kwargs):
            super().__init__(root, *args, **kwargs)
            self.canvas.bind("<Expose>", lambda e: root.after_idle(
                lambda: log.info("selector painted at %.6f", time.time())), add="+")

    selector.RegionSelector = ProbedRegionSelector


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `import tray`, as `-m tray`
    install_probes()
    from tray.cli import main

    raise SystemExit(main())
