"""Fixtures for the audio e2e tests: a private PulseAudio daemon (from apt) with a null sink as the speakers and a
virtual microphone, a private Xvfb, and ``av_beacon.py`` (a window that flashes white while a click plays through
the speakers, at the same instants).

PulseAudio layout (all null sinks at 48 kHz, so nothing is resampled):
- ``speakers``: the default sink; its monitor ``speakers.monitor`` is "system sound".
- ``micwire``: a second null sink; ``testmic`` (``module-remap-source`` over ``micwire.monitor``) is the default
  source, a plain (non-monitor) source like a microphone. Playing into ``micwire`` = speaking into the mic.
A null sink with nothing attached renders in ~2 s blocks, so a new monitor stream would get its first samples up
to 2 s late; the fixture keeps one 10 ms ``parec`` open on each monitor (as a real sound card, whose latency
follows the lowest request at once).

The server is reached through ``PulseAudioInput(server=...)`` and ``env()`` for the pa* tools, never through
``os.environ``, so other test areas are not affected.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.capture.conftest import SinkLog
from tests.procutil import die_with_parent, need_tool, start_xvfb, stop_process, wait_until

HERE = Path(__file__).parent
RATE = 48_000


@dataclass
class PulseServer:
    runtime: Path
    proc: subprocess.Popen
    keepalive: list[subprocess.Popen] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"unix:{self.runtime / 'native'}"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PULSE_SERVER": self.server, "HOME": str(self.runtime), **extra}

    def pactl(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(["pactl", *args], env=self.env(), capture_output=True, text=True, timeout=20)
        if check and r.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def load(self, module: str, *args: str) -> int:
        return int(self.pactl("load-module", module, *args).strip())

    def audio_input(self):
        from tray_platform.linux.audio import PulseAudioInput

        return PulseAudioInput(server=self.server)

    def play(self, sink: str, samples, *, rate: int = RATE) -> subprocess.Popen:
        """Play float32 mono ``samples`` into ``sink`` (pacat reading a pipe); returns the process."""
        import numpy as np

        proc = subprocess.Popen(["pacat", "--playback", "-d", sink, "--raw", "--format=float32le",
                                 f"--rate={rate}", "--channels=1", "--latency-msec=20"],
                                stdin=subprocess.PIPE, env=self.env(), preexec_fn=die_with_parent)
        data = np.asarray(samples, dtype=np.float32).tobytes()

        def feed():
            try:
                proc.stdin.write(data)
                proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass

        threading.Thread(target=feed, daemon=True, name="pacat-feed").start()
        return proc


def tone(freq: float, seconds: float, amplitude: float = 0.5, rate: int = RATE):
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def start_pulse(runtime: Path) -> PulseServer:
    runtime.mkdir(parents=True, exist_ok=True)
    native = runtime / "native"
    env = {**os.environ, "HOME": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime)}
    env.pop("PULSE_SERVER", None)
    # No session bus for the daemon: on one it claims org.PulseAudio1 and a second private daemon in the same
    # session (another test module's ``pulse``, a test's own server) exits with "D-Bus name already taken".
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/snaplark-test-pulse-has-no-bus"
    log = open(runtime / "pulseaudio.log", "wb")  # noqa: SIM115 - lives as long as the daemon
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no", "--disallow-exit",
         "--realtime=no", "--high-priority=no", "--log-target=stderr",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={native}",
         "--load=module-null-sink sink_name=speakers rate=48000 "
         "sink_properties=device.description=Speakers",
         "--load=module-null-sink sink_name=micwire rate=48000 sink_properties=device.description=MicWire",
         "--load=module-remap-source master=micwire.monitor source_name=testmic "
         "source_properties=device.description=TestMic"],
        env=env, stdout=log, stderr=log, preexec_fn=die_with_parent)
    log.close()
    pulse = PulseServer(runtime, proc)
    try:
        wait_until(lambda: proc.poll() is not None or (native.exists() and subprocess.run(
            ["pactl", "info"], env=pulse.env(), capture_output=True, timeout=10).returncode == 0), 20,
            what="pulseaudio")
        if proc.poll() is not None:
            raise RuntimeError(f"pulseaudio exited: {(runtime / 'pulseaudio.log').read_text()[-2000:]}")
        pulse.pactl("set-default-sink", "speakers")
        pulse.pactl("set-default-source", "testmic")
        for monitor in ("speakers.monitor", "micwire.monitor"):
            pulse.keepalive.append(subprocess.Popen(
                ["parec", "-d", monitor, "--latency-msec=10", "--raw"], stdout=subprocess.DEVNULL,
                env=pulse.env(), preexec_fn=die_with_parent))
        time.sleep(2.5)  # the null sinks' idle 2 s blocks end; from here they run at 10 ms
    except BaseException:
        stop_pulse(pulse)
        raise
    return pulse


def stop_pulse(pulse: PulseServer) -> None:
    for p in pulse.keepalive:
        stop_process(p)
    stop_process(pulse.proc)


@pytest.fixture(scope="session")
def pulse(tmp_path_factory):
    """A private PulseAudio for the whole session (speakers, micwire -> testmic)."""
    need_tool("pulseaudio", "pactl", "pacat", "parec")
    server = start_pulse(tmp_path_factory.mktemp("pulse"))
    yield server
    stop_pulse(server)


@dataclass
class Beacon:
    proc: subprocess.Popen
    events: list[dict] = field(default_factory=list)  # {"click": k, "play_at": t, "flash_at": t}

    def stop(self) -> None:
        stop_process(self.proc)


def start_beacon(display: str, pulse: PulseServer, *, period: float, size: tuple[int, int],
                 click_seconds: float = 0.01, noise: bool = False) -> Beacon:
    """av_beacon.py on ``display``: black window; every ``period`` s a click into ``speakers`` and a white flash
    drawn when the click plays. Its stdout lines (JSON) are collected in ``events``."""
    import json

    cmd = [sys.executable, str(HERE / "av_beacon.py"), "--server", pulse.server, "--sink", "speakers",
           "--period", str(period), "--width", str(size[0]), "--height", str(size[1]),
           "--click-seconds", str(click_seconds)] + (["--noise"] if noise else [])
    proc = subprocess.Popen(cmd, env={**pulse.env(), "DISPLAY": display}, stdout=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent)
    beacon = Beacon(proc)
    ready = threading.Event()

    def reader():
        for line in proc.stdout:
            line = line.strip()
            if line == "ready":
                ready.set()
            elif line.startswith("{"):
                beacon.events.append(json.loads(line))

    threading.Thread(target=reader, daemon=True, name="beacon-reader").start()
    if not ready.wait(20):
        stop_process(proc)
        raise RuntimeError("av_beacon did not come up within 20 s")
    return beacon


@pytest.fixture
def beacon_display(pulse):
    """A private Xvfb 320x240 for av_beacon.py (started by the test with its own period)."""
    need_tool("Xvfb")
    pytest.importorskip("tkinter")
    xvfb, display = start_xvfb(320, 240)
    yield display
    stop_process(xvfb)


@pytest.fixture
def sink_log():
    return SinkLog()
