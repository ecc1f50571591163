"""Recording benchmark: Snaplark's recorder vs ``ffmpeg -f x11grab`` with the same codec settings, side by side.

For each screen size (1920x1080 and 1280x720 by default) a private Xvfb shows a test pattern
(benchmarks/_pattern_scene.py: a static gradient and text; in the "moving" scene four bars cross the screen and a
frame code changes at 60 updates/s, in the "static" scene nothing changes). Each scene is recorded full screen for
``--seconds`` by

  * ours:   ``tray.capture.recorder.Recorder`` in a child process (mss XShm -> PyAV libvpx-vp9 -> WebM),
  * ffmpeg: ``ffmpeg -f x11grab -framerate FPS ... -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1
             -lag-in-frames 0 -b:v BITRATE -g 5*FPS -pix_fmt yuv420p -fps_mode passthrough`` (WebM, 1 s clusters),

one after the other (never concurrently), with the same fps and bitrate. Reported per run: frames in the file,
delivered fps, CPU seconds (user+sys of the whole child process from the kernel's rusage, start-up included),
peak RSS, file bitrate, and picture quality. Ratios are ours / ffmpeg:

  delivered fps ratio (moving)  -- ours counts every deadline whose picture is in the file (encoded, or identical
                                   to the frame before and therefore not re-encoded); ffmpeg encodes every frame
  CPU ratio (moving, static), and CPU per delivered frame (the fair one when the machine cannot keep up)
  bitrate ratio (static)

Picture quality (benchmarks/_picture_quality.py): every file is compared with what the pattern window drew. The
window draws a frame code; each decoded frame's code says which step of the (deterministic) pattern it shows, and
that step is repainted exactly on a lossless grab of the static part (checked pixel-exact against a live grab before
the runs). Printed for ours and ffmpeg's side by side: mean luma SSIM, luma PSNR, chroma PSNR. So a lower CPU
ratio can never come from a worse picture unnoticed.

``--audio``: also, per scene, both tools record sound while a private PulseAudio (the one of tests/e2e/audio) plays
a 440 Hz tone into the speakers and a 1 kHz tone into the virtual microphone:

  * ours:   the same Recorder with ``AudioSpec("both")`` (libpulse, monitor of the speakers + the microphone, mixed
            with a limiter into one Opus track, 48 kHz stereo, 96 kbit/s, 20 ms frames),
  * ffmpeg: the same x11grab command plus ``-f pulse`` on ``speakers.monitor`` and on the microphone (48 kHz stereo,
            20 ms fragments), ``amix`` (no normalisation) + ``alimiter`` (the same threshold, 1 ms attack, 100 ms
            release) and ``-c:a libopus -b:a 96000 -frame_duration 20``.

  Printed per scene: the CPU ratio with audio, the CPU audio adds to each tool (with audio minus without, in % of
  one core over the recording), and that both files carry both tones. Once per run ("audio alone"): the same
  difference for a small static 320x240 region, where the video costs little and so adds little noise to the
  difference. Goal lines at the end: CPU <= 1.0x ffmpeg's, audio adds <= 5 % of a core.

``--codecs`` (issue 15; instead of the runs above): our recorder in both formats, ``webm`` (libvpx-vp9 realtime,
cpu-used 8) and ``mp4`` (libx264 superfast + zerolatency, fragmented MP4), each at 0.5x, 1x and 2x ``--bitrate``
(``CODEC_LADDER``), scored like the rest (SSIM, PSNR). Equal quality = the luma SSIM (and, separately, the luma PSNR)
VP9 reaches at 1x: the x264 bitrate and recording CPU that reach it are interpolated along x264's ladder (quality vs
log bitrate, CPU linear in between) and printed as x264 / VP9 ratios, or flagged when x264's ladder never reaches it;
the whole ladder is printed too. Video only (AAC vs Opus is not the question).

``--webcam`` (issue 19; instead of the runs above): ours without and with the webcam bubble, the camera a file
played as one (benchmarks/_webcam_cpu.py): the CPU the bubble adds, in % of a core and as a ratio.

Usage: python benchmarks/recording.py [--seconds 10] [--fps 30] [--bitrate 2500000] [--sizes 1920x1080,1280x720]
                                      [--scenes moving,static] [--repeat N] [--audio] [--quality-frames 40]
                                      [--codecs] [--before-damage] [--webcam] [--json out.json]
                                      [--variant NAME:KEY=VAL[,KEY=VAL]]...
``--variant`` (issue 21): ours again with other libvpx-vp9 options (``threads=1``, ``row-mt=0``, ...) or
environment (``env.SNAPLARK_LIBYUV=0``: swscale instead of libyuv), interleaved with the others in the same run;
its CPU ratio against the same ffmpeg run and its picture are printed next to ours.
Needs Xvfb, ffmpeg, ffprobe, python3-tk (and pulseaudio, pulseaudio-utils for --audio). Timings depend on the
machine and its load; this is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for path in (str(REPO), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from _pattern_scene import PatternScene, check_reference
from _picture_quality import measure

from tests.procutil import stop_process as stop  # also used by long_recording.py, _webcam_cpu.py

GOAL_CPU_RATIO = 1.0  # with audio (issue 14)
GOAL_MOVING_CPU_RATIO = 0.75  # issue 21 goal 1: a moving screen, at equal or better picture
GOAL_STATIC_CPU_RATIO = 0.1  # issue 21 goal 2: a still screen (X DAMAGE skips the grabs)
GOAL_AUDIO_CORE_PERCENT = 5.0
TONES = {"system": 440.0, "mic": 1000.0}
LIMITER_THRESHOLD = 0.891  # ours: tray.capture.audio.PeakLimiter's default threshold (-1 dBFS)

OURS = r"""
import json, os, sys, time
from tray.capture import encoder
encoder.VP9_REALTIME_OPTIONS.update(json.loads(os.environ.get("SNAPLARK_BENCH_VP9", "{}")))  # --variant
from tray.capture.audio import AudioSpec
from tray.capture.recorder import Recorder
from tray_platform.base import Region
out, w, h, fps, bitrate, seconds, audio = sys.argv[1], *map(int, sys.argv[2:6]), float(sys.argv[6]), sys.argv[7]
failures = []
rec = Recorder(out, format="mp4" if out.endswith(".mp4") else "webm", region=Region(0, 0, w, h), fps=fps,
               bitrate=bitrate, max_duration=seconds, cursor=False, audio=AudioSpec(audio),
               on_audio_failure=failures.append)
