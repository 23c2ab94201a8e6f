import pytest

from framebuf import limits
from framebuf.errors import CorruptFileError, FramebufError, MemoryBudgetError


@pytest.mark.parametrize("text, expected", [
    ("1000", 1000), ("512M", 512 << 20), ("4G", 4 << 30), ("2gb", 2 << 30), ("1.5K", 1536)])
def test_budget_sizes_parse(text, expected):
    assert limits.parse_budget(text) == expected


def test_budget_percentage_is_of_physical_memory():
    assert limits.parse_budget("50%") == limits.physical_memory() // 2


@pytest.mark.parametrize("text", ["lots", "-3G", "0", "G"])
def test_bad_budget_is_a_framebuf_error(text):
    with pytest.raises(MemoryBudgetError, match="FRAMEBUF_MEMORY_BUDGET"):
        limits.parse_budget(text)


def test_default_budget_is_three_quarters_of_memory(monkeypatch):
    monkeypatch.delenv(limits.BUDGET_VARIABLE, raising=False)
    assert limits.memory_budget() == int(limits.physical_memory() * 0.75)


def test_allocation_over_budget_is_refused(monkeypatch):
    monkeypatch.setenv(limits.BUDGET_VARIABLE, "1M")
    limits.check_allocation(1 << 20, "exactly the budget")
    with pytest.raises(MemoryBudgetError, match=r"a big image needs 2\.0 MiB, over the memory budget of 1\.0 MiB"):
        limits.check_allocation(2 << 20, "a big image")
    assert issubclass(MemoryBudgetError, FramebufError)


def test_declared_size_beyond_file_is_corrupt(tmp_path):
    limits.check_declared(tmp_path / "f", 100, 100)
    with pytest.raises(CorruptFileError, match="declares at least 1.0 KiB of pixel data but the file holds only 10 B"):
        limits.check_declared(tmp_path / "f", 1024, 10)
