"""Batches (:mod:`framebuf.batch`): the same bytes from every executor (inline, local pool, a
local Dask cluster, a Dask scheduler and two workers started here), resume from the job journal,
a worker killed mid-run, Ctrl-C to the process group, WebDataset shards, streamed inputs."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from framebuf.batch import Job, TaskOutput, iter_inputs, run_job
from framebuf.batch.journal import FILE_NAME
from framebuf.cli import main
from batch_helpers import slow_task
from post_fixtures import write_render_like

ROOT = Path(__file__).resolve().parents[1]
ASSETS = (".rgb.png", ".alpha.tif", ".depth.tif", ".normals.tif", ".segments.png", ".info.json")
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))

try:
    import distributed  # noqa: F401
    HAVE_DASK = True
except ImportError:
    HAVE_DASK = False
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask[distributed] not installed")


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    src = tmp_path_factory.mktemp("renders")
    for i in range(8):
        write_render_like(src / f"r{i}.exr", 40, 48, n_masks=4, seed=i)
    return src


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def journal_rows(folder: Path) -> dict[str, str]:
    with sqlite3.connect(folder / FILE_NAME) as db:
        return dict(db.execute("SELECT input, status FROM renders"))


# -- executors give the same bytes -------------------------------------------------------------

def test_inline_and_local_pool_give_the_same_bytes(tmp_path, renders, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli(capsys, "extract", renders, "-o", a, "-j", "1", "-q")[0] == 0
    assert run_cli(capsys, "extract", renders, "-o", b, "-j", "2", "-q")[0] == 0
    fa, fb = files_of(a), files_of(b)
    assert len(fa) == 8 * len(ASSETS) and fa == fb
    assert set(journal_rows(a).values()) == {"ok"} and len(journal_rows(a)) == 8


@needs_dask
def test_dask_local_cluster_gives_the_same_bytes(tmp_path, renders, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli(capsys, "extract", renders, "-o", a, "-j", "1", "-q")[0] == 0
    code, out, err = run_cli(capsys, "extract", renders, "-o", b, "--dask", "-j", "2", "-q")
    assert code == 0, err
    assert files_of(a) == files_of(b)
    assert "extracted 8 of 8" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_dask
def test_dask_scheduler_and_two_workers(tmp_path, renders, capsys):
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(1.5)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1",
                 "--no-dashboard", "--host", "127.0.0.1"], env=ENV,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(addr, timeout="20s") as c:
            c.wait_for_workers(2, timeout=30)
        a, b = tmp_path / "a", tmp_path / "b"
        assert run_cli(capsys, "extract", renders, "-o", a, "-j", "1", "-q")[0] == 0
        code, out, err = run_cli(capsys, "extract", renders, "-o", b, "--scheduler", addr, "-q")
        assert code == 0, err
        assert files_of(a) == files_of(b)
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            p.wait(10)


# -- resume ------------------------------------------------------------------------------------

def test_rerun_skips_everything_and_touches_nothing(tmp_path, renders, capsys):
    out = tmp_path / "out"
    assert run_cli(capsys, "extract", renders, "-o", out, "-q")[0] == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    code, text, _ = run_cli(capsys, "extract", renders, "-o", out, "-q")
    assert code == 0 and "extracted 0 of 8" in text and "8 skipped" in text
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert {k: v for k, v in after.items() if not k.startswith(".")} == \
        {k: v for k, v in before.items() if not k.startswith(".")}
    code, text, _ = run_cli(capsys, "extract", renders, "-o", out, "-q", "--force")
    assert "extracted 8 of 8" in text


def test_changed_inputs_options_and_missing_outputs_are_redone(tmp_path, renders, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"r{i}.exr").write_bytes((renders / f"r{i}.exr").read_bytes())
    out = tmp_path / "out"
    assert run_cli(capsys, "extract", src, "-o", out, "-q")[0] == 0
    os.utime(src / "r0.exr")                                  # touched, same content: skipped
    (src / "r1.exr").write_bytes((renders / "r5.exr").read_bytes())   # new content: redone
    (out / "r2.segments.png").unlink()                         # a partial set: never trusted
    code, text, _ = run_cli(capsys, "extract", src, "-o", out, "-q")
    assert "extracted 2 of 3" in text and "1 skipped" in text
    assert files_of(out)["r1.segments.png"] == _reference(tmp_path, renders, "r5")["r5.segments.png"]
    code, text, _ = run_cli(capsys, "extract", src, "-o", out, "-q", "--no-srgb")  # other options
    assert "extracted 3 of 3" in text


def _reference(tmp_path, renders, stem):
    ref = tmp_path / f"ref-{stem}"
    assert main(["extract", str(renders / f"{stem}.exr"), "-o", str(ref), "-q"]) == 0
    return files_of(ref)


# -- faults ------------------------------------------------------------------------------------

def _stem(p):
    return Path(p).stem


def _slow_job():
    return Job("test", slow_task, 0.15, {}, _stem)


def _many_inputs(tmp_path, n=24):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(n):
        (src / f"f{i:03d}.exr").write_bytes(os.urandom(100))
    return src


def _kill_one_worker_later(pids, delay=0.6):
    def kill():
        time.sleep(delay)
        for pid in pids():
            os.kill(pid, signal.SIGKILL)
            return
    t = threading.Thread(target=kill, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("executor", ["local", pytest.param("dask", marks=needs_dask)])
def test_a_killed_worker_costs_only_a_retry(tmp_path, executor):
    import multiprocessing as mp

    src = _many_inputs(tmp_path)
    out = tmp_path / "out"
    seen = []
    if executor == "local":
        pids = lambda: [p.pid for p in mp.active_children()]
        killer = _kill_one_worker_later(pids)
        rep = run_job(_slow_job(), [src], output=str(out), workers=2, progress=False,
                      on_output=seen.append, say=lambda line: None)
    else:
        from distributed import Client

        holder = {}

        def pids():
            while "client" not in holder:
                time.sleep(0.05)
            return list(holder["client"].run(os.getpid).values())[:1]

        import framebuf.batch.executors as ex

        real = ex.DaskExecutor.__init__

        def spy(self, *a, **k):
            real(self, *a, **k)
            holder["client"] = self.client
        ex.DaskExecutor.__init__ = spy
        try:
            killer = _kill_one_worker_later(pids, delay=1.0)
            rep = run_job(_slow_job(), [src], output=str(out), workers=2, dask=True, progress=False,
                          on_output=seen.append, say=lambda line: None)
        finally:
            ex.DaskExecutor.__init__ = real
    killer.join()
    assert rep.failed == 0 and rep.done == 24
    assert sorted(o.source for o in seen) == sorted(str(p) for p in src.iterdir())   # once each
    assert len(files_of(out)) == 24
    if executor == "local":
        assert rep.retried >= 1


@pytest.mark.parametrize("executor", [["-j", "2"], pytest.param(["--dask", "-j", "2"], marks=needs_dask)],
                         ids=["local", "dask"])
def test_ctrl_c_to_the_process_group_stops_within_two_seconds(tmp_path, executor):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(16):
        write_render_like(src / f"r{i:02d}.exr", 160, 160, n_masks=40, seed=i)
    out = tmp_path / "out"
    args = ["extract", str(src), "-o", str(out), "-q", *executor]
    # the workers slowed down (0.3 s a render) so that the run is surely still going at Ctrl-C
    slow = [sys.executable, str(ROOT / "tests" / "batch_helpers.py"), "0.3", *args]
    p = subprocess.Popen(slow, env={**ENV, "PYTHONPATH": ENV["PYTHONPATH"] + os.pathsep + str(ROOT / "tests")},
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("*.info.json"))) < 2:   # a few sets done
        time.sleep(0.05)
    assert p.poll() is None, p.communicate()
    t = time.perf_counter()
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=10)
    assert time.perf_counter() - t < 2.0
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    done = {k for k, v in journal_rows(out).items() if v == "ok"}
    assert 0 < len(done) < 16
    names = files_of(out)
    stems = {n.split(".")[0] for n in names}
    for s in stems:                                 # only whole sets, each one recorded
        assert all(s + a in names for a in ASSETS), s
        json.loads(names[s + ".info.json"])
    assert stems == {Path(k).stem for k in done}
    assert not [n for n in os.listdir(out) if ".tmp" in n or n.endswith(".partial")]
    rerun = subprocess.run([sys.executable, "-m", "framebuf", *args], env=ENV, capture_output=True,
                           text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{16 - len(done)} of 16" in rerun.stdout and f"{len(done)} skipped" in rerun.stdout
    assert len(files_of(out)) == 16 * len(ASSETS)


# -- shards ------------------------------------------------------------------------------------

def test_webdataset_shards(tmp_path, renders, capsys):
    pattern = tmp_path / "ds" / "shard-%06d.tar"
    code, text, err = run_cli(capsys, "extract", renders, "--to", f"webdataset:{pattern}",
                              "--shard-size", "3", "-q")
    assert code == 0, err
    shards = sorted((tmp_path / "ds").glob("shard-*.tar"))
    assert [s.name for s in shards] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    folder = tmp_path / "folder"
    assert run_cli(capsys, "extract", renders, "-o", folder, "-q")[0] == 0
    want = files_of(folder)
    got = {}
    for s in shards:
        with tarfile.open(s) as tar:
            for m in tar.getmembers():
                assert m.mtime == 0 and m.uid == 0
                got[m.name] = tar.extractfile(m).read()
    assert got == want                               # the same files, named key.field
    index = json.loads((tmp_path / "ds" / "shard-index.json").read_text())
    assert [(e["url"], e["nsamples"]) for e in index["shardlist"]] == \
        [("shard-000000.tar", 3), ("shard-000001.tar", 3), ("shard-000002.tar", 2)]
    code, text, _ = run_cli(capsys, "extract", renders, "--to", f"webdataset:{pattern}", "-q")
    assert "8 skipped" in text and len(list((tmp_path / "ds").glob("*.tar"))) == 3
    try:
        import webdataset as wds
    except ImportError:
        return
    samples = list(wds.WebDataset([str(s) for s in shards], shardshuffle=False))
    assert sorted(s["__key__"] for s in samples) == [f"r{i}" for i in range(8)]
    assert all({"rgb.png", "segments.png", "info.json", "depth.tif"} <= set(s) for s in samples)
    assert samples[0]["segments.png"] == want[samples[0]["__key__"] + ".segments.png"]


# -- inputs and errors -------------------------------------------------------------------------

def test_inputs_stream_from_folders_globs_and_lists(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/2.exr", "a/1.exr", "a/b/3.exr", "a/b/x.png", "c.exr"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "list.txt").write_text("# renders\nc.exr\n\na/b/*.exr\n")
    got = list(iter_inputs([str(tmp_path / "a"), str(tmp_path / "a" / "**" / "*.exr"),
                            "@" + str(tmp_path / "list.txt"), str(tmp_path / "nosuch.exr")]))
    rel = [os.path.relpath(p, tmp_path) for p in got]
    assert rel == ["a/1.exr", "a/2.exr", "a/b/3.exr", "a/1.exr", "a/2.exr", "a/b/3.exr", "c.exr",
                   "a/b/3.exr", "nosuch.exr"]
    import types
    assert isinstance(iter_inputs(["x"]), types.GeneratorType)


def test_failures_go_to_stderr_and_an_all_failed_run_leaves_no_folder(tmp_path, capsys):
    bad = tmp_path / "bad.exr"
    bad.write_bytes(b"not an exr")
    out = tmp_path / "out"
    code, text, err = run_cli(capsys, "extract", bad, tmp_path / "missing.exr", "-o", out, "-q")
    assert code == 2
    assert "bad.exr" in err and "missing.exr" in err and "bad.exr" not in text
    assert not out.exists() and "was removed" in err


def test_two_inputs_with_one_name_are_refused(tmp_path, renders, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "r0.exr").write_bytes((renders / "r1.exr").read_bytes())
    code, _, err = run_cli(capsys, "extract", renders / "r0.exr", tmp_path / "x" / "r0.exr", "-o",
                           tmp_path / "out", "-q")
    assert code == 2 and "same name" in err


def test_destination_errors_are_one_line(tmp_path, renders, capsys):
    f = tmp_path / "file"
    f.write_text("")
    for args, words in ((["-o", f], "not a folder"),
                        (["--to", "tar:x"], "webdataset:"),
                        (["--to", f"webdataset:{tmp_path}/s.tar"], "number field"),
                        (["-o", tmp_path / "o", "--to", f"webdataset:{tmp_path}/s%d.tar"], "not both")):
        code, _, err = run_cli(capsys, "extract", renders / "r0.exr", *args, "-q")
        assert code == 2 and words in err and "Traceback" not in err, (args, err)


def test_copy_and_apply_of_many_files_through_the_batch_layer(tmp_path, renders, capsys):
    one = tmp_path / "one"
    one.mkdir()
    for i in range(3):
        assert main(["copy", str(renders / f"r{i}.exr"), str(one / f"r{i}.png"), "--buffer", "rgba"]) == 0
        assert main(["apply", str(renders / f"r{i}.exr"), "--shader", "gamma:gamma=2.2",
                     "-o", str(one / f"r{i}.tif"), "--buffer", "rgba"]) == 0
    capsys.readouterr()
    many = tmp_path / "many"
    code, text, err = run_cli(capsys, "copy", renders / "r[0-2].exr", "-d", many, "-f", "png",
                              "--buffer", "rgba", "-j", "2", "--quiet")
    assert code == 0 and "copied 3 of 3 file(s)" in text, err
    code, text, err = run_cli(capsys, "apply", renders / "r[0-2].exr", "--shader", "gamma:gamma=2.2",
                              "-d", many, "-f", "tif", "--buffer", "rgba", "-q")
    assert code == 0 and "shaded 3 of 3 file(s)" in text, err
    assert files_of(many) == files_of(one)          # the same bytes as one file at a time
    code, text, _ = run_cli(capsys, "copy", renders / "r[0-2].exr", "-d", many, "-f", "png",
                            "--buffer", "rgba", "--quiet")
    assert "3 skipped" in text
    code, _, err = run_cli(capsys, "copy", renders / "r0.exr", "-d", many, "-o", tmp_path / "x.png")
    assert code == 2 and "-o OUT is for one file" in err