cpu0, t0 = time.process_time(), time.monotonic()
rec.start()
assert rec.wait(seconds * 6 + 30), "recorder did not finish"
r = rec.result
s = r.stats
assert not failures, [f.message for f in failures]
print(json.dumps({"frames": r.frames, "duration": r.duration, "bytes": r.total_bytes,
                  "recording_cpu": time.process_time() - cpu0, "wall": time.monotonic() - t0,
                  "ticks": s.ticks, "late_ticks": s.late_ticks, "dropped": s.frames_dropped,
                  "skipped_identical": s.frames_skipped_identical, "keepalive": s.frames_keepalive,
                  "skipped_unchanged": s.grabs_skipped_unchanged,
                  "encoded": s.frames_encoded, "error": r.error, "has_audio": r.audio is not None}))
"""


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen, str]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten",
                             "tcp", "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        line = f.readline()  # Xvfb writes the display number and a newline when ready
    if not line.strip():
        proc.kill()
        raise RuntimeError("Xvfb failed to start")
    return proc, f":{line.strip()}"


def grab(display: str, width: int, height: int):
    """A lossless BGRA grab of the screen (numpy h x w x 4)."""
    import mss
    import numpy as np

    with mss.MSS(display=display) as sct:
        shot = sct.grab({"left": 0, "top": 0, "width": width, "height": height})
        return np.frombuffer(shot.bgra, dtype=np.uint8).reshape(height, width, 4).copy()


def _read_line(proc: subprocess.Popen, want: str, timeout: float) -> None:
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not got or got[0].strip() != want:
        proc.kill()
        raise RuntimeError(f"pattern window: expected {want!r} within {timeout} s, got {got}")


def start_pattern(display: str, scene: PatternScene):
    """The pattern window, running; returns (process, lossless grab of its static part)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "_pattern_scene.py"), scene.to_json()],
                            env={**os.environ, "DISPLAY": display}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    _read_line(proc, "background", 20)
    time.sleep(0.3)
    background = grab(display, scene.width, scene.height)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    _read_line(proc, "going", 20)
    time.sleep(0.5)
    for _ in range(3):  # the reference painting is pixel-exact against what the window shows
        n, wrong = check_reference(scene, background, grab(display, scene.width, scene.height))
        if wrong == 0:
            break
    else:
        stop(proc)
        raise RuntimeError(f"reference of pattern step {n} differs from a lossless grab in {wrong} pixels")
    print(f"{scene.width}x{scene.height} {'moving' if scene.moving else 'static'}  reference check: pattern step {n} "
          f"repainted on the static grab = a lossless grab of the screen (0 pixels differ)", flush=True)
    return proc, background


STEADY_AFTER = 3.0  # s: the "steady" CPU figures leave out each child's start (imports, encoder set-up)


