"""Every OpenEXR file of the third-party corpus reads as OpenImageIO reads it, and survives a copy.

* Read: for every part OpenImageIO sees (its sub-images), the buffers framebuf gives for that part
  hold the same channels (names as in the part), pixel types, data and display windows, and
  bit-identical values. A file OIIO cannot read (luminance/chroma sub-sampling) must read in
  framebuf or raise a FramebufError.
* Copy: ``framebuf copy X.exr Y.exr`` gives, as OpenImageIO sees Y, the same parts (names, order),
  windows, channels and pixel types, tiling and mip levels, compression and attributes as X, with
  bit-identical pixels on every level. The one attribute not compared is ``openexr:chunkCount``:
  the library writes it for multi-part files only, whatever the input had.
* DAMAGED files (README) give a FramebufError. Files refused on purpose are in the one table,
  ``test_corpus_images.UNSUPPORTED``. Deep files read here as their flattened picture with their
  samples in ``FrameBufferSet.deep``; ``tests/test_deep.py`` compares their samples, flattening
  and copies with OpenImageIO.
"""

from __future__ import annotations

import numpy as np
import pytest

import framebuf
from framebuf.cli import main
from framebuf.errors import FramebufError
from framebuf.formats import _exrfile as X

from test_corpus_images import CORPUS, DAMAGED, UNSUPPORTED

oiio = pytest.importorskip("OpenImageIO")

FILES = sorted(CORPUS.rglob("*.exr")) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"image corpus not found at {CORPUS}")

#: attributes OpenImageIO reports that the library, not the file's author, decides
DERIVED_ATTRIBUTES = {"openexr:chunkCount"}


def _rel(path) -> str:
    return path.relative_to(CORPUS).as_posix()


def describe(path, pixels=True):
    """What OpenImageIO sees: per sub-image its name, windows, channels, formats, tiling,
    attributes and per mip level the window and each channel's values; None if it cannot."""
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        oiio.geterror()
        return None
    subs = []
    try:
        s = 0
        while inp.seek_subimage(s, 0):
            spec = inp.spec()
            levels, m = [], 0
            while inp.seek_subimage(s, m):
                sp = inp.spec()
                values = []
                n = sp.nchannels if pixels and not sp.deep else 0
                c = 0
                while c < n:
                    # a run of channels of one type in one call, in their native type: a
                    # scanline file is decoded whole for every call, so one call per channel
                    # cost minutes on the 50-channel samples
                    end = c + 1
                    while end < n and str(sp.channelformat(end)) == str(sp.channelformat(c)):
                        end += 1
                    a = inp.read_image(s, m, c, end, sp.channelformat(c))
                    if a is None:
                        return None
                    a = np.asarray(a).reshape(sp.height, sp.width, end - c)
                    values.extend(a[:, :, k].copy() for k in range(end - c))
                    c = end
                levels.append(((sp.x, sp.y, sp.width, sp.height), values))
                m += 1
            formats = [str(f) for f in spec.channelformats] or [str(spec.format)] * spec.nchannels
            subs.append({
                "name": spec.get_string_attribute("oiio:subimagename"),
                "window": (spec.x, spec.y, spec.width, spec.height),
                "display": (spec.full_x, spec.full_y, spec.full_width, spec.full_height),
                "channels": list(spec.channelnames), "formats": formats,
                "tiles": (spec.tile_width, spec.tile_height), "deep": bool(spec.deep),
                "attributes": {p.name: (str(p.type), repr(p.value)) for p in spec.extra_attribs
                               if p.name not in DERIVED_ATTRIBUTES},
                "levels": levels,
            })
            s += 1
    finally:
        inp.close()
        oiio.geterror()
    return subs


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


def compare(want, got) -> list[str]:
    problems = []
    if len(want) != len(got):
        return [f"{len(want)} parts, copy has {len(got)}"]
    for i, (a, b) in enumerate(zip(want, got)):
        for key in ("name", "window", "display", "channels", "formats", "tiles"):
            if a[key] != b[key]:
                problems.append(f"part {i} {key}: {a[key]} vs {b[key]}")
        missing = sorted(set(a["attributes"]) - set(b["attributes"]))
        extra = sorted(set(b["attributes"]) - set(a["attributes"]))
        if missing or extra:
            problems.append(f"part {i} attributes missing {missing}, extra {extra}")
        for key in set(a["attributes"]) & set(b["attributes"]):
            if a["attributes"][key] != b["attributes"][key]:
                problems.append(f"part {i} attribute {key}: {a['attributes'][key]} vs {b['attributes'][key]}")
        if len(a["levels"]) != len(b["levels"]):
            problems.append(f"part {i}: {len(a['levels'])} levels, copy has {len(b['levels'])}")
        for level, (la, lb) in enumerate(zip(a["levels"], b["levels"])):
            if la[0] != lb[0]:
                problems.append(f"part {i} level {level} window {la[0]} vs {lb[0]}")
                continue
            for name, pa, pb in zip(a["channels"], la[1], lb[1]):
                if pa.dtype != pb.dtype or not np.array_equal(_bits(pa), _bits(pb)):
                    problems.append(f"part {i} level {level} channel {name}: pixels differ")
    return problems


