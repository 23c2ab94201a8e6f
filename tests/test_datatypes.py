import pytest

from framebuf import DATATYPES, datatype, parse_type_spec
from framebuf.cli import main
from framebuf.errors import UnknownDataTypeError

# (name, components, bits) straight from the seed's data-type table
SEED_TABLE = [
    ("rgba", 4, 8), ("rgba_16", 4, 16), ("rgba_fp", 4, 32), ("rgb", 3, 8), ("rgb_16", 3, 16),
    ("rgb_fp", 3, 32), ("rgbe", 4, 8), ("a", 1, 8), ("a_16", 1, 16), ("a_fp", 1, 32), ("s", 1, 8),
    ("s_16", 1, 16), ("s_fp", 1, 32), ("z", 1, 32), ("n", 3, 32), ("m", 3, 32), ("tag", 1, 32),
    ("vta", 2, 16), ("vts", 2, 16), ("bit", 1, 1), ("coverage", 1, 32),
]


@pytest.mark.parametrize("name,comp,bits", SEED_TABLE)
def test_seed_table_rows(name, comp, bits):
    t = datatype(name)
    assert (t.components, t.bits) == (comp, bits)
    assert len(t.channels) == comp


def test_every_type_of_the_issue_is_present():
    wanted = ("rgba rgba_16 rgba_h rgba_fp rgb rgb_16 rgb_h rgb_fp a a_16 a_h a_fp s s_16 s_h s_fp "
              "vta vts z n m tag bit coverage rgbe").split()
    assert sorted(wanted) == sorted(DATATYPES)


def test_half_types_are_16_bit_half():
    for name in ("rgba_h", "rgb_h", "a_h", "s_h"):
        assert datatype(name).sample == "f16" and datatype(name).bits == 16


def test_default_filtering_follows_the_manual():
    # on for colour, alpha and intensity; off for depth, normal, motion and label
    for name in ("rgba", "rgb_16", "a", "s_fp"):
        assert datatype(name).interpolated
    for name in ("z", "n", "m", "tag"):
        assert not datatype(name).interpolated


def test_in_memory_precision():
    assert datatype("rgba").dtype.name == "float32"
    assert datatype("tag").dtype.name == "uint32"
    assert datatype("z").dtype.name == "float32"


def test_unknown_type_lists_valid_names():
    with pytest.raises(UnknownDataTypeError) as err:
        datatype("rgbx")
    message = str(err.value)
    assert "rgbx" in message and "rgba_16" in message and "coverage" in message


def test_type_spec_prefixes():
    assert parse_type_spec("+z") == (datatype("z"), True)
    assert parse_type_spec("-rgba") == (datatype("rgba"), False)
    assert parse_type_spec("tag") == (datatype("tag"), None)


def test_types_command_prints_every_type(capsys):
    assert main(["types"]) == 0
    out = capsys.readouterr().out
    for name in DATATYPES:
        assert f"\n{name} " in out