def proc_cpu(pid: int) -> float | None:
    """CPU seconds (user+sys) a running process has used so far (/proc), None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(cmd: list[str], env: dict, timeout: float,
              steady: dict | None = None) -> tuple[int, str, str, float, float, int]:
    """Run ``cmd``; return (rc, stdout, stderr, cpu seconds (user+sys), wall seconds, peak RSS bytes). With
    ``steady``, also put there the CPU and wall seconds after the first STEADY_AFTER s (``cpu``, ``wall``)."""
    t0 = time.monotonic()
    at: tuple[float, float] | None = None
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        if steady is not None and at is None and time.monotonic() - t0 >= STEADY_AFTER:
            cpu_now = proc_cpu(proc.pid)
            at = (time.monotonic(), cpu_now) if cpu_now is not None else None
        time.sleep(0.05)
    wall = time.monotonic() - t0
    if steady is not None and at is not None:
        steady.update(cpu=ru.ru_utime + ru.ru_stime - at[1], wall=t0 + wall - at[0])
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(10)
    return proc.returncode, out.get("out", ""), out.get("err", ""), ru.ru_utime + ru.ru_stime, wall, \
        ru.ru_maxrss * 1024


def probe(path: Path) -> tuple[int, float]:
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-of", "json",
                        "-show_entries", "stream=nb_read_frames:format=duration", str(path)],
                       capture_output=True, text=True, timeout=120)
    data = json.loads(r.stdout)
    return int(data["streams"][0]["nb_read_frames"]), float(data["format"]["duration"])


def tone_shares(path: Path) -> dict[str, float] | None:
    """Share of the audio track's energy (after its first second) within 10 Hz of each tone; None: no audio."""
    import av
    import numpy as np

    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        rate = c.streams.audio[0].rate
        mono = np.concatenate([f.to_ndarray().reshape(-1, f.samples).mean(axis=0)
                               for f in c.decode(audio=0)])[rate:].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    total = spectrum.sum() or 1.0
    return {name: float(spectrum[np.abs(freqs - hz) < 10].sum() / total) for name, hz in TONES.items()}


def run_ours(display: str, w: int, h: int, args, out: Path, audio: str, env: dict) -> dict:
    steady: dict = {}
    rc, so, se, cpu, wall, rss = run_child([sys.executable, "-c", OURS, str(out), str(w), str(h), str(args.fps),
                                            str(args.bitrate), str(args.seconds), audio],
                                           {**env, "DISPLAY": display, "PYTHONPATH": os.pathsep.join(
                                               [str(REPO), str(REPO / "platform")])},
                                           args.seconds * 6 + 60, steady)
    if rc != 0:
        raise RuntimeError(f"recorder failed: {se[-2000:]}")
    info = json.loads(so.strip().splitlines()[-1])
    frames, duration = probe(out)
    delivered = info["ticks"] - info["dropped"]  # deadlines whose picture is in the file
    return {"tool": "ours", "audio": audio, "frames": frames, "duration": duration,
            "delivered_fps": delivered / duration, "encoded_fps": frames / duration, "cpu": cpu,
            "recording_cpu": info["recording_cpu"], "wall": wall, "rss_mib": rss / 2**20,
            "bytes": out.stat().st_size, "kbps": out.stat().st_size * 8 / duration / 1000, "detail": info,
            "steady": steady}


def ffmpeg_audio_args(pulse_server: str, limit: float) -> list[str]:
    source = ["-f", "pulse", "-server", pulse_server, "-sample_rate", "48000", "-channels", "2",
              "-fragment_size", "3840", "-frame_size", "3840"]  # 20 ms of s16 stereo, as ours reads
    return [*source, "-i", "speakers.monitor", *source, "-i", "testmic",
            "-filter_complex", (f"[1:a][2:a]amix=inputs=2:normalize=0,"
                                f"alimiter=limit={limit}:attack=1:release=100:level=0[a]"),
            "-map", "0:v", "-map", "[a]", "-c:a", "libopus", "-b:a", "96000", "-frame_duration", "20",
            "-application", "audio"]


def run_ffmpeg(display: str, w: int, h: int, args, out: Path, audio: str, env: dict,
               pulse_server: str | None = None, vp9: dict[str, str] | None = None) -> dict:
    extra = ffmpeg_audio_args(pulse_server, LIMITER_THRESHOLD) if audio == "both" else []
    extra += [a for k, v in (vp9 or {}).items() for a in (f"-{k}", v)]  # --ffmpeg-variant
    cmd = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0",
           "-framerate", str(args.fps), "-video_size", f"{w}x{h}", "-i", f"{display}+0,0", *extra,
           "-t", str(args.seconds),
           "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-lag-in-frames", "0",
           "-b:v", str(args.bitrate), "-g", str(5 * args.fps), "-pix_fmt", "yuv420p", "-fps_mode", "passthrough",
           "-f", "webm", "-cluster_time_limit", "1000", "-cluster_size_limit", "4000000", str(out)]
    steady: dict = {}
    rc, _so, se, cpu, wall, rss = run_child(cmd, env, args.seconds * 6 + 60, steady)
    if rc != 0:
        raise RuntimeError(f"ffmpeg failed: {se[-2000:]}")
    frames, duration = probe(out)
    return {"tool": "ffmpeg", "audio": audio, "frames": frames, "duration": duration,
            "delivered_fps": frames / duration, "encoded_fps": frames / duration, "cpu": cpu,
            "recording_cpu": cpu, "wall": wall, "rss_mib": rss / 2**20, "bytes": out.stat().st_size,
            "kbps": out.stat().st_size * 8 / duration / 1000, "steady": steady}


