"""Helpers for reproducing a renderer's output statements in tests.

``compare`` holds the golden-file comparison (a tolerance per data type, a readable report, a
difference image); ``plugin`` is the pytest plugin (entry point ``pytest11``) that exposes it as
fixtures.
"""

from .compare import Comparison, Tolerance, compare_files, compare_images

__all__ = ["Comparison", "Tolerance", "compare_files", "compare_images"]
