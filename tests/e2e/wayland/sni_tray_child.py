"""Child process for the Wayland tray test: shows the Snaplark icon through the Linux tray adapter (which, in a
Wayland session, is a StatusNotifierItem via pystray's appindicator backend) and prints what happened:
``unavailable <reason>`` or ``started <pystray backend module>``; then runs until stdin closes."""

import sys

from PIL import Image

from tray_platform.linux import tray as adapter


def main() -> None:
    ok, reason = adapter.tray_host_available()
    if not ok:
        print(f"unavailable {reason}", flush=True)
        return
    pystray = adapter.import_pystray()
    icon = adapter.make_icon(pystray, "snaplark", Image.new("RGBA", (32, 32), (220, 40, 40, 255)), "Snaplark",
                             menu=pystray.Menu(pystray.MenuItem("Capture region", lambda: None, default=True)))
    thread = adapter.start(icon)
    print(f"started {type(icon).__mro__[1].__module__}", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    adapter.stop(icon, thread)


if __name__ == "__main__":
    main()