class Sound:
    """The private PulseAudio of tests/e2e/audio (speakers + a virtual microphone) and the two tones."""

    def __init__(self, runtime: Path):
        from tests.e2e.audio.conftest import start_pulse

        self.pulse = start_pulse(runtime)
        self.players: list[subprocess.Popen] = []

    def play(self, seconds: float) -> None:
        from tests.e2e.audio.conftest import tone

        self.players = [self.pulse.play("speakers", tone(TONES["system"], seconds)),
                        self.pulse.play("micwire", tone(TONES["mic"], seconds))]
        time.sleep(0.3)

    def silence(self) -> None:
        for p in self.players:
            p.kill()
            p.wait(10)
        self.players = []

    def close(self) -> None:
        from tests.e2e.audio.conftest import stop_pulse

        self.silence()
        stop_pulse(self.pulse)


def record_all(display: str, scene: PatternScene, args, base: Path, order: int, sound: Sound | None) -> dict:
    """One run of every tool (video only; with sound too when ``sound``), order alternating with ``order``."""
    w, h = scene.width, scene.height
    env = {k: v for k, v in os.environ.items() if k != "PULSE_SERVER"}
    jobs = [("ours", lambda out: run_ours(display, w, h, args, out, "none", env)),
            ("ffmpeg", lambda out: run_ffmpeg(display, w, h, args, out, "none", env))]
    if args.before_damage:  # issue 21: the same recorder grabbing every tick (no X DAMAGE)
        jobs.append(("ours-nodamage", lambda out: run_ours(display, w, h, args, out, "none",
                                                           {**env, "SNAPLARK_X11_DAMAGE": "0"})))
    for name, opts in args.ffmpeg_variant or []:  # the peer with the same extra libvpx options, same run
        jobs.append((f"ffmpeg-{name}", lambda out, opts=opts: run_ffmpeg(display, w, h, args, out, "none", env,
                                                                          vp9=opts)))
    for name, opts in args.variant or []:  # issue 21: ours with other libvpx options, same run
        vp9 = {k: v for k, v in opts.items() if not k.startswith("env.")}
        venv = {**env, **{k[4:]: v for k, v in opts.items() if k.startswith("env.")}, "SNAPLARK_BENCH_VP9": json.dumps(vp9)}
        jobs.append((f"ours-{name}", lambda out, venv=venv: run_ours(display, w, h, args, out, "none", venv)))
    if sound is not None:
        aenv = sound.pulse.env()
        jobs += [("ours+audio", lambda out: run_ours(display, w, h, args, out, "both", aenv)),
                 ("ffmpeg+audio", lambda out: run_ffmpeg(display, w, h, args, out, "both", aenv,
                                                         sound.pulse.server))]
    if order % 2:
        jobs.reverse()
    got = {}
    for name, fn in jobs:
        out = Path(f"{base}-{name}.webm")
        if sound is not None:
            sound.play(args.seconds + 30)
        try:
            got[name] = fn(out)
        finally:
            if sound is not None:
                sound.silence()
        got[name]["file"] = str(out)
    return got


AUDIO_ALONE_REGION = (320, 240)  # top-left corner: only the static part of the pattern is there, in every scene


def audio_alone(display: str, args, base: Path, sound: Sound, order: int) -> dict:
    """What sound costs each tool, measured where video costs little: a small static region recorded without and
    with audio (full-screen runs differ by the video's run-to-run noise too, several % of a core on a busy
    machine). Returns ours' and ffmpeg's added CPU in % of one core."""
    w, h = AUDIO_ALONE_REGION
    env = sound.pulse.env()
    runs = {}
    jobs = [("ours", "none"), ("ours", "both"), ("ffmpeg", "none"), ("ffmpeg", "both")]
    if order % 2:
        jobs.reverse()
    for tool, audio in jobs:
        out = Path(f"{base}-alone-{tool}-{audio}.webm")
        sound.play(args.seconds + 30)
        try:
            if tool == "ours":
                runs[tool, audio] = run_ours(display, w, h, args, out, audio, env)
            else:
                runs[tool, audio] = run_ffmpeg(display, w, h, args, out, audio, env, sound.pulse.server)
        finally:
            sound.silence()
    got = {tool: core_percent(runs[tool, "both"]["cpu"], runs[tool, "none"]["cpu"], args.seconds)
           for tool in ("ours", "ffmpeg")}
    got.update({f"{tool}_{audio}_cpu": runs[tool, audio]["cpu"] for tool, audio in runs})
    print(f"audio alone ({w}x{h} static region, {args.seconds:.0f} s): added CPU for audio: ours "
          f"{got['ours']:+.1f} % of a core ({got['ours_none_cpu']:.2f} -> {got['ours_both_cpu']:.2f} s), ffmpeg "
          f"{got['ffmpeg']:+.1f} % ({got['ffmpeg_none_cpu']:.2f} -> {got['ffmpeg_both_cpu']:.2f} s)", flush=True)
    return got


def score(got: dict, scene: PatternScene, background, args) -> None:
    for res in got.values():
        q = measure(Path(res["file"]), scene, background, res["frames"], args.quality_frames)
        res["quality"] = q.__dict__
        res["quality_line"] = q.line()
        if res["audio"] != "none":
            res["tones"] = tone_shares(Path(res["file"]))


