"""A real headless Wayland session for the Wayland tests, started once for this package and torn down after it.

What runs (all from apt, see .ci/apt-packages), each waited for with a bound:

- a private ``XDG_RUNTIME_DIR`` (0700) in a fresh temp dir;
- a private D-Bus session bus (our own config: any local user may connect, because sway must run unprivileged);
- ``sway`` with ``WLR_BACKENDS=headless`` (one 1280x720 output ``HEADLESS-1``), ``WLR_RENDERER=pixman`` (no GPU)
  and a swaybar whose tray is the StatusNotifierWatcher/host. sway 1.7 refuses to run as root ("Unable to drop
  root"), so under root it runs as ``nobody`` and owns the runtime dir; root clients can still connect;
- ``pipewire`` + ``wireplumber``;
- ``xdg-desktop-portal-wlr`` (ScreenCast + Screenshot; ``chooser_type=none``, ``output_name=HEADLESS-1``: no
  interactive output picker) and the ``xdg-desktop-portal`` frontend with ``XDG_CURRENT_DESKTOP=sway``.
  xdg-desktop-portal 1.16 exports the Screenshot portal only when some backend implements
  ``impl.portal.Access``: xdg-desktop-portal-gtk is installed for that (it is never shown: non-interactive
  screenshots of host apps need no dialog).

xdg-desktop-portal-wlr 0.7.x cannot start a screencast on a compositor without a DRM render node (it insists on a
DMA-BUF format that pixman never offers; upstream bug #289, fixed in 0.8.0). On such a build the fixture compiles
``xdpw_dmabuf_format_shim.c`` and preloads it into xdpw: it repeats the real shm format as a DMA-BUF one, xdpw then
streams in shared memory as it would anyway. Every pixel still comes from sway's screencopy.

The package fixture sets, for the tests of this package only, ``WAYLAND_DISPLAY``, ``XDG_RUNTIME_DIR``,
``DBUS_SESSION_BUS_ADDRESS``, ``XDG_SESSION_TYPE=wayland``, ``XDG_CURRENT_DESKTOP=sway`` and
``SNAPLARK_SESSION=wayland``, and restores them afterwards (the X11 suites never see them). The starting and
stopping are plain functions (``start_wayland_session``, ``stop_wayland_session``, ``check_prerequisites``) that
benchmarks/wayland_recording.py uses too.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.procutil import REQUIRE_ALL, die_with_parent, need_tool, stop_process, wait_until

HERE = Path(__file__).parent
PORTAL = "/usr/libexec/xdg-desktop-portal"
PORTAL_WLR = "/usr/libexec/xdg-desktop-portal-wlr"
OUTPUT = "HEADLESS-1"
WIDTH, HEIGHT = 1280, 720
SWAY_USER = 65534  # nobody: sway 1.7 will not run as root
START_TIMEOUT = 20.0

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

SWAY_CONFIG = f"""output {OUTPUT} resolution {WIDTH}x{HEIGHT} position 0 0 bg #000000 solid_color
default_border none
default_floating_border none
focus_on_window_activation focus
bar {{
  id snaplark-test-bar
  position top
  mode dock
  status_command while :; do echo snaplark-test; sleep 3600; done
  tray_output *
}}
"""

XDPW_CONFIG = f"""[screencast]
output_name={OUTPUT}
chooser_type=none
max_fps=30
"""


def need(condition: bool, message: str) -> None:
    if not condition:
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)


def xdpw_version() -> tuple[int, ...]:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "xdg-desktop-portal-wlr"], capture_output=True,
                         text=True, timeout=10).stdout.strip()
    nums = []
    for part in out.split("-")[0].split("."):
        digits = "".join(c for c in part if c.isdigit())
        nums.append(int(digits or 0))
    return tuple(nums)


def gst_has_pipewiresrc() -> bool:
    probe = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstVideo', '1.0'); "
             "from gi.repository import Gst, GstVideo; Gst.init(None); "
             "raise SystemExit(0 if Gst.ElementFactory.find('pipewiresrc') else 1)")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode == 0


@dataclass
class WaylandSession:
    root: Path
    runtime_dir: Path
    wayland_display: str
    bus_address: str
    env: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        assert not dead, f"session processes died: {dead}\n" + "\n".join(
            f"--- {n} ---\n{self.log_tail(n)}" for n in dead)


def _start(session: WaylandSession, name: str, argv: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    log = session.root / f"{name}.log"
    session.logs[name] = log
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent, **kw)
    session.procs[name] = proc
    return proc


def _wait_for(session: WaylandSession, name: str, predicate, what: str):
    proc = session.procs[name]
    try:
        return wait_until(lambda: predicate() or proc.poll() is not None, START_TIMEOUT, what=what)
    finally:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}:\n"
                               f"{session.log_tail(name)}")


def _portal_ready(session: WaylandSession) -> bool:
    from tray_platform.linux.portal import PortalConnection, PortalError

    try:
        with PortalConnection(bus=session.bus_address) as portal:
            found = portal.interfaces()
    except (PortalError, OSError, ValueError):
        return False
    return {"org.freedesktop.portal.Screenshot", "org.freedesktop.portal.ScreenCast"} <= set(found)


def check_prerequisites() -> str | None:
    """Why this machine cannot run the session (a missing tool or package), or None when it can."""
    missing = [n for n in ("sway", "swaybar", "dbus-daemon", "pipewire", "wireplumber", "gcc", "dpkg-query")
               if shutil.which(n) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install them; .ci/run does)"
    if not (os.path.exists(PORTAL) and os.path.exists(PORTAL_WLR)):
        return "needs xdg-desktop-portal and xdg-desktop-portal-wlr (apt-get install them; .ci/run does)"
    if not os.path.exists("/usr/share/xdg-desktop-portal/portals/gtk.portal"):
        return "needs xdg-desktop-portal-gtk (its Access backend makes xdg-desktop-portal 1.16 export Screenshot)"
    if not gst_has_pipewiresrc():
        return ("needs GStreamer for Python with pipewiresrc (gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0, "
                "gstreamer1.0-pipewire)")
    return None


def start_wayland_session() -> WaylandSession:
    """Start the whole session (see the module docstring); every step bounded. On failure everything started so
    far is stopped and the error raised. Stop it with :func:`stop_wayland_session`. Plain function: the
    package fixture and benchmarks/wayland_recording.py both use it; it does not touch ``os.environ``."""
    import ctypes  # noqa: F401 -- die_with_parent imports it in sway's child after the uid drop: load it here first

    as_root = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="snaplark-wayland-"))
    root.chmod(0o755)  # sway (another user under root) reads its config here
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    if as_root:
        os.chown(runtime, SWAY_USER, SWAY_USER)
    for name, text in (("bus.conf", BUS_CONFIG.format(dir=root)), ("sway.conf", SWAY_CONFIG),
                       ("xdpw.conf", XDPW_CONFIG)):
        (root / name).write_text(text)
        (root / name).chmod(0o644)  # readable by sway's user whatever the umask (tray.cli.main sets 077)
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
                             "SNAPLARK_SESSION", "LD_PRELOAD")}
    base_env.update(XDG_RUNTIME_DIR=str(runtime), XDG_SESSION_TYPE="wayland", XDG_CURRENT_DESKTOP="sway",
                    NO_AT_BRIDGE="1", GSETTINGS_BACKEND="memory")
    session = WaylandSession(root=root, runtime_dir=runtime, wayland_display="", bus_address="", env=base_env)
    try:
        # the bus prints its address to a pipe; read it back with a bound
        r, w = os.pipe()
        bus = subprocess.Popen(["dbus-daemon", f"--config-file={root / 'bus.conf'}", "--nofork",
                                f"--print-address={w}"], env=base_env, pass_fds=(w,), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        os.close(w)
        session.procs["dbus"] = bus
        ready, _, _ = select.select([r], [], [], START_TIMEOUT)
        address = os.read(r, 4096).decode().strip() if ready else ""
        os.close(r)
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        session.bus_address = address
        base_env["DBUS_SESSION_BUS_ADDRESS"] = address

        sway_env = dict(base_env, HOME=str(root), WLR_BACKENDS="headless", WLR_LIBINPUT_NO_DEVICES="1",
                        WLR_RENDERER="pixman")
        user = {"user": SWAY_USER, "group": SWAY_USER, "extra_groups": []} if as_root else {}
        _start(session, "sway", ["sway", "-c", str(root / "sway.conf"), "-d"], sway_env, **user)
        sockets = _wait_for(session, "sway", lambda: [p.name for p in runtime.glob("wayland-*")
                                                      if not p.name.endswith(".lock")], "sway's Wayland socket")
        session.wayland_display = sockets[0]
        base_env["WAYLAND_DISPLAY"] = session.wayland_display

        _start(session, "pipewire", ["pipewire"], base_env)
        _wait_for(session, "pipewire", lambda: (runtime / "pipewire-0").exists(), "the PipeWire socket")
        _start(session, "wireplumber", ["wireplumber"], base_env)

        xdpw_env = dict(base_env)
        if xdpw_version() < (0, 8):
            shim = root / "xdpw_dmabuf_format_shim.so"
            subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(shim),
                            str(HERE / "xdpw_dmabuf_format_shim.c"), "-ldl"], check=True, timeout=60)
            xdpw_env["LD_PRELOAD"] = str(shim)
        _start(session, "xdpw", [PORTAL_WLR, "-l", "DEBUG", "-c", str(root / "xdpw.conf")], xdpw_env)
        _start(session, "portal", [PORTAL, "-v", "-r"], base_env)
        _wait_for(session, "portal", lambda: _portal_ready(session), "the portal's Screenshot and ScreenCast")
        session.env = base_env
    except BaseException:
        stop_wayland_session(session)
        raise
    return session


def stop_wayland_session(session: WaylandSession) -> None:
    """Stop every process of the session (last started first, each bounded) and remove its directory
    (``SNAPLARK_KEEP_WAYLAND_LOGS=DIR``: its logs are copied there first)."""
    for name in reversed(list(session.procs)):
        stop_process(session.procs[name])
    keep = os.environ.get("SNAPLARK_KEEP_WAYLAND_LOGS")
    if keep:
        shutil.copytree(session.root, Path(keep) / session.root.name, dirs_exist_ok=True,
                        ignore_dangling_symlinks=True, ignore=shutil.ignore_patterns("runtime"))
    shutil.rmtree(session.root, ignore_errors=True)


@pytest.fixture(scope="package")
def wayland_session():
    need_tool("sway", "swaybar", "dbus-daemon", "pipewire", "wireplumber", "gcc", "dpkg-query")
    need(os.path.exists(PORTAL) and os.path.exists(PORTAL_WLR),
         "needs xdg-desktop-portal and xdg-desktop-portal-wlr (apt-get install them; .ci/run does)")
    need(os.path.exists("/usr/share/xdg-desktop-portal/portals/gtk.portal"),
         "needs xdg-desktop-portal-gtk (its Access backend makes xdg-desktop-portal 1.16 export Screenshot)")
    need(gst_has_pipewiresrc(), "needs GStreamer for Python with pipewiresrc (gir1.2-gstreamer-1.0, "
                                "gir1.2-gst-plugins-base-1.0, gstreamer1.0-pipewire)")
    session = start_wayland_session()
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_TYPE",
                         "XDG_CURRENT_DESKTOP"):
                mp.setenv(name, session.env[name])
            mp.setenv("SNAPLARK_SESSION", "wayland")
            yield session
    finally:
        stop_wayland_session(session)


@dataclass
class PatternWindow:
    proc: subprocess.Popen
    size: tuple[int, int]


def start_pattern_window(session: WaylandSession, *, interval_ms: int = 33) -> PatternWindow:
    env = dict(session.env, GDK_BACKEND="wayland")
    proc = subprocess.Popen([sys.executable, str(HERE / "pattern_window_gtk.py"), "--interval-ms", str(interval_ms)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent)
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline().strip() if ready else ""
    if not line.startswith("ready "):
        stop_process(proc)
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"the GTK pattern window did not start ({line!r}): {err[-2000:]}")
    w, h = line.split()[1].split("x")
    return PatternWindow(proc, (int(w), int(h)))


@pytest.fixture
def pattern_window(wayland_session):
    """A native Wayland GTK window (full screen on HEADLESS-1) with the pattern of pattern_window_gtk.py."""
    window = start_pattern_window(wayland_session)
    try:
        yield window
    finally:
        stop_process(window.proc)
        wayland_session.check_alive()
