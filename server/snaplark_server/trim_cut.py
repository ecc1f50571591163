"""Frame-accurate trim (issue 15): stream copy from the first keyframe after the requested start, re-encode only the
edge before it.

A compressed video can only start at a keyframe, so a pure stream copy starts up to one keyframe interval early.
Here the frames from the requested start to the next keyframe (the "edge") are decoded and encoded again with the
same codec (VP9 for WebM, H.264 for MP4), the first of them becoming a keyframe, and every packet from that next
keyframe on is copied untouched. Audio packets are copied from the same start (never before it).

Why the splice is sound:
- VP9: every keyframe carries its own headers and resets the decoder; nothing outside the packets is needed (the
  WebM CodecPrivate is optional and only says profile/level). Same size and pixel format are kept.
- H.264 in MP4: the decoder's SPS/PPS live in the sample entry (avcC), once for the whole track. The edge encoder is
  told to number its SPS/PPS differently (x264 ``sps-id``) and both sets go into one avcC (it may hold several);
  every slice names its PPS, so the re-encoded frames use theirs and the copied ones the original's. The copied
  part begins with an IDR frame (a sync sample), which references nothing before it. When the source's avcC cannot
  be read, already uses the id, or its stream is not avcC, the whole range is re-encoded instead (and said so).
Any other codec is re-encoded whole range with the container's usual codec.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

log = logging.getLogger(__name__)

EDGE_CODECS = {"webm": "libvpx-vp9", "mp4": "libx264"}
SOURCE_CODECS = {"webm": "vp9", "mp4": "h264"}
MAX_PS_ID = 31  # SPS ids are 0..31; x264 numbers its SPS and PPS with the first id the source does not use
MIN_BIT_RATE = 200_000
ENCODER_OPTIONS = {"libvpx-vp9": {"deadline": "realtime", "cpu-used": "6", "row-mt": "1", "lag-in-frames": "0"},
                   "libx264": {"preset": "veryfast", "tune": "zerolatency"}}


class CutError(Exception):
    pass


@dataclass(frozen=True)
class Cut:
    start: float  # source time of the first frame kept (the requested start, to a frame)
    end: float  # source time where the last packet kept ends
    duration: float
    method: str  # "copy" (start was a keyframe), "edge" (re-encoded up to the next keyframe), "whole"
    reencoded_until: float | None  # source time up to which frames were encoded again (None: none were)
    reason: str | None = None  # why "whole" and not "edge"


def _nal_units(annexb: bytes) -> list[bytes]:
    units, i, n = [], 0, len(annexb)
    starts = []
    while True:
        j = annexb.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else n
        units.append(annexb[s:e].rstrip(b"\x00"))
    return units


def _parse_avcc(data: bytes) -> tuple[bytes, list[bytes], list[bytes], bytes]:
    """(the 5 header bytes, SPS list, PPS list, the rest) of an AVCDecoderConfigurationRecord."""
    if len(data) < 7 or data[0] != 1:
        raise CutError("the H.264 stream has no avcC configuration")
    pos, sps, pps = 6, [], []
    for _ in range(data[5] & 0x1F):
        (size,) = struct.unpack_from(">H", data, pos)
        sps.append(data[pos + 2:pos + 2 + size])
        pos += 2 + size
    count, pos = data[pos], pos + 1
    for _ in range(count):
        (size,) = struct.unpack_from(">H", data, pos)
        pps.append(data[pos + 2:pos + 2 + size])
        pos += 2 + size
    if pos > len(data):
        raise CutError("the H.264 avcC configuration is truncated")
    return data[:5], sps, pps, data[pos:]


def _ue(bits: str, pos: int) -> tuple[int, int]:
    zeros = 0
    while bits[pos + zeros] == "0":
        zeros += 1
    value = int(bits[pos + zeros:pos + 2 * zeros + 1], 2) - 1
    return value, pos + 2 * zeros + 1


def _ps_id(nal: bytes, sps: bool) -> int:
    """seq_parameter_set_id of an SPS (after profile, constraints, level) or pic_parameter_set_id of a PPS."""
    payload = nal[4:] if sps else nal[1:]
    bits = "".join(f"{b:08b}" for b in payload[:16])
    return _ue(bits, 0)[0]


def free_ps_id(source: bytes) -> int:
    """The first SPS/PPS id the source's avcC uses for neither (a trimmed video already has two sets)."""
    _head, sps, pps, _rest = _parse_avcc(source)
    used = {_ps_id(u, True) for u in sps} | {_ps_id(u, False) for u in pps}
    free = [i for i in range(1, MAX_PS_ID + 1) if i not in used]
    if not free:
        raise CutError("the source uses every parameter set id")
    return free[0]


