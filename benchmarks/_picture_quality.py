"""Picture quality of a recording against the pattern it recorded (benchmarks/_pattern_scene.py): SSIM and PSNR.

For up to ``samples`` decoded frames spread evenly over the file, the frame's code gives the pattern step ``n``; the
reference is ``reference(background, n)`` converted to yuv420p by swscale (luma is the same whatever the scaler;
chroma is averaged over each 2x2 block, "area"), and the decoded yuv420p planes are compared with it:

  SSIM (luma; 8x8 uniform windows at every position, the usual constants C1 = (0.01*255)^2, C2 = (0.03*255)^2),
  PSNR of luma and of chroma (U and V together), in dB, the mean of the per-frame values (identical planes = 100 dB).

Numpy only (box sums by integral images); PyAV decodes. Frames whose code does not read back are counted, not
scored (a frame torn between two steps, or damaged past reading, would show there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from _pattern_scene import PatternScene, read_code, reference

WINDOW = 8
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


@dataclass
class Quality:
    frames: int  # frames scored
    unreadable: int  # sampled frames whose code did not read back
    ssim: float  # mean luma SSIM
    ssim_min: float  # worst frame
    psnr_y: float  # mean dB
    psnr_uv: float  # mean dB
    steps: int  # distinct pattern steps among the scored frames

    def line(self) -> str:
        return (f"SSIM {self.ssim:.4f} (min {self.ssim_min:.4f})  PSNR Y {self.psnr_y:5.2f} dB  "
                f"UV {self.psnr_uv:5.2f} dB")


def planes(frame):
    """(Y, U, V) of a yuv420p ``av.VideoFrame`` as numpy arrays of the visible size."""
    import numpy as np

    out = []
    for i, plane in enumerate(frame.planes):
        w, h = (frame.width, frame.height) if i == 0 else ((frame.width + 1) // 2, (frame.height + 1) // 2)
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
        out.append(rows[:h, :w])
    return tuple(out)


def reference_planes(scene: PatternScene, background, n: int):
    import av

    frame = av.VideoFrame.from_ndarray(reference(scene, background, n), format="bgra")
    return tuple(p.copy() for p in planes(frame.reformat(format="yuv420p", interpolation="AREA")))


def _box_mean(x):
    """Mean over every WINDOW x WINDOW window (valid positions) by an integral image."""
    import numpy as np

    s = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
    np.cumsum(x, axis=0, out=s[1:, 1:])
    np.cumsum(s[1:, 1:], axis=1, out=s[1:, 1:])
    k = WINDOW
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def ssim(a, b) -> float:
    import numpy as np

    x, y = a.astype(np.float64), b.astype(np.float64)
    mx, my = _box_mean(x), _box_mean(y)
    vx = _box_mean(x * x) - mx * mx
    vy = _box_mean(y * y) - my * my
    cxy = _box_mean(x * y) - mx * my
    m = ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2))
    return float(m.mean())


def psnr(a_list, b_list) -> float:
    import numpy as np

    err = sum(float(np.square(a.astype(np.float64) - b.astype(np.float64)).sum()) for a, b in zip(a_list, b_list))
    count = sum(a.size for a in a_list)
    mse = err / count
    return 100.0 if mse == 0 else float(10 * np.log10(255 * 255 / mse))


def measure(path: Path, scene: PatternScene, background, total_frames: int, samples: int = 40) -> Quality:
    """Score up to ``samples`` frames of ``path``'s first video stream, evenly spread over its ``total_frames``."""
    import av
    import numpy as np

    wanted = set(np.linspace(0, max(total_frames - 1, 0), min(samples, total_frames)).round().astype(int).tolist())
    refs: dict[int, tuple] = {}
    scores: list[tuple[float, float, float]] = []
    unreadable = 0
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index not in wanted:
                continue
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            y, u, v = planes(frame)
            n = read_code(scene, y)
            if n is None:
                unreadable += 1
                continue
            if n not in refs:
                refs[n] = reference_planes(scene, background, n)
            ry, ru, rv = refs[n]
            scores.append((ssim(y, ry), psnr([y], [ry]), psnr([u, v], [ru, rv])))
    if not scores:
        raise RuntimeError(f"{path}: no frame's code read back ({unreadable} sampled)")
    s = np.array(scores)
    return Quality(frames=len(scores), unreadable=unreadable, ssim=float(s[:, 0].mean()),
                   ssim_min=float(s[:, 0].min()), psnr_y=float(s[:, 1].mean()), psnr_uv=float(s[:, 2].mean()),
                   steps=len(refs))
