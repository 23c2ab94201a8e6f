"""The glow shader's Numba kernel, apart from the entry-point module: framebuf loads every
plugin's entry point to learn what it offers (``framebuf extract`` does so for channel layouts),
and importing Numba there would cost every such process about 0.4 s."""

from numba import njit


@njit(cache=True)
def bright_pass(px, threshold, out):
    """RGB above the threshold (alpha 0, so the glow adds light but no coverage)."""
    for y in range(px.shape[0]):
        for x in range(px.shape[1]):
            for c in range(3):
                out[y, x, c] = max(px[y, x, c] - threshold, 0.0)
            out[y, x, 3] = 0.0