def merged_avcc(source: bytes, edge_annexb: bytes) -> bytes:
    """One avcC with the source's SPS/PPS and the edge encoder's (other ids)."""
    head, sps, pps, rest = _parse_avcc(source)
    units = _nal_units(edge_annexb) if edge_annexb[:1] == b"\x00" else None
    if units is None:
        _h, units_sps, units_pps, _r = _parse_avcc(edge_annexb)
    else:
        units_sps = [u for u in units if u and u[0] & 0x1F == 7]
        units_pps = [u for u in units if u and u[0] & 0x1F == 8]
    if not units_sps or not units_pps:
        raise CutError("the H.264 encoder gave no SPS/PPS")
    if {_ps_id(s, True) for s in sps} & {_ps_id(s, True) for s in units_sps} or \
            {_ps_id(p, False) for p in pps} & {_ps_id(p, False) for p in units_pps}:
        raise CutError("the edge encoder's parameter set ids are the source's")
    all_sps, all_pps = sps + units_sps, pps + units_pps
    out = bytearray(head) + bytes([0xE0 | len(all_sps)])
    for unit in all_sps:
        out += struct.pack(">H", len(unit)) + unit
    out.append(len(all_pps))
    for unit in all_pps:
        out += struct.pack(">H", len(unit)) + unit
    # the profile/level bytes stay the source's; ``rest`` (high-profile chroma/bit-depth fields) stays too
    return bytes(out + rest)


def _to_avcc_sample(annexb_packet: bytes) -> bytes:
    """libx264 without a global header writes Annex B; MP4 samples are 4-byte length-prefixed NAL units, and the
    in-band SPS/PPS are dropped (they are in the avcC)."""
    out = bytearray()
    for unit in _nal_units(annexb_packet):
        if unit and unit[0] & 0x1F not in (7, 8):
            out += struct.pack(">I", len(unit)) + unit
    return bytes(out)