def core_percent(cpu_with: float, cpu_without: float, seconds: float) -> float:
    return (cpu_with - cpu_without) / seconds * 100


def report_row(size: str, scene_name: str, got: dict, args) -> dict:
    ours, ff = got["ours"], got["ffmpeg"]
    row = {"size": size, "scene": scene_name, "runs": got,
           "fps_ratio": ours["delivered_fps"] / ff["delivered_fps"],
           "cpu_ratio": ours["cpu"] / ff["cpu"],
           "recording_cpu_ratio": ours["recording_cpu"] / ff["cpu"],
           "bitrate_ratio": ours["kbps"] / ff["kbps"],
           # when the machine cannot keep up, CPU per delivered frame is the fair comparison
           "cpu_per_frame_ratio": (ours["cpu"] / (ours["delivered_fps"] * ours["duration"]))
           / (ff["cpu"] / (ff["delivered_fps"] * ff["duration"]))}
    print(f"{size} {scene_name:6}  fps {ours['delivered_fps']:5.1f} vs {ff['delivered_fps']:5.1f} "
          f"(x{row['fps_ratio']:.3f})  cpu {ours['cpu']:5.2f}s vs {ff['cpu']:5.2f}s "
          f"(x{row['cpu_ratio']:.2f}; recording only x{row['recording_cpu_ratio']:.2f}; "
          f"per frame x{row['cpu_per_frame_ratio']:.2f})  "
          f"bitrate {ours['kbps']:7.1f} vs {ff['kbps']:7.1f} kbit/s "
          f"(x{row['bitrate_ratio']:.3f})  rss {ours['rss_mib']:.0f} vs {ff['rss_mib']:.0f} MiB"
          f"  [ours: {ours['detail']['encoded']} encoded, "
          f"{ours['detail']['skipped_identical']} unchanged, {ours['detail']['skipped_unchanged']} not grabbed "
          f"(DAMAGE), {ours['detail']['dropped']} "
          f"dropped, {ours['detail']['late_ticks']} late]", flush=True)
    print(f"{'':{len(size)}} {'':6}  picture  ours   {ours['quality_line']}\n"
          f"{'':{len(size)}} {'':6}           ffmpeg {ff['quality_line']}", flush=True)
    if ours.get("steady") and ff.get("steady"):  # CPU per second after each child's first STEADY_AFTER s
        rate = {k: r["steady"]["cpu"] / r["steady"]["wall"] for k, r in got.items() if r.get("steady")}
        row["steady_cpu_ratio"] = rate["ours"] / rate["ffmpeg"]
        print(f"{'':{len(size)}} {'':6}  steady (after {STEADY_AFTER:.0f} s): "
              + ", ".join(f"{k} {v * 100:.1f} %" for k, v in rate.items())
              + f" of a core; ours/ffmpeg x{row['steady_cpu_ratio']:.3f}"
              + (f", without DAMAGE x{rate['ours-nodamage'] / rate['ffmpeg']:.3f}" if "ours-nodamage" in rate
                 else ""), flush=True)
    if "ours-nodamage" in got:  # before/after X DAMAGE, both against the same ffmpeg run
        nd = got["ours-nodamage"]
        row.update(nodamage_cpu_ratio=nd["cpu"] / ff["cpu"],
                   nodamage_recording_cpu_ratio=nd["recording_cpu"] / ff["cpu"])
        print(f"{'':{len(size)}} {'':6}  without DAMAGE (before): cpu {nd['cpu']:5.2f}s "
              f"(x{row['nodamage_cpu_ratio']:.2f}"
              f"; recording only x{row['nodamage_recording_cpu_ratio']:.2f})  with DAMAGE: x{row['cpu_ratio']:.2f} "
              f"(recording only x{row['recording_cpu_ratio']:.2f})  bitrate {nd['kbps']:.1f} kbit/s  "
              f"picture {nd['quality_line']}", flush=True)
    for name in (k for k in got if (k.startswith("ours-") and k != "ours-nodamage") or k.startswith("ffmpeg-")):
        v = got[name]
        row[f"{name}_cpu_ratio"] = v["cpu"] / ff["cpu"]
        row[f"{name}_cpu_per_frame_ratio"] = (v["cpu"] / (v["delivered_fps"] * v["duration"])) / (
            ff["cpu"] / (ff["delivered_fps"] * ff["duration"]))
        line = (f"{'':{len(size)}} {'':6}  {name}: cpu {v['cpu']:5.2f}s (x{row[f'{name}_cpu_ratio']:.2f}; "
                f"recording only x{v['recording_cpu'] / ff['cpu']:.2f}; per frame "
                f"x{row[f'{name}_cpu_per_frame_ratio']:.2f})")
        if v.get("steady") and ff.get("steady"):
            row[f"{name}_steady_cpu_ratio"] = (v["steady"]["cpu"] / v["steady"]["wall"]) / (
                ff["steady"]["cpu"] / ff["steady"]["wall"])
            line += f" after {STEADY_AFTER:.0f} s x{row[f'{name}_steady_cpu_ratio']:.3f}"
        print(line + f"  fps {v['delivered_fps']:5.1f}  bitrate {v['kbps']:.1f} kbit/s  picture {v['quality_line']}",
              flush=True)
    if "ours+audio" in got:
        oa, fa = got["ours+audio"], got["ffmpeg+audio"]
        seconds = args.seconds
        row.update(audio_cpu_ratio=oa["cpu"] / fa["cpu"],
                   audio_recording_cpu_ratio=oa["recording_cpu"] / fa["cpu"],
                   ours_audio_core_pct=core_percent(oa["cpu"], ours["cpu"], seconds),
                   ours_audio_core_pct_recording=core_percent(oa["recording_cpu"], ours["recording_cpu"], seconds),
                   ffmpeg_audio_core_pct=core_percent(fa["cpu"], ff["cpu"], seconds))
        tones = "  ".join(f"{name} " + " ".join(f"{k} {v:.2f}" for k, v in (r["tones"] or {}).items())
                          for name, r in (("ours", oa), ("ffmpeg", fa)))
        print(f"{'':{len(size)}} {'':6}  +audio   cpu {oa['cpu']:5.2f}s vs {fa['cpu']:5.2f}s "
              f"(x{row['audio_cpu_ratio']:.2f}; recording only x{row['audio_recording_cpu_ratio']:.2f})  "
              f"added CPU for audio: ours {row['ours_audio_core_pct']:+.1f} % of a core "
              f"(recording only {row['ours_audio_core_pct_recording']:+.1f} %), "
              f"ffmpeg {row['ffmpeg_audio_core_pct']:+.1f} %  fps {oa['delivered_fps']:.1f} vs "
              f"{fa['delivered_fps']:.1f}  tone shares [{tones}]", flush=True)
        print(f"{'':{len(size)}} {'':6}  picture  ours   {oa['quality_line']}\n"
              f"{'':{len(size)}} {'':6}           ffmpeg {fa['quality_line']}", flush=True)
    return row


