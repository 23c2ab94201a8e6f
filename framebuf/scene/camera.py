"""The camera numbers a scene fixes for every sample source: resolution (mental ray's default when
the scene gives none), focal length, aperture, aspect, offset, clip range and the render window.

Lives in the scene layer because the executor needs the window and resolution before any source
runs; the ray caster and the Mitsuba source take it from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import FramebufError

#: mental ray's default camera resolution.
DEFAULT_RESOLUTION = (768, 576)
DEFAULT_FOCAL = 1.0
DEFAULT_APERTURE = 1.0


@dataclass(frozen=True)
class CameraGeometry:
    """The numbers the ray caster needs from a mental ray camera (see the module docstring of
    framebuf.sources.raycast)."""

    xres: int
    yres: int
    focal: float          # math.inf: orthographic
    aperture: float
    aspect: float
    offset: tuple[float, float]
    clip: tuple[float, float]
    window: tuple[int, int, int, int]   # x0, y0, x1, y1 in framebuf rows (y down), half-open

    @classmethod
    def from_camera(cls, camera) -> "CameraGeometry":
        xres, yres = camera.resolution if getattr(camera, "resolution", None) else DEFAULT_RESOLUTION
        xres, yres = int(xres), int(yres)
        if xres <= 0 or yres <= 0:
            raise FramebufError(f"camera resolution must be positive, not {xres} x {yres}")
        focal = camera.focal if getattr(camera, "focal", None) is not None else DEFAULT_FOCAL
        aperture = camera.aperture if getattr(camera, "aperture", None) is not None else DEFAULT_APERTURE
        aspect = getattr(camera, "aspect", None)
        if aspect is None:
            aspect = xres / yres
        if not (aperture > 0 and aspect > 0 and focal > 0):
            raise FramebufError(
                f"camera needs positive focal, aperture and aspect (got {focal}, {aperture}, {aspect})"
            )
        offset = tuple(float(v) for v in (getattr(camera, "offset", None) or (0.0, 0.0)))
        clip = tuple(float(v) for v in (getattr(camera, "clip", None) or (0.0001, 1.0e6)))
        win = getattr(camera, "window", None)
        if win:
            xl, yl, xh, yh = (int(v) for v in win)
            x0, x1 = max(0, min(xl, xres)), max(0, min(xh, xres))
            # mental ray's window is y-up; rows are y-down
            y0, y1 = max(0, min(yres - yh, yres)), max(0, min(yres - yl, yres))
            window = (x0, y0, max(x0, x1), max(y0, y1))
        else:
            window = (0, 0, xres, yres)
        return cls(xres, yres, float(focal), float(aperture), float(aspect), offset, clip, window)

    @property
    def orthographic(self) -> bool:
        return math.isinf(self.focal)

    def as_array(self) -> np.ndarray:
        return np.array([
            0.0 if self.orthographic else self.focal, self.aperture, self.aspect, self.xres,
            self.yres, self.offset[0], self.offset[1], self.clip[0], self.clip[1],
            1.0 if self.orthographic else 0.0,
        ], np.float64)

    def project(self, points) -> np.ndarray:
        """Raster positions (x, y with y down) of camera-space points, shape (N, 2)."""
        # the ray caster's own projection kernel, so a window computed here and the caster's
        # rays cannot disagree; imported late because the scene layer sits above the sources
        from ..sources.raycast import _project_many

        p = np.atleast_2d(np.asarray(points, np.float64))
        out = np.empty((p.shape[0], 2), np.float64)
        _project_many(self.as_array(), p, out)
        out[:, 1] = self.yres - out[:, 1]
        return out
