"""Seeded fuzzing of every readable format (framebuf.testing.fuzz): 40 mutants per format
(truncation, bit flips, extreme sizes, counts and chunk lengths, every EXR attribute type), each
read in a child process under a 5 s time cap and an address-space cap. Only a read or a
FramebufError is acceptable; bench/fuzz.py runs the same with thousands of mutants."""

from __future__ import annotations

import pytest

from framebuf.testing import fuzz

MUTANTS = 40


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return fuzz.run(MUTANTS, folder=tmp_path_factory.mktemp("fuzz"), seed=15)


def test_every_readable_format_is_fuzzed(results):
    fuzzed = {r.fmt for r in results}
    assert fuzzed == set(fuzz.readable_formats())
    assert len(results) == MUTANTS * len(fuzzed)


def test_mutants_read_or_are_refused(results):
    bad = [f"{r.fmt} {r.kind}: {r.outcome}: {r.detail}" for r in results if r.outcome in fuzz.BAD_OUTCOMES]
    assert not bad, "\n".join(bad)
    # the mutations do reach the readers' checks: most formats refuse some of them
    refused = {r.fmt for r in results if r.outcome == "refused"}
    assert len(refused) >= len({r.fmt for r in results}) - 2


def test_no_read_near_the_time_cap(results):
    slowest = max(results, key=lambda r: r.seconds)
    assert slowest.seconds < fuzz.TIME_CAP / 2, f"{slowest.fmt} {slowest.kind} took {slowest.seconds:.1f} s"


def test_the_classifier_sees_a_truncated_read(tmp_path):
    """A reader that accepted a cut file would be reported: a cut PPM seed read through a
    deliberately lax fake reader is classified 'truncated' (so the suite's check can fail)."""
    seeds = fuzz.write_seeds(tmp_path, ["ppm"])
    seed = seeds[0]
    lax = fuzz.Seed("ppm", seed.path, {}, "not-the-digest")
    m = fuzz.Mutant(lax, "truncate", seed.path.read_bytes(), truncated=True)
    runner = fuzz.Runner()
    try:
        path = tmp_path / "m.ppm"
        path.write_bytes(m.data)
        outcome, _detail, digest, _s = runner.read(path, "ppm", {})
    finally:
        runner.close()
    assert outcome == "read"
    assert digest.split(":")[0] != lax.digest    # run() would call this read 'truncated'


def test_mutants_are_reproducible(tmp_path):
    seeds = fuzz.write_seeds(tmp_path, ["png"])
    a = [m.data for m in fuzz.mutants(seeds, 5, seed=3)]
    b = [m.data for m in fuzz.mutants(seeds, 5, seed=3)]
    c = [m.data for m in fuzz.mutants(seeds, 5, seed=4)]
    assert a == b and a != c


def test_every_exr_attribute_given_every_type(tmp_path):
    """Each header attribute of three EXR seeds (many attributes; two parts; tiled) retyped to
    every attribute type with a well-formed value of that type: reading and `framebuf info` give
    a FramebufError or a result, never a traceback (issue 15 found AttributeError and TypeError)."""
    seeds = [s for s in fuzz.write_seeds(tmp_path, ["exr"]) if s.label in ("attrs", "multipart", "tiled")]
    runner = fuzz.Runner()
    bad, outcomes = [], set()
    try:
        for seed in seeds:
            for label, data in fuzz.exr_retyped(seed.path.read_bytes()):
                path = tmp_path / "retyped.exr"
                path.write_bytes(data)
                outcome, detail, _digest, _s = runner.read(path, "exr", {}, info=True)
                outcomes.add(outcome)
                if outcome in fuzz.BAD_OUTCOMES:
                    bad.append(f"{seed.label} {label}: {outcome}: {detail}")
    finally:
        runner.close()
    assert not bad, "\n".join(bad[:20])
    assert outcomes == {"read", "refused"}     # some retyped attributes are harmless, most not


def test_a_reads_own_peak_is_measured_not_the_processes():
    """The memory outcome compares each read's own peak: a process that was big before the read
    (a forked test run) does not charge that to the read, and a read that touches 64 MiB shows.
    In a fresh interpreter: in this one, memory freed by earlier tests can be reused without
    growing the resident size (what the fuzz's address-space cap is for)."""
    import subprocess
    import sys

    from framebuf.testing import fuzz

    if not fuzz._PER_READ_PEAK:
        pytest.skip("no /proc/self/clear_refs here")
    script = (
        "import numpy as np\n"
        "from framebuf.testing import fuzz\n"
        "big = np.ones(96 << 20, np.uint8)\n"
        "_, _, _, idle = fuzz._attempt(lambda: 'x')\n"
        "_, _, _, grown = fuzz._attempt(lambda: str(np.ones(64 << 20, np.uint8).sum()))\n"
        "print(idle, grown)\n")
    idle, grown = map(int, subprocess.run([sys.executable, "-c", script], check=True,
                                          capture_output=True, text=True).stdout.split())
    assert idle < (16 << 20)
    assert (60 << 20) <= grown < (100 << 20)