CODEC_LADDER = (0.5, 1.0, 2.0)  # x --bitrate, for --codecs


def at_quality(runs: list[dict], target: float, metric: str = "ssim") -> dict:
    """Where a codec's ladder reaches ``target`` in ``metric`` ("ssim" or "psnr_y"): bitrate interpolated in log
    scale, CPU linearly between the two runs around it; ``inside`` False when the ladder does not reach it (the
    nearest run is given)."""
    import math

    pts = sorted(runs, key=lambda r: r["quality"][metric])
    for lo, hi in zip(pts, pts[1:]):
        s0, s1 = lo["quality"][metric], hi["quality"][metric]
        if s0 <= target <= s1 and s1 > s0:
            t = (target - s0) / (s1 - s0)
            kbps = math.exp(math.log(lo["kbps"]) + t * (math.log(hi["kbps"]) - math.log(lo["kbps"])))
            return {"inside": True, "kbps": kbps,
                    "recording_cpu": lo["recording_cpu"] + t * (hi["recording_cpu"] - lo["recording_cpu"])}
    near = min(pts, key=lambda r: abs(r["quality"][metric] - target))
    return {"inside": False, "kbps": near["kbps"], "recording_cpu": near["recording_cpu"]}


def compare_codecs(display: str, scene: PatternScene, background, args, base: Path, size: str,
                   scene_name: str) -> dict:
    """Our recorder in webm (VP9) and mp4 (H.264) along CODEC_LADDER; the x264/VP9 figures at VP9's 1x quality."""
    w, h = scene.width, scene.height
    env = {k: v for k, v in os.environ.items() if k != "PULSE_SERVER"}
    runs: dict[str, list[dict]] = {"webm": [], "mp4": []}
    for k, mult in enumerate(CODEC_LADDER):
        for fmt in (("webm", "mp4") if k % 2 == 0 else ("mp4", "webm")):  # alternate who goes first
            rate = int(args.bitrate * mult)
            out = Path(f"{base}-{fmt}-{rate}.{fmt}")
            r = run_ours(display, w, h, argparse.Namespace(**{**vars(args), "bitrate": rate}), out, "none", env)
            q = measure(out, scene, background, r["frames"], args.quality_frames)
            r.update(format=fmt, target_bitrate=rate, quality=q.__dict__, quality_line=q.line())
            runs[fmt].append(r)
            out.unlink()
    for fmt, codec in (("webm", "libvpx-vp9"), ("mp4", "libx264")):
        for r in runs[fmt]:
            print(f"{size} {scene_name:6}  {codec:10} {r['target_bitrate'] / 1e6:4.2f} Mbit/s target: "
                  f"{r['kbps']:7.1f} kbit/s, recording CPU {r['recording_cpu']:5.2f} s (process {r['cpu']:5.2f} s), "
                  f"fps {r['delivered_fps']:5.1f}, {r['quality_line']}", flush=True)
    ref = runs["webm"][CODEC_LADDER.index(1.0)]
    row = {"size": size, "scene": scene_name, "runs": runs}
    for metric, unit in (("ssim", ""), ("psnr_y", " dB")):
        target = ref["quality"][metric]
        x264 = at_quality(runs["mp4"], target, metric)
        row[metric] = {"target": target, "x264": x264, "bitrate_ratio": x264["kbps"] / ref["kbps"],
                       "cpu_ratio": x264["recording_cpu"] / ref["recording_cpu"]}
        print(f"{size} {scene_name:6}  EQUAL {metric.upper()} ({target:.4f}{unit} = VP9 at {args.bitrate / 1e6:.2f} "
              f"Mbit/s): x264 {x264['kbps']:.0f} vs VP9 {ref['kbps']:.0f} kbit/s (x{row[metric]['bitrate_ratio']:.2f}),"
              f" recording CPU {x264['recording_cpu']:.2f} vs {ref['recording_cpu']:.2f} s "
              f"(x{row[metric]['cpu_ratio']:.2f})"
              + ("" if x264["inside"] else "  [NOT reached on x264's ladder: its nearest run]"), flush=True)
    return row