def _frame_duration(video, times: list[float]) -> float:
    steps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    if steps:
        return steps[len(steps) // 2]
    rate = video.average_rate or video.guessed_rate
    return float(1 / rate) if rate else 1 / 30


def _bit_rate(packets: list, seconds: float) -> int:
    size = sum(p.size for p in packets)
    return max(MIN_BIT_RATE, int(size * 8 / max(seconds, 1e-3) * 1.5))


def _encoder(codec: str, frame, video, bit_rate: int, frame_dur: float, context=None, ps_id: int | None = None):
    import av

    cc = context if context is not None else av.CodecContext.create(codec, "w")
    cc.width, cc.height = frame.width, frame.height
    cc.pix_fmt = "yuv420p"
    cc.time_base = video.time_base
    cc.framerate = Fraction(1 / frame_dur).limit_denominator(1001)
    cc.bit_rate = bit_rate
    cc.gop_size = 100_000  # one keyframe: the first frame; the copied part brings its own
    cc.max_b_frames = 0
    cc.options = dict(ENCODER_OPTIONS[codec], **({"x264-params": f"sps-id={ps_id}"} if ps_id is not None else {}))
    if context is None and codec == "libx264":  # SPS/PPS in extradata (for the merged avcC), not in the packets
        cc.flags |= av.codec.context.Flags.global_header
    return cc


def cut(src, dest: Path, start: float, end: float, fmt: str, *, whole: bool = False) -> Cut:
    """Write [start, end) of the open PyAV container ``src`` to ``dest`` (``fmt`` = "webm" | "mp4"); ``whole``:
    re-encode the whole range even where the edge would do (benchmarks/trim.py compares the two)."""
    import av

    video = next((s for s in src.streams if s.type == "video"), None)
    if video is None:
        raise CutError("no video stream")
    packets = []
    try:
        for packet in src.demux():
            if packet.pts is None or packet.size == 0:
                continue
            if float(packet.pts * packet.time_base) >= end - 1e-6:
                if packet.stream is video:
                    break
                continue
            packets.append(packet)
    except av.FFmpegError as exc:
        raise CutError(f"the video could not be read to the cut ({exc})") from None
    vpk = [p for p in packets if p.stream is video]
    times = sorted(float(p.pts * p.time_base) for p in vpk)
    if not times:
        raise CutError("nothing of the video is left between start and end")
    half = _frame_duration(video, times) / 2
    keys = [(i, float(p.pts * p.time_base)) for i, p in enumerate(vpk) if p.is_keyframe]
    if not keys:
        raise CutError("the video has no keyframe")
    k0 = max((k for k in keys if k[1] <= start + half), default=keys[0], key=lambda k: k[1])
    k1 = min((k for k in keys if k[1] > start + half), default=None, key=lambda k: k[1])
    method, reason = ("copy" if abs(k0[1] - start) <= half or start <= times[0] else "edge"), None
    source_codec = video.codec_context.name
    if method == "edge" and whole:
        method, reason = "whole", "asked for"
    elif method == "edge" and source_codec != SOURCE_CODECS[fmt]:
        method, reason = "whole", f"{source_codec} in .{fmt}: the edge cannot be encoded as {SOURCE_CODECS[fmt]}"
    elif method == "edge" and video.codec_context.pix_fmt != "yuv420p":
        method, reason = "whole", f"the video is {video.codec_context.pix_fmt}, the edge would be yuv420p"
    elif method == "edge" and any(p.dts is not None and p.dts != p.pts for p in vpk):
        method, reason = "whole", "the video has reordered frames (B-frames): the copied part's timestamps would " \
                                  "overlap the edge's"
    merged = None
    if method == "copy":
        first_time, edge_frames = k0[1], []
        copied = vpk[k0[0]:]
    else:
        edge_packets = vpk[k0[0]:k1[0]] if (k1 is not None and method == "edge") else vpk[k0[0]:]
        edge_frames = _decode_all(video, edge_packets, start, half, end)
        if not edge_frames:
            raise CutError("no frame of the video lies between start and end")
        first_time = _first_time(edge_frames[0], video, start, half)
        copied = vpk[k1[0]:] if (k1 is not None and method == "edge") else []
    bit_rate = _bit_rate(vpk[k0[0]:], (times[-1] - k0[1]) + 2 * half)
    encoder = None
    if method == "edge" and edge_frames:
        try:
            source_avcc = bytes(video.codec_context.extradata or b"") if fmt == "mp4" else b""
            ps_id = free_ps_id(source_avcc) if fmt == "mp4" else None
            encoder = _encoder(EDGE_CODECS[fmt], edge_frames[0], video, bit_rate, 2 * half, ps_id=ps_id)
            encoder.open()  # the extradata merged is the one of the encoder that encodes the edge
            merged = merged_avcc(source_avcc, bytes(encoder.extradata or b"")) if fmt == "mp4" else None
        except (CutError, struct.error, IndexError, ValueError) as exc:
            method, reason, copied, encoder = "whole", f"the H.264 parameter sets cannot be merged ({exc})", [], None
            edge_frames = _decode_all(video, vpk[k0[0]:], start, half, end)
    return _write(src, video, dest, fmt, packets, copied, edge_frames, first_time, method, reason, merged,
                  encoder, bit_rate, 2 * half)


def _decode_all(video, packets, start: float, half: float, end: float) -> list:
    """The frames of ``packets`` (from a keyframe on) shown from ``start`` to ``end``: the first is the frame on the
    screen at ``start`` -- the one nearest it, or an earlier one still shown (a recorder skips unchanged frames)."""
    import av

    video.codec_context.flush_buffers()  # a second call (the whole range after the edge) drained it first
    frames = []
    try:
        for packet in packets + [None]:
            for frame in video.codec_context.decode(packet):
                if frame.pts is not None and float(frame.pts * video.time_base) < end - 1e-6:
                    frames.append(frame)
    except av.FFmpegError as exc:
        raise CutError(f"the video could not be decoded ({exc})") from None
    frames.sort(key=lambda f: f.pts)
    shown = [i for i, f in enumerate(frames) if float(f.pts * video.time_base) <= start + half]
    return frames[shown[-1]:] if shown else frames


def _first_time(frame, video, start: float, half: float) -> float:
    """The source time the trimmed video's 0 stands for: the first frame's own time, or ``start`` when that frame
    was already on the screen long before (it is then shown from 0)."""
    t = float(frame.pts * video.time_base)
    return t if t >= start - half else start


def _write(src, video, dest: Path, fmt: str, packets: list, copied: list, frames: list, first_time: float,
           method: str, reason: str | None, merged: bytes | None, encoder, bit_rate: int, frame_dur: float) -> Cut:
    """Mux the edge (``frames`` through ``encoder``, or the whole range through a new stream's encoder), then the
    ``copied`` video packets and the audio, every stream shifted so that ``first_time`` is 0."""
    import av

    options = {"movflags": "+faststart"} if fmt == "mp4" else {}
    copied_ids = {id(p) for p in copied}
    last_end, reencoded_until = 0.0, None
    with av.open(str(dest), mode="w", format=fmt, options=options) as out:
        mapping, out_video = {}, None
        for stream in src.streams:
            if stream.type == "audio":
                mapping[stream.index] = out.add_stream_from_template(stream)
            elif stream is video and method != "whole":
                out_video = mapping[stream.index] = out.add_stream_from_template(stream)
                if merged is not None:
                    out_video.codec_context.extradata = merged
        if method == "whole":
            out_video = out.add_stream(EDGE_CODECS[fmt])
            out_video.time_base = video.time_base
            encoder = _encoder(EDGE_CODECS[fmt], frames[0], video, bit_rate, frame_dur, out_video.codec_context)

        def emit(packet, target, t_end: float) -> None:
            nonlocal last_end
            last_end = max(last_end, t_end)
            packet.stream = target
            out.mux(packet)

        if frames:
            shift = int(round(Fraction(first_time) / video.time_base))
            encoded = []
            for frame in frames:
                frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
                pts = max(0, frame.pts - shift)  # a frame shown since before the start is shown from 0
                frame.pts, frame.time_base = pts, video.time_base
                encoded += encoder.encode(frame)
            encoded += encoder.encode(None)
            step = int(round(Fraction(frame_dur) / video.time_base)) or 1
            for packet in encoded:
                if method == "edge" and fmt == "mp4":
                    new = av.Packet(_to_avcc_sample(bytes(packet)))
                    new.pts, new.dts, new.time_base = packet.pts, packet.dts, packet.time_base
                    new.is_keyframe = packet.is_keyframe
                    packet = new
                packet.duration = packet.duration or step
                tb = packet.time_base or video.time_base
                emit_t = float((packet.pts + packet.duration) * tb)
                emit(packet, out_video, emit_t)
            reencoded_until = float(copied[0].pts * video.time_base) if copied else first_time + last_end
        for packet in packets:
            is_video = packet.stream is video
            if is_video and id(packet) not in copied_ids:
                continue
            target = mapping.get(packet.stream.index)
            if target is None:
                continue
            t = float(packet.pts * packet.time_base)
            if not is_video and t < first_time - 1e-6:
                continue  # audio before the first frame kept
            shift = int(round(Fraction(first_time) / packet.time_base))
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            if packet.pts < 0:
                continue
            emit(packet, target, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return Cut(start=round(first_time, 3), end=round(first_time + last_end, 3), duration=round(last_end, 3),
               method=method, reencoded_until=None if reencoded_until is None else round(reencoded_until, 3),
               reason=reason)
