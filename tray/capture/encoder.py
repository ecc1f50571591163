"""Encoding recordings into a file that is safe to upload while it grows: VP9 (+ Opus) in WebM, or H.264 (+ AAC) in
fragmented MP4, behind one small interface (:class:`VideoWriter`; :func:`make_writer` picks by ``capture.format``).

A writer (``WebmVp9Writer``, ``Mp4H264Writer``; the shared part is :class:`MuxedFileWriter`) owns the output file:
it opens it unbuffered (so every byte the muxer hands over reaches the OS at once), lets PyAV's muxer write ~1 s
clusters (WebM) or fragments (MP4) into it, and after each muxed packet looks at the file size (``os.fstat``). When
the file grew and at least ``durable_interval`` seconds passed since the last fsync, it fsyncs and reports the new
size through ``on_durable``. The muxer writes a cluster or fragment in one piece when it closes it, so reported
sizes usually fall on their boundaries; the contract only promises that reported bytes are on disk and (past
offset 4096) final.

With ``audio_bitrate`` set the file gets one Opus track (48 kHz stereo, 20 ms frames, ``encode_audio``); the
muxer interleaves the two streams by timestamp (it holds packets of the stream that is ahead until the other one
catches up), so audio that is mixed a little behind the video delays durability by that much, never the
timestamps. With an audio track the muxer still rewrites only the header near offset 40 at close
(tests/e2e/audio/test_audio_e2e.py checks it).

MP4 (``Mp4H264Writer``, ``capture.format = "mp4"``): H.264 from libx264 (``X264_REALTIME_OPTIONS``: preset
superfast, tune zerolatency -- no B-frames, no look-ahead, so every frame comes out of the encoder at once), yuv420p,
and AAC (FFmpeg's ``aac``, 1024-sample frames; PyAV regroups our 960-sample frames) when there is audio, in a
*fragmented* MP4 (``MP4_MUXER_OPTIONS``): ``empty_moov`` writes a moov with no samples up front, each ``moof`` +
``mdat`` fragment is written whole when it is cut and never touched again, ``default_base_moof`` makes the fragments
self-contained, and ``frag_duration`` cuts one every ~1 s (``frag_keyframe`` alone would cut only at keyframes,
every ``KEYFRAME_SECONDS``). ``delay_moov`` writes that moov together with the first fragment, once the AAC
encoder's 1024-sample priming is known, so the moov gets an edit list that hides it: without it the muxer shifts
*both* tracks 21.3 ms late (first video frame at 0.0213 s); with it a click encoded at 1.000 s decodes at 1.000 s.
What the muxer rewrites at close, measured on a seekable file (snapshot at every durable notice, compared with the
closed file; tests/e2e/capture/test_recording_mp4_e2e.py and tests/e2e/audio/test_audio_mp4_e2e.py keep checking):
**nothing**, with or without audio -- close only appends the last fragment and an ``mfra`` index (a few hundred
bytes: one ``tfra`` entry per fragment and track) after the last reported byte. The moov's duration stays 0
(players sum the fragments; FFmpeg reads ``mfra``). So every reported byte, part 0 included, is final; the
upload still sends part 0 last, as for WebM. The first durable notice comes with the first fragment (~1 s),
header included. The audio's end is not trimmed (no edit list at the end of a fragmented file): the AAC track may
last up to one frame (21 ms) past the video.

Threading: a writer is used by one thread (the recorder's encoder thread).
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

#: libvpx-vp9 realtime settings shared with benchmarks/recording.py (the ffmpeg side uses the same values).
#: lag-in-frames=0: libvpx keeps a 25-frame look-ahead even with deadline=realtime unless told otherwise, which
#: would hold ~1 s of frames (and ~1 s of durability) inside the encoder.
VP9_REALTIME_OPTIONS = {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "lag-in-frames": "0"}
#: Matroska clusters of <= 1 s (or 4 MB): about one flush per second.
WEBM_MUXER_OPTIONS = {"cluster_time_limit": "1000", "cluster_size_limit": "4000000"}
#: libx264 for live recording. zerolatency: no B-frames, no look-ahead, sliced threads (no frame held back).
#: superfast: 1280x720 desktop-like scene at 1 Mbit/s, per frame (process time, 2-core EPYC): ultrafast 2.0 ms,
#: superfast 3.7 ms, veryfast 6.2 ms (libvpx-vp9 realtime cpu-used 8: 6.5 ms), luma PSNR equal within 0.05 dB,
#: bytes +8 % / +3 % / 0 (ultrafast / superfast / veryfast): superfast keeps most of the CPU saving for little size.
X264_REALTIME_OPTIONS = {"preset": "superfast", "tune": "zerolatency"}
#: Fragmented MP4 that only ever appends: see the module docstring.
MP4_MUXER_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof+delay_moov",
                     "frag_duration": "1000000"}  # microseconds: a fragment about every second
TIME_BASE = Fraction(1, 1000)  # pts are milliseconds (VFR)
AUDIO_RATE = 48_000
AUDIO_TIME_BASE = Fraction(1, AUDIO_RATE)  # audio pts are sample counts
KEYFRAME_SECONDS = 5  # max keyframe distance, in frames at the nominal fps


# ------------------------------------------------------------------------------------------------- formats
@dataclass(frozen=True)
class RecordingFormat:
    """One ``capture.format``: the container, its file extension and the init metadata's ``codec``."""

    name: str
    extension: str
    codec: str
    audio_codec: str
    suffixes: tuple[str, ...]  # file name suffixes that mean this container


