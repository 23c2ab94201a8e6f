"""Tasks for tests/test_batch.py, importable by worker processes (a test module's functions are
not, under spawn or Dask): a slow stand-in task, and ``framebuf`` run with every extract slowed
down, so a test can interrupt a run that is surely still going:

    python tests/batch_helpers.py DELAY extract ...
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from framebuf.batch import TaskOutput


def slow_task(path, delay):
    """``delay`` seconds of 'work', then one file made from the input."""
    time.sleep(delay)
    st = os.stat(path)
    return TaskOutput(path, ok=True, files=[(Path(path).stem + ".txt", Path(path).read_bytes()[:64])],
                      size=st.st_size, mtime_ns=st.st_mtime_ns, sha256="-")


from framebuf.post.extract import extract_task as _extract_task   # before __main__ swaps it


def slow_extract_task(path, params):
    time.sleep(float(os.environ.get("SLOW_EXTRACT_DELAY", "0.3")))
    return _extract_task(path, params)


if __name__ == "__main__":
    import framebuf.post.extract as extract
    from framebuf.cli import main

    os.environ["SLOW_EXTRACT_DELAY"] = sys.argv[1]
    extract.extract_task = slow_extract_task
    sys.exit(main(sys.argv[2:]))
