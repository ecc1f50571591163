"""A throwaway X desktop for benchmarks: Xvfb (any size), a desktop-like root background, a tray host (trayer),
a private session D-Bus with an unlocked gnome-keyring (tests.integration.keyring_session.private_keyring), and
the tray app started the way tests/e2e/test_desktop_app.py starts it (temp config/data/log dirs, embedded server on
a free port, countdown 0). Every wait is bounded; every process started here is stopped here.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def xvfb(width: int = 1920, height: int = 1080) -> Iterator[str]:
    """Start ``Xvfb`` on a free display (``-displayfd``: it tells us the number once it accepts clients)."""
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten",
                             "tcp", "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        import select

        ready, _, _ = select.select([r], [], [], 30)
        number = os.read(r, 32).decode().strip() if ready else ""
        if not number:
            raise RuntimeError("Xvfb did not report a display within 30 s")
        yield f":{number}"
    finally:
        os.close(r)
        stop_process(proc)


def desktop_background(width: int, height: int):
    """Something screen-like (deterministic): a gradient wallpaper, a few 'windows' with title bars, text lines
    and a photo-ish noisy area. PNG size/compression time depend on content, so both sides of a ratio grab this."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(7)
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img = Image.merge("RGB", (img.getchannel(0), Image.linear_gradient("L").rotate(90).resize((width, height)),
                              Image.new("L", (width, height), 140)))
    d = ImageDraw.Draw(img)
    for i in range(5):
        x0, y0 = rng.randrange(0, width - 700), rng.randrange(40, height - 450)
        x1, y1 = x0 + rng.randrange(450, 700), y0 + rng.randrange(300, 450)
        d.rectangle((x0, y0, x1, y1), fill=(250, 250, 250), outline=(90, 90, 90))
        d.rectangle((x0, y0, x1, y0 + 28), fill=(50 + 30 * i, 60, 90))
        d.text((x0 + 10, y0 + 8), f"Window {i} - Snaplark benchmark", fill=(255, 255, 255))
        for line in range(y0 + 40, y1 - 20, 16):
            words = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(2, 9)))
                             for _ in range(rng.randrange(3, 12)))
            d.text((x0 + 12, line), words, fill=(20, 20, 20))
    noise = Image.effect_noise((400, 260), 60).convert("RGB").filter(ImageFilter.GaussianBlur(1.5))
    img.paste(noise, (width - 460, height - 330))
    return img


def set_root_background(env: dict, work: Path, width: int, height: int) -> None:
    path = work / "background.png"
    desktop_background(width, height).save(path)
    # ImageMagick `display` sets the root window's pixmap and exits (status 1 without a window manager)
    subprocess.run(["display", "-window", "root", str(path)], timeout=60, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_trayer(env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                             "--height", "32", "--SetDockType", "true"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: "trayer" in subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                                                  env=env, timeout=10).stdout, 15, "trayer panel", 0.1)
    return proc


def start_dunst(env: dict) -> subprocess.Popen:
    from tests.integration.keyring_session import _name_has_owner

    proc = subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: proc.poll() is not None or _name_has_owner(env["DBUS_SESSION_BUS_ADDRESS"],
                                                                  "org.freedesktop.Notifications"),
               15, "dunst on the session bus", 0.05)
    if proc.poll() is not None:
        raise RuntimeError(f"dunst exited with {proc.returncode}")
    return proc


@contextlib.contextmanager
def desktop_session(work: Path, width: int = 1920, height: int = 1080) -> Iterator[dict]:
    """Xvfb + background + D-Bus/keyring + trayer; yields the environment for child processes (DISPLAY set)."""
    from tests.integration.keyring_session import private_keyring

    work.mkdir(parents=True, exist_ok=True)
    with xvfb(width, height) as display, private_keyring(work / "keyring") as env:
        env = dict(env)
        env.update(DISPLAY=display, PYSTRAY_BACKEND="gtk", PYTHONPATH=str(REPO), NO_AT_BRIDGE="1")
        set_root_background(env, work, width, height)
        # a real notification daemon (D-Bus activation would start it without DISPLAY, and it would die)
        dunst = start_dunst(env)
        trayer = None
        try:
            trayer = start_trayer(env)
            yield env
        finally:
            stop_process(trayer)
            stop_process(dunst)


class AppProcess:
    """``python -m tray -v`` with its own config/data/log dirs under ``work``; output goes to ``work/app.out``.
    ``probes``: started through ``benchmarks/_tray_probes.py`` instead (the same app plus timing log lines)."""

    def __init__(self, env: dict, work: Path, *, probes: bool = False):
        self.work = work
        cfg = work / "cfg" / "config.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(f"schema_version = 2\n[server]\nembedded_port = {free_port()}\n[capture]\ncountdown = 0\n")
        self.env = dict(env, SNAPLARK_CONFIG=str(cfg), SNAPLARK_DATA_DIR=str(work / "data"),
                        SNAPLARK_LOG_DIR=str(work / "log"), SNAPLARK_CLIPBOARD="linux")
        self.log_file = work / "app.out"
        self._out = self.log_file.open("w")
        launch = [str(Path(__file__).resolve().parent / "_tray_probes.py")] if probes else ["-m", "tray"]
        self.proc = subprocess.Popen([sys.executable, *launch, "-v"], env=self.env, cwd=str(REPO),
                                     stdout=self._out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float, after: int = 0, interval: float = 0.005) -> re.Match:
        def found():
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            return re.search(pattern, self.log()[after:])
        try:
            return wait_until(found, timeout, f"app log line {pattern!r}", interval)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n--- app log tail ---\n{self.log()[-3000:]}") from None

    def stop(self) -> int | None:
        stop_process(self.proc, 20)
        self._out.close()
        return self.proc.returncode