RECORDING_FORMATS = {
    "webm": RecordingFormat("webm", ".webm", "vp9", "opus", (".webm", ".mkv")),
    "mp4": RecordingFormat("mp4", ".mp4", "h264", "aac", (".mp4",)),
}
DEFAULT_FORMAT = "webm"


def recording_format(name: str) -> RecordingFormat:
    """The format called ``name``; ``ValueError`` naming the choices for any other."""
    try:
        return RECORDING_FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"recording format must be one of {', '.join(RECORDING_FORMATS)}, got {name!r}") from None


def format_of_path(path: str | os.PathLike) -> str | None:
    """The format a file name's suffix means (``.mp4`` -> ``"mp4"``), or None for any other suffix."""
    suffix = Path(path).suffix.lower()
    return next((f.name for f in RECORDING_FORMATS.values() if suffix in f.suffixes), None)


class VideoWriter(Protocol):
    """What the recorder needs of a writer, whatever the format. Used by one thread; call order: ``open()``, then
    ``encode_frame``/``encode``/``encode_audio``/``sync_if_due`` any number of times, then ``close()`` (or
    ``abort()`` after an error). ``on_durable(n)`` (given to the constructor) is called from those calls with a
    strictly growing ``n``: bytes [0, n) are fsynced and, past offset 4096, final."""

    path: Path
    durable_bytes: int
    frames_encoded: int
    audio_frames_encoded: int
    end_ms: int
    closed: bool

    @property
    def frame_ms(self) -> int: ...
    @property
    def has_audio(self) -> bool: ...
    def open(self) -> None: ...
    def converter(self) -> Callable[[int, int, Any], Any]: ...
    def encode(self, width: int, height: int, bgra: Any, pts_ms: int) -> None: ...
    def encode_frame(self, frame: Any, pts_ms: int) -> None: ...
    def encode_audio(self, samples: Any, pts: int) -> None: ...
    def sync_if_due(self, *, force: bool = False) -> None: ...
    def close(self) -> int: ...
    def abort(self) -> int: ...


def make_writer(format: str, path: Path, width: int, height: int, **options: Any) -> VideoWriter:
    """A writer for ``format`` (``"webm"`` | ``"mp4"``); ``options`` as :class:`MuxedFileWriter` takes them."""
    writers: dict[str, type[MuxedFileWriter]] = {"webm": WebmVp9Writer, "mp4": Mp4H264Writer}
    return writers[recording_format(format).name](path, width, height, **options)


