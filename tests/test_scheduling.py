"""pytest-xdist hands out the longest files first (tests/scheduling.py)."""

from __future__ import annotations

from tests.scheduling import FILE_SECONDS, SECONDS_PER_TEST, estimate, longest_first


def _tests(file: str, n: int) -> dict[str, bool]:
    return {f"{file}::test_{i}": False for i in range(n)}


def test_measured_files_first_then_by_number_of_tests_equal_ones_in_their_order() -> None:
    slow = "tests/reports/test_rollup_exact.py"
    assert FILE_SECONDS[slow] > 40 * SECONDS_PER_TEST
    queue = {
        "tests/a.py": _tests("tests/a.py", 3),
        "tests/b.py": _tests("tests/b.py", 40),
        slow: _tests(slow, 14),
        "tests/c.py": _tests("tests/c.py", 3),
    }
    ordered = longest_first(queue)
    assert list(ordered) == [slow, "tests/b.py", "tests/a.py", "tests/c.py"]
    assert ordered == queue  # the same work units, every test in its file
    assert estimate("tests/a.py", 3) == 3 * SECONDS_PER_TEST


def test_the_seeded_demo_is_loaded_by_test_seed_before_the_other_modules_on_it_start() -> None:
    seed = estimate("tests/reports/test_seed.py", 2)
    assert seed > estimate("tests/web/test_crawl.py", 10) > estimate("tests/reports/test_members_demo.py", 9)
