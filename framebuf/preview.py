"""Contact sheet: every buffer of a frame side by side in one PNG, labelled with name and type.

Non-colour buffers are made visible with the built-in visualise shaders (``shaders/visualise.py``):
depth as grey (near is white), normals as ``(n + 1) / 2``, motion as hue = direction and
brightness = length, labels as distinct colours. Colour buffers are shown over a dark grey
background (their alpha lets it through); scalars (alpha, intensity, coverage, bit masks) as grey;
UV vectors as ``(u + 1) / 2, (v + 1) / 2, 0``. Values are clipped to [0, 1]; no gamma is applied.

Layout (what :func:`sheet_size` computes): tiles of ``thumb`` pixels width (the buffer scaled,
aspect kept, at least 1 pixel high), ``COLUMNS`` to a row, each with a ``LABEL_HEIGHT`` caption
below, ``PAD`` pixels between tiles and around the sheet.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .buffers import FrameBuffer, FrameBufferSet
from .errors import FramebufError

THUMB = 256
COLUMNS = 4
PAD = 6
LABEL_HEIGHT = 16
BACKGROUND = (32, 32, 32)
SHEET_BACKGROUND = (16, 16, 16)

#: storage -> visualise shader and its extra parameters.
_VISUALISERS = {
    "depth": ("visualise_depth", {"invert": True}),
    "normal": ("visualise_normals", {}),
    "motion": ("visualise_motion", {}),
    "label": ("visualise_labels", {}),
}


#: the PNG Software text of a contact sheet (see is_contact_sheet)
SHEET_SOFTWARE = "framebuf contact sheet"


def tile_size(width: int, height: int, thumb: int = THUMB) -> tuple[int, int]:
    """Size of one buffer's picture on the sheet."""
    return thumb, max(1, int(round(height * thumb / width)))


def sheet_size(count: int, width: int, height: int, thumb: int = THUMB) -> tuple[int, int]:
    """(width, height) of the sheet for ``count`` buffers of ``width`` x ``height``."""
    tw, th = tile_size(width, height, thumb)
    cols = max(1, min(COLUMNS, count))
    rows = max(1, math.ceil(count / cols))
    return cols * tw + (cols + 1) * PAD, rows * (th + LABEL_HEIGHT) + (rows + 1) * PAD


def _visualise(buf: FrameBuffer) -> np.ndarray:
    """An (h, w, 3) float picture of one buffer in [0, 1]."""
    dt = buf.datatype
    data = np.asarray(buf.data)
    if dt.storage in _VISUALISERS and dt.kind != "colour":
        from .shading import apply_shader

        name, extra = _VISUALISERS[dt.storage]
        if dt.storage == "depth":
            # a ground plane reaches far towards the horizon; normalising by the largest depth
            # would leave everything else white, so the far end is the 90th percentile
            finite = data[np.isfinite(data)]
            if finite.size:
                extra = dict(extra, zmin=float(finite.min()),
                             zmax=float(max(np.percentile(finite, 90), finite.min() * 1.0001 + 1e-6)))
        tmp = FrameBufferSet(buf.width, buf.height)
        tmp.add("src", dt, user=True, data=data)
        apply_shader(name, tmp, {"src": "src", "dst": "vis", **extra})
        rgba = np.asarray(tmp["vis"].data, np.float32)
        return _over(rgba)
    if dt.kind in ("colour", "shared-exponent colour"):
        if data.shape[2] >= 4:
            return _over(data[:, :, :4])
        if data.shape[2] == 3:
            return np.clip(data, 0.0, 1.0)
        return np.repeat(np.clip(data[:, :, :1], 0.0, 1.0), 3, axis=2)
    if dt.kind == "uv":
        out = np.zeros((buf.height, buf.width, 3), np.float32)
        out[:, :, :2] = (np.clip(data[:, :, :2], -1.0, 1.0) + 1.0) / 2.0
        return out
    # scalar, coverage, mask
    grey = np.nan_to_num(data[:, :, :1].astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.repeat(np.clip(grey, 0.0, 1.0), 3, axis=2)


def _over(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied RGBA over the tile background."""
    rgba = np.nan_to_num(np.asarray(rgba, np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    bg = np.asarray(BACKGROUND, np.float32) / 255.0
    alpha = np.clip(rgba[:, :, 3:4], 0.0, 1.0)
    return np.clip(rgba[:, :, :3] + (1.0 - alpha) * bg, 0.0, 1.0)


def contact_sheet(buffers, path, *, thumb: int = THUMB, names=None) -> Path:
    """Write a PNG contact sheet of ``buffers`` (a FrameBufferSet or list of FrameBuffers).

    ``names`` optionally restricts and orders the buffers. Returns the path written.
    """
    from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

    from .io import atomic_output

    bufs = list(buffers)
    if names is not None:
        by_name = {b.name: b for b in bufs}
        bufs = [by_name[n] for n in names if n in by_name]
    if not bufs:
        raise FramebufError("contact sheet: no buffers to show")
    width, height = bufs[0].width, bufs[0].height
    tw, th = tile_size(width, height, thumb)
    sw, sh = sheet_size(len(bufs), width, height, thumb)
    cols = max(1, min(COLUMNS, len(bufs)))
    sheet = Image.new("RGB", (sw, sh), SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, buf in enumerate(bufs):
        pic = _visualise(buf)
        img = Image.fromarray((pic * 255.0 + 0.5).astype(np.uint8), "RGB")
        # nearest keeps labels and single pixels crisp when enlarging; box averages when shrinking
        resample = Image.Resampling.NEAREST if tw >= width else Image.Resampling.BOX
        img = img.resize((tw, th), resample)
        r, c = divmod(i, cols)
        x = PAD + c * (tw + PAD)
        y = PAD + r * (th + LABEL_HEIGHT + PAD)
        sheet.paste(img, (x, y))
        caption = f"{buf.name or '(unnamed)'} ({buf.datatype.name})"
        draw.text((x + 2, y + th + 2), caption, fill=(230, 230, 230), font=font)
    path = Path(path)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SHEET_SOFTWARE)   # how a later render knows the sheet is its own
    with atomic_output(path) as tmp:
        sheet.save(tmp, format="PNG", pnginfo=info)
    return path


def is_contact_sheet(path) -> bool:
    """True when ``path`` is a PNG :func:`contact_sheet` wrote (its Software text chunk), so
    ``framebuf render`` may remove a stale one and never a picture of the user's own."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.format == "PNG" and im.text.get("Software") == SHEET_SOFTWARE
    except (OSError, UnidentifiedImageError, ValueError):
        return False
