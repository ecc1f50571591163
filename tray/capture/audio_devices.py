"""Which audio a recording asks for and from which devices: :class:`AudioSpec`, device listing and choice.

``AudioSpec.mode``: ``"none"`` (no audio track), ``"mic"``, ``"system"``, ``"both"`` (mixed into one track).
``mic_device`` / ``system_device``: a device ``id`` or exact ``name`` from :func:`list_audio_devices`
(``snaplark devices`` prints them); None = the OS default (the default microphone; the monitor of the default
output). :func:`audio_spec` turns the ``capture.audio`` setting (with ``"auto"``) into a spec;
:func:`resolve_devices` picks the devices at ``start()`` and raises :class:`UnknownAudioDevice` -- the one audio
problem that stops a recording -- for a named device that does not exist.

Threading: pure functions and frozen values; the adapter calls (``devices()``) block briefly on the audio server.
"""

from __future__ import annotations

from dataclasses import dataclass

from tray_platform.base import AudioDevice, AudioInput, AudioUnavailable

from tray.capture.errors import InvalidCaptureTarget

OPUS_BITRATE = 96_000
MODES = ("none", "mic", "system", "both")


@dataclass(frozen=True)
class AudioSpec:
    mode: str = "none"
    mic_device: str | None = None
    system_device: str | None = None
    bitrate: int = OPUS_BITRATE

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidCaptureTarget(f"audio mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not isinstance(self.bitrate, int) or not 6_000 <= self.bitrate <= 510_000:
            raise InvalidCaptureTarget(f"audio bitrate must be 6000..510000 bit/s, got {self.bitrate!r}")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The inputs asked for: ``"mic"`` and/or ``"system"``."""
        return {"none": (), "mic": ("mic",), "system": ("system",), "both": ("mic", "system")}[self.mode]


class UnknownAudioDevice(InvalidCaptureTarget):
    def __init__(self, kind: str, wanted: str, devices: list[AudioDevice]):
        ordered = sorted(devices, key=lambda d: d.kind != "mic")  # microphones first
        listing = "; ".join(f"{d.id} ({d.name}, {d.kind})" for d in ordered) or "none"
        label = "microphone" if kind == "mic" else "output monitor"
        super().__init__(f"no audio input {wanted!r} for the {label}; inputs on this machine: {listing}")
        self.devices = devices


def default_audio_input() -> AudioInput:
    """The OS adapter (``SNAPLARK_AUDIO`` overrides the choice). Raises ``AudioUnavailable``."""
    from tray_platform.base import BackendUnavailable, choose_backend

    try:
        return choose_backend("audio", env_var="SNAPLARK_AUDIO").backend
    except BackendUnavailable as exc:
        raise AudioUnavailable(str(exc)) from exc


def list_audio_devices(audio_input: AudioInput | None = None) -> list[AudioDevice]:
    """Inputs and output monitors of this machine. Raises ``AudioUnavailable`` (no audio server)."""
    return (audio_input or default_audio_input()).devices()


def audio_spec(mode: str, mic_device: str = "", *, audio_input: AudioInput | None = None) -> AudioSpec:
    """The AudioSpec for a setting (``capture.audio``, ``--audio``): ``"auto"`` is the microphone when this machine
    has one, else no audio (silently: nobody asked for sound); the other modes are taken as they are (a missing
    device is then reported once by the recorder)."""
    if mode == "auto":
        try:
            has_mic = any(d.kind == "mic" for d in list_audio_devices(audio_input))
        except AudioUnavailable:
            has_mic = False
        mode = "mic" if has_mic else "none"
    return AudioSpec(mode, mic_device=mic_device or None)



def resolve_devices(spec: AudioSpec, audio_input: AudioInput) -> tuple[dict[str, AudioDevice], dict[str, str]]:
    """Pick a device for each input of ``spec``. Returns (kind -> device, kind -> why not). Raises
    ``UnknownAudioDevice`` for a named device that does not exist (the one error that stops ``start()``)."""
    chosen: dict[str, AudioDevice] = {}
    problems: dict[str, str] = {}
    if not spec.kinds:
        return chosen, problems
    try:
        devices = audio_input.devices()
    except AudioUnavailable as exc:
        return chosen, {kind: str(exc) for kind in spec.kinds}
    for kind in spec.kinds:
        if kind == "system" and "system" not in audio_input.capabilities:
            problems[kind] = ("this system cannot record what the speakers play without a loopback device "
                              "(see snaplark devices)")
            continue
        wanted = spec.mic_device if kind == "mic" else spec.system_device
        dev_kind = "mic" if kind == "mic" else "monitor"
        if wanted:
            match = next((d for d in devices if d.id == wanted), None) or next(
                (d for d in devices if d.name == wanted), None)
            if match is None:
                raise UnknownAudioDevice(kind, wanted, devices)
            chosen[kind] = match
            continue
        default = next((d for d in devices if d.kind == dev_kind and d.is_default), None)
        if default is None:
            problems[kind] = ("no microphone found" if kind == "mic" else
                              "no output monitor found (nothing to record system sound from)")
        else:
            chosen[kind] = default
    return chosen, problems

