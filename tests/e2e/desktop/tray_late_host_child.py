"""Child process for test_desktop_tray_nohost: a TrayIcon started with no tray host (GTK gets its own process,
since a process can show one tray icon in its life). Protocol on stdout: one JSON line after start; then on each
"check" line from stdin, one JSON line with check_host()."""

import json
import sys

from tray.ui.tray_icon import TrayIcon


class Commands:
    def __getattr__(self, name):
        return lambda *a: print(json.dumps({"ran": name}), flush=True)


told = []
icon = TrayIcon(Commands(), lambda fn: fn(), capture_hotkey="Ctrl+Alt+S", on_unavailable=told.append)
started = icon.start()
print(json.dumps({"started": started, "available": icon.available, "reason": icon.unavailable_reason,
                  "told": told}), flush=True)
for line in sys.stdin:
    if line.strip() == "check":
        print(json.dumps({"host": icon.check_host(), "available": icon.available, "told": told}), flush=True)
    elif line.strip() == "quit":
        break
icon.stop()