def print_goals(results: list[dict], alone: list[dict]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    if alone:
        added = statistics.median(a["ours"] for a in alone)
        print(f"GOAL audio adds <= {GOAL_AUDIO_CORE_PERCENT:.0f} % of a core (audio alone, median of {len(alone)}): "
              f"ours {added:+.1f} % {verdict(added <= GOAL_AUDIO_CORE_PERCENT)} "
              f"(ffmpeg {statistics.median(a['ffmpeg'] for a in alone):+.1f} %)", flush=True)

    for (size, scene_name) in dict.fromkeys((r["size"], r["scene"]) for r in results):
        mine = [r for r in results if r["size"] == size and r["scene"] == scene_name]
        cpu = statistics.median(r["cpu_ratio"] for r in mine)
        goal = GOAL_STATIC_CPU_RATIO if scene_name == "static" else GOAL_MOVING_CPU_RATIO
        line = f"GOAL {size} {scene_name:6}  CPU <= {goal:.2f}x ffmpeg: x{cpu:.2f} {verdict(cpu <= goal)}"
        line += f" (per delivered frame x{statistics.median(r['cpu_per_frame_ratio'] for r in mine):.3f})"
        if "nodamage_cpu_ratio" in mine[0]:
            before = statistics.median(r["nodamage_cpu_ratio"] for r in mine)
            line += f" (without DAMAGE, same run: x{before:.2f})"
        if all("steady_cpu_ratio" in r for r in mine):
            steady = statistics.median(r["steady_cpu_ratio"] for r in mine)
            line += f"; after the first {STEADY_AFTER:.0f} s: x{steady:.3f} {verdict(steady <= goal)}"
        if "audio_cpu_ratio" in mine[0]:
            acpu = statistics.median(r["audio_cpu_ratio"] for r in mine)
            added = statistics.median(r["ours_audio_core_pct"] for r in mine)
            line += (f"; with audio x{acpu:.2f} {verdict(acpu <= GOAL_CPU_RATIO)}; audio adds "
                     f"<= {GOAL_AUDIO_CORE_PERCENT:.0f} % of a core (this scene, full screen): {added:+.1f} % "
                     f"{verdict(added <= GOAL_AUDIO_CORE_PERCENT)}")
        for name in (k for k in mine[0]["runs"]
                     if (k.startswith("ours-") and k != "ours-nodamage") or k.startswith("ffmpeg-")):
            line += (f"; {name} x{statistics.median(r[f'{name}_cpu_ratio'] for r in mine):.2f} (per frame "
                     f"x{statistics.median(r[f'{name}_cpu_per_frame_ratio'] for r in mine):.3f})")
            if all(f"{name}_steady_cpu_ratio" in r for r in mine):
                line += f" (after {STEADY_AFTER:.0f} s x{statistics.median(r[f'{name}_steady_cpu_ratio'] for r in mine):.3f})"
        ssim = {name: statistics.median(r["runs"][name]["quality"]["ssim"] for r in mine)
                for name in mine[0]["runs"]}
        line += "; PSNR Y " + ", ".join(
            f"{name} {statistics.median(r['runs'][name]['quality']['psnr_y'] for r in mine):.2f}"
            for name in mine[0]["runs"])
        line += "; SSIM " + ", ".join(f"{name} {v:.4f}" for name, v in ssim.items())
        print(line, flush=True)


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:KEY=VAL[,KEY=VAL]`` -> (NAME, {KEY: VAL}) for --variant."""
    name, sep, rest = text.partition(":")
    pairs = [p.partition("=") for p in rest.split(",") if p]
    if not sep or not name or not pairs or any(not k or not eq for k, eq, _ in pairs):
        raise argparse.ArgumentTypeError(f"--variant wants NAME:KEY=VAL[,KEY=VAL], got {text!r}")
    return name, {k: v for k, _, v in pairs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, default=2_500_000)
    ap.add_argument("--sizes", default="1920x1080,1280x720")
    ap.add_argument("--scenes", default="moving,static")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per scene, alternating which tool goes first; medians are reported")
    ap.add_argument("--audio", action="store_true",
                    help="also record with sound (ours: --audio both; ffmpeg: + -f pulse x2, amix, libopus)")
    ap.add_argument("--quality-frames", type=int, default=40, help="frames per file scored for SSIM/PSNR")
    ap.add_argument("--codecs", action="store_true",
                    help="instead: ours in webm (libvpx-vp9) vs mp4 (libx264) at equal quality (CODEC_LADDER)")
    ap.add_argument("--before-damage", action="store_true",
                    help="also ours with SNAPLARK_X11_DAMAGE=0 (grab every tick, as before), in the same run")
    ap.add_argument("--variant", action="append", type=parse_variant, metavar="NAME:KEY=VAL[,KEY=VAL]",
                    help="also ours with these libvpx-vp9 options over the defaults (e.g. t1:threads=1; env.NAME=V sets an "
                         "environment variable, e.g. sws:env.SNAPLARK_LIBYUV=0), in the same run")
    ap.add_argument("--ffmpeg-variant", action="append", type=parse_variant, metavar="NAME:KEY=VAL[,KEY=VAL]",
                    help="also ffmpeg with these extra libvpx-vp9 options (e.g. scr:tune-content=screen), same run")
    ap.add_argument("--webcam", action="store_true",
                    help="instead: ours without and with the webcam bubble (file-fed camera), the CPU it adds")
    ap.add_argument("--webcam-before", metavar="TREE",
                    help="with --webcam: also the bubble run from the code in TREE (e.g. a git worktree of the commit "
                         "before a change), in the same run")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args(argv)
    if args.codecs:
        return main_codecs(args)
    if args.webcam:
        from _webcam_cpu import main_webcam

        return main_webcam(args)
    results, alone = [], []
    with tempfile.TemporaryDirectory(prefix="snaplark-bench-") as tmp:
        sound = Sound(Path(tmp) / "pulse") if args.audio else None
        try:
            for size in args.sizes.split(","):
                w, h = (int(v) for v in size.split("x"))
                xvfb, display = start_xvfb(w, h)
                try:
                    if sound is not None and not alone:  # once: it does not depend on the screen size
                        for k in range(args.repeat):
                            alone.append(audio_alone(display, args, Path(tmp) / f"{size}-{k}", sound, k))
                    for scene_name in args.scenes.split(","):
                        scene = PatternScene(w, h, moving=scene_name == "moving")
                        pattern, background = start_pattern(display, scene)
                        runs = []
                        try:
                            for k in range(args.repeat):
                                runs.append(record_all(display, scene, args, Path(tmp) / f"{size}-{scene_name}-{k}",
                                                       k, sound))
                        finally:
                            stop(pattern)
                        for got in runs:
                            score(got, scene, background, args)
                            results.append(report_row(size, scene_name, got, args))
                        if args.repeat > 1:
                            mine = [r for r in results if r["size"] == size and r["scene"] == scene_name]
                            keys = ["fps_ratio", "cpu_ratio", "recording_cpu_ratio", "bitrate_ratio",
                                    "cpu_per_frame_ratio"] + (["audio_cpu_ratio", "ours_audio_core_pct"]
                                                              if sound else [])
                            med = {k: statistics.median(r[k] for r in mine) for k in keys}
                            print(f"{size} {scene_name:6}  MEDIAN of {len(mine)}: "
                                  + "  ".join(f"{k} {v:.3f}" for k, v in med.items()), flush=True)
                finally:
                    stop(xvfb)
        finally:
            if sound is not None:
                sound.close()
    print_goals(results, alone)
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "audio_alone": alone}, indent=2))
    return 0


def main_codecs(args) -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="snaplark-bench-") as tmp:
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            xvfb, display = start_xvfb(w, h)
            try:
                for scene_name in args.scenes.split(","):
                    scene = PatternScene(w, h, moving=scene_name == "moving")
                    pattern, background = start_pattern(display, scene)
                    try:
                        for k in range(args.repeat):
                            rows.append(compare_codecs(display, scene, background, args,
                                                       Path(tmp) / f"{size}-{scene_name}-{k}", size, scene_name))
                    finally:
                        stop(pattern)
            finally:
                stop(xvfb)
    for (size, scene_name) in dict.fromkeys((r["size"], r["scene"]) for r in rows):
        mine = [r for r in rows if r["size"] == size and r["scene"] == scene_name]
        for metric in ("ssim", "psnr_y"):
            reached = sum(r[metric]["x264"]["inside"] for r in mine)
            print(f"CODECS {size} {scene_name:6}  libx264 / libvpx-vp9 at equal {metric.upper()} (median of "
                  f"{len(mine)}, reached in {reached}): bitrate "
                  f"x{statistics.median(r[metric]['bitrate_ratio'] for r in mine):.2f}, recording CPU "
                  f"x{statistics.median(r[metric]['cpu_ratio'] for r in mine):.2f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"codecs": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