# ------------------------------------------------------------------------------------------------- writers
class MuxedFileWriter(ABC):
    """Encodes BGRA frames with VFR millisecond timestamps (and 20 ms audio frames) into a growing file. A subclass
    names the container and its options (``FORMAT``, ``MUXER_OPTIONS``) and sets up its two streams
    (:meth:`_add_video`, :meth:`_add_audio`)."""

    FORMAT: RecordingFormat
    MUXER_OPTIONS: dict[str, str]

    def __init__(self, path: Path, width: int, height: int, *, fps: int, bitrate: int,
                 on_durable: Callable[[int], None], clock: Callable[[], float],
                 durable_interval: float = 1.0, audio_bitrate: int | None = None):
        if width % 2 or height % 2:
            raise ValueError(f"frame size must be even for yuv420p, got {width}x{height}")
        self.path = Path(path)
        self.width, self.height, self.fps, self.bitrate = width, height, fps, bitrate
        self._on_durable = on_durable
        self._clock = clock
        self._durable_interval = durable_interval
        self._file = None
        self._container = None
        self._stream = None
        self._frame_ms = max(1, round(1000 / fps))
        self.durable_bytes = 0
        self._last_sync = float("-inf")
        self.frames_encoded = 0
        self.packets_muxed = 0
        self.last_pts: int | None = None
        self.end_ms = 0  # max(pts + duration) over muxed packets = the container's duration
        self.closed = False
        self._convert = None
        self.audio_bitrate = audio_bitrate
        self._audio = None  # the audio stream, when there is one
        self.audio_frames_encoded = 0
        self.audio_packets_muxed = 0
        self._has_audio = False  # after close: whether there was an audio track
        self.zero_pages_released = 0  # bytes, when the video encoder opened

    @abstractmethod
    def _add_video(self, container):
        """Add and set up the video stream; returns it."""

    @abstractmethod
    def _add_audio(self, container):
        """Add and set up the audio stream; returns it."""

    def _video_stream(self, container, codec: str, options: dict[str, str]):
        stream = container.add_stream(codec)
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        cc = stream.codec_context
        cc.time_base = TIME_BASE
        cc.framerate = Fraction(self.fps)
        cc.bit_rate = self.bitrate
        cc.gop_size = KEYFRAME_SECONDS * self.fps
        cc.options = dict(options)
        return stream

    def _audio_stream(self, container, codec: str):
        audio = container.add_stream(codec, rate=AUDIO_RATE, layout="stereo")
        audio.codec_context.bit_rate = self.audio_bitrate
        audio.time_base = AUDIO_TIME_BASE
        return audio

    def open(self) -> None:
        import av  # lazy: keeps `import tray` light

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w+b", buffering=0)  # noqa: SIM115 - closed in close()/abort()
        try:
            self._container = av.open(self._file, mode="w", format=self.FORMAT.name,
                                      options=dict(self.MUXER_OPTIONS))
            self._stream = self._add_video(self._container)
            if self.audio_bitrate:
                self._audio = self._add_audio(self._container)
        except BaseException:
            self._file.close()
            raise

    def converter(self):
        """A function ``(width, height, bgra) -> av.VideoFrame`` (yuv420p, output size; BGRA tightly packed, of
        any size: scaled if it differs) for ONE thread (``tray.capture.yuv``: libyuv, else swscale). The recorder
        converts on its capture thread, so conversion and encoding run in parallel and the queue holds 1.5 bytes
        per pixel instead of 4. Touches no writer state.

        The grab is read in place (numpy view / pointer), never copied. Copying into one reused
        ``av.VideoFrame(w, h, "bgra")`` instead (``planes[0].update``; no numpy) cost +1.5..1.9 ms per frame at
        1920x1080 (the 8 MiB memcpy does not fit the cache)."""
        from tray.capture.yuv import make_converter

        return make_converter(self.width, self.height)

    def encode(self, width: int, height: int, bgra, pts_ms: int) -> None:
        """Encode one BGRA frame shown from ``pts_ms`` on."""
        if self._convert is None:
            self._convert = self.converter()
        self.encode_frame(self._convert(width, height, bgra), pts_ms)

    def encode_frame(self, frame, pts_ms: int) -> None:
        """Encode a frame from ``converter()`` shown from ``pts_ms`` on (the same frame may be encoded again later)."""
        if self.last_pts is not None and pts_ms <= self.last_pts:
            pts_ms = self.last_pts + 1  # the muxer needs strictly increasing timestamps
        frame.pts = pts_ms
        frame.time_base = TIME_BASE
        if not self._stream.codec_context.is_open:
            self._open_video_encoder()
        self._mux(self._stream.encode(frame))
        self.frames_encoded += 1
        self.last_pts = pts_ms

    def _zeroed_at_open(self) -> int:
        """Bytes of zero-filled scratch memory the video encoder allocates when it opens and uses only in part (0:
        none known)."""
        return 0

    def _open_video_encoder(self) -> None:
        """Open the video encoder (PyAV would at the first encode; the same call) on the thread that encodes,
        before its first frame, and give back the pages of its scratch memory that are still zero
        (``tray_platform.memory.release_zero_pages_mapped_by``: the encoder reads the same zeros either way)."""
        zeroed = self._zeroed_at_open()
        cc = self._stream.codec_context
        if not zeroed:
            cc.open(strict=False)
            return
        from tray_platform.memory import release_zero_pages_mapped_by

        _, released = release_zero_pages_mapped_by(lambda: cc.open(strict=False), min_bytes=zeroed // 2)
        self.zero_pages_released = released
        log.debug("video encoder open: %.1f MiB of zero-filled pages given back", released / 2**20)

    @property
    def frame_ms(self) -> int:
        """One frame interval at the nominal fps, in ms: the duration given to each video packet."""
        return self._frame_ms

    @property
    def has_audio(self) -> bool:
        return self._audio is not None or self._has_audio

    def encode_audio(self, samples, pts: int) -> None:
        """Encode 960 samples (float32, frames x 2) that start ``pts`` samples into the output."""
        import av

        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = pts
        frame.time_base = AUDIO_TIME_BASE
        self._mux_audio(self._audio.encode(frame))
        self.audio_frames_encoded += 1

    # Durations are read before mux(): muxing rescales the packet to the stream's time base, which the MP4 muxer
    # chooses itself (e.g. 1/16000 for video).
    def _mux_audio(self, packets) -> None:
        for packet in packets:
            if packet.pts is not None and packet.duration:
                self.end_ms = max(self.end_ms, round((packet.pts + packet.duration) * 1000 / AUDIO_RATE))
            self._container.mux(packet)
            self.audio_packets_muxed += 1
        self.sync_if_due()

    def _mux(self, packets) -> None:
        for packet in packets:
            packet.duration = self._frame_ms  # the encoders leave it 0; the muxer's duration is max(pts + duration)
            self.end_ms = max(self.end_ms, packet.pts + self._frame_ms)
            self._container.mux(packet)
            self.packets_muxed += 1
        self.sync_if_due()

    def sync_if_due(self, *, force: bool = False) -> None:
        """fsync and report if the file grew and the interval passed (or ``force``)."""
        if self._file is None or self._file.closed:
            return
        size = os.fstat(self._file.fileno()).st_size
        if size <= self.durable_bytes:
            return
        now = self._clock()
        if not force and now - self._last_sync < self._durable_interval:
            return
        os.fsync(self._file.fileno())
        self._last_sync = now
        self.durable_bytes = size
        self._on_durable(size)

    def close(self) -> int:
        """Flush the encoders, write the trailer (WebM: cues + final header; MP4: last fragment + mfra), fsync,
        close. Returns the file size."""
        try:
            self._mux(self._stream.encode(None))
            if self._audio is not None:
                self._mux_audio(self._audio.encode(None))
            self._container.close()
            os.fsync(self._file.fileno())
            return os.fstat(self._file.fileno()).st_size
        finally:
            self.closed = True
            self._file.close()
            self._release_codecs()

    def abort(self) -> int:
        """After a write error: keep what reached the disk (playable up to the last complete cluster or
        fragment), release everything without asking the muxer to write more. Returns the file size on disk."""
        self.closed = True
        if self._file is None:
            return 0
        try:
            if self._container is not None:
                self._detach_container()
        finally:
            size = 0
            if not self._file.closed:
                try:
                    os.fsync(self._file.fileno())
                except OSError as exc:
                    log.warning("fsync after write error failed: %s", exc)
                size = os.fstat(self._file.fileno()).st_size
                self._file.close()
            self._release_codecs()
        return size

    def _release_codecs(self) -> None:
        """Drop the muxer, the streams and the converter once the file is closed: the encoders' memory (libvpx
        at 1080p: ~90-100 MiB resident; PyAV frees it when the codec context dies) goes back now, not whenever
        the cyclic GC collects the recorder, which holds this writer in reference cycles (its ``on_durable`` is a
        bound method of the recorder). A long-lived tray process kept each recording's encoder until a full GC."""
        self._has_audio |= self._audio is not None
        self._container = self._stream = self._audio = self._convert = None

    def _detach_container(self) -> None:
        # Closing the container writes the trailer; with a full disk that fails again, which is fine: the
        # exception is logged and what is on disk stays.
        try:
            self._container.close()
        except Exception as exc:  # noqa: BLE001 - reported, file kept
            log.warning("closing the muxer after a write error failed: %s", exc)


class WebmVp9Writer(MuxedFileWriter):
    """VP9 (libvpx, realtime) + Opus in WebM: ~1 s clusters; at close the muxer rewrites its header near offset 40."""

    FORMAT = RECORDING_FORMATS["webm"]
    MUXER_OPTIONS = WEBM_MUXER_OPTIONS

    def _add_video(self, container):
        return self._video_stream(container, "libvpx-vp9", VP9_REALTIME_OPTIONS)

    def _zeroed_at_open(self) -> int:
        """libvpx's token buffer: worst-case tokens of a frame (16 x 16 x 3 + 4 per 16x16 macroblock, 16 B each),
        zero-filled with memset at open (1080p: 96 MiB, of which a frame at recording bitrates writes a few MiB)."""
        return -(-self.height // 16) * -(-self.width // 16) * (16 * 16 * 3 + 4) * 16

    def _add_audio(self, container):
        return self._audio_stream(container, "libopus")


class Mp4H264Writer(MuxedFileWriter):
    """H.264 (libx264, zerolatency) + AAC in fragmented MP4: ~1 s fragments, nothing rewritten at close."""

    FORMAT = RECORDING_FORMATS["mp4"]
    MUXER_OPTIONS = MP4_MUXER_OPTIONS

    def _add_video(self, container):
        return self._video_stream(container, "libx264", X264_REALTIME_OPTIONS)

    def _add_audio(self, container):
        return self._audio_stream(container, "aac")