def _is_deep(path) -> bool:
    try:
        return X.read_header(path).deep
    except FramebufError:
        return False


def _case(path):
    rel = _rel(path)
    if rel in UNSUPPORTED:
        return "unsupported"
    if rel in DAMAGED:
        return "damaged"
    return "deep" if _is_deep(path) else "ok"


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_read_matches_openimageio(path):
    rel = _rel(path)
    case = _case(path)
    if case == "unsupported":
        kind, words = UNSUPPORTED[rel]
        with pytest.raises(kind, match=words):
            framebuf.read(path)
        return
    if case == "damaged":
        with pytest.raises(FramebufError):
            framebuf.read(path)
        return
    fbs = framebuf.read(path)
    if case == "deep":      # samples, flattening and copies: tests/test_deep.py
        assert fbs.deep and len(fbs.deep) == len(fbs.parts) == len(X.read_header(path).parts)
        return
    want = describe(path)
    if want is None:
        return        # OIIO cannot read it (sub-sampled chroma): framebuf did, which is the point
    assert len(fbs.parts) == len(want)
    for index, sub in enumerate(want):
        (x, y, w, h), values = sub["levels"][0]
        part = fbs.parts[index]
        assert part.data_window == (x, y, x + w - 1, y + h - 1)
        fx, fy, fw, fh = sub["display"]
        if part.attributes.get("envmap") != "cube":   # OIIO shows one face of a cube map
            assert part.display_window == (fx, fy, fx + fw - 1, fy + fh - 1)
        found = {}
        for buf in fbs:
            if buf.part == index:
                for c, name in enumerate(buf.channels):
                    found[name] = (buf, c)
        assert sorted(found) == sorted(sub["channels"]), rel
        gx, gy = fbs.origin
        for name, fmt, expect in zip(sub["channels"], sub["formats"], values):
            buf, c = found[name]
            assert buf.pixel_types[c] == fmt, (name, fmt)
            got = buf.data[y - gy: y - gy + h, x - gx: x - gx + w, c]
            if expect.dtype == np.uint32:
                assert np.array_equal(got, expect), name
            else:
                # half and float both exact in float32: compare the bits of the float32 values
                assert np.array_equal(_bits(got.astype(np.float32)), _bits(expect.astype(np.float32))), name


FLAT = [p for p in FILES if _case(p) == "ok"]


@pytest.mark.parametrize("path", FLAT, ids=[_rel(p) for p in FLAT])
def test_copy_keeps_everything(path, tmp_path, capsys):
    want = describe(path)
    if want is None:
        pytest.skip("OpenImageIO cannot read it (sub-sampled chroma); tests/test_exr.py checks those copies")
    out = tmp_path / "copy.exr"
    assert main(["copy", str(path), str(out)]) == 0, capsys.readouterr().err
    assert "warning" not in capsys.readouterr().err
    got = describe(out)
    ripmap = [i for i, part in enumerate(X.read_header(path).parts)
              if (part.tiles or {}).get("level_mode") == "ripmap_levels"]
    for i in ripmap:
        # OIIO reads rip maps as mip maps of level-0 size (it lists 40x40 six times): compare the
        # stored chunks instead, which a copy keeps byte for byte
        source = sorted(c for _, c in X.raw_chunks(X.read_header(path), X.read_header(path).parts[i]))
        copied = sorted(c for _, c in X.raw_chunks(X.read_header(out), X.read_header(out).parts[i]))
        assert source == copied
        want[i]["levels"], got[i]["levels"] = want[i]["levels"][:1], got[i]["levels"][:1]
    problems = compare(want, got)
    assert not problems, "\n".join(problems[:12])


def test_corpus_counts():
    """The README's numbers: every EXR is read, refused on purpose or damaged."""
    cases = [_case(p) for p in FILES]
    assert len(FILES) >= 120
    assert cases.count("deep") == 8             # every one read (tests/test_deep.py)
    assert cases.count("unsupported") == 0
