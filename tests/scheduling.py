"""The order in which pytest-xdist hands out test files (``--dist loadfile``): the longest first.

pytest-xdist hands out whole files, by default those with the most tests first. A file of few but slow
tests (a console-script test, a crawl of every page) then comes last, and one worker runs it alone while
the others are done. Here the files go out longest first (the classic longest-processing-time rule), by
an estimate: a file's seconds measured alone (``FILE_SECONDS``), else its number of tests times
``SECONDS_PER_TEST``. The estimate only orders the work: every test still runs, in its file's worker,
in the file's own order.

To measure again: ``pytest -n 2 --dist loadfile --junitxml=t.xml``, sum ``time`` per file, and list the
files over three times their number of tests times the median file's seconds per test.
"""

from __future__ import annotations

from collections import OrderedDict

from xdist.scheduler import LoadFileScheduling
from xdist.workermanage import WorkerController

# Measured in one ``-n 2`` run on SQLite on a loaded machine (2026-12-06; about 8x a quiet machine's
# seconds): only the ratios matter. SECONDS_PER_TEST is that run's median file's seconds per test.
# Made cheaper since, and scaled here by their after/before ratio measured alone at the same moment
# (2026-12-06, fourth session): the two rollup exactness files (x0.5, x0.8) and the API matrix (its
# estimate was 420; it measured ~1,100 before, ~320 after).
SECONDS_PER_TEST = 1.9

# Files that take far longer than their number of tests says (over three times). The modules on the
# seeded demo (tests/conftest.py ``seeded_demo``): the demo is loaded once per session, by the first of
# them to run; test_seed.py, listed with the load, goes out first, the others later with their own time,
# so that no worker waits for the load another one is doing.
FILE_SECONDS: dict[str, float] = {
    "tests/reports/test_seed.py": 1160,  # + the seeded demo
    "tests/reports/test_rollup_exact.py": 700,
    "tests/reports/test_rollup_org_changes.py": 620,
    "tests/cli/test_demo.py": 334,
    "tests/api/test_matrix.py": 320,
    # Seen in the 2026-12-06 fourth session's -n 2 run (9.4 min, quiet machine) with one test far past its
    # file's estimate: seconds of that run times ~11, the scale of the figures above.
    "tests/ops/test_backup_restore.py": 950,  # 87 s: a backup restored into a fresh directory
    "tests/worker/test_worker_process.py": 440,  # 40 s: worker processes killed and restarted
    "tests/care/test_facts.py": 280,  # 24 s: buckets against a straight count
    "tests/roster/test_engine.py": 270,
    "tests/web/test_crawl.py": 250,  # (seeded demo)
    "tests/cli/test_deploy_settings.py": 226,
    "tests/mobilize/ledger_io/test_export_and_cli.py": 142,
    "tests/roster/test_benchmark_io.py": 117,
    "tests/accounts/test_login_throttle.py": 111,
    "tests/cli/test_createadmin.py": 107,
    "tests/cli/test_import_export.py": 98,
    "tests/mobilize/api/test_input_bounds.py": 96,
    "tests/partylife/api/test_meetings_api.py": 74,
    "tests/reports/test_members_demo.py": 70,  # (seeded demo)
    "tests/notify/test_web.py": 64,
    "tests/web/test_care_api_io.py": 62,
    "tests/reports/test_members.py": 60,
    "tests/roster/test_aggregate.py": 52,
}


def estimate(scope: str, tests: int) -> float:
    return FILE_SECONDS.get(scope, tests * SECONDS_PER_TEST)


def longest_first(queue: dict[str, dict[str, bool]]) -> OrderedDict[str, dict[str, bool]]:
    """The work units (file -> its tests) longest first; equal estimates keep their order."""
    return OrderedDict(sorted(queue.items(), key=lambda item: -estimate(item[0], len(item[1]))))


class LongestFirst(LoadFileScheduling):
    """``--dist loadfile`` with the files handed out longest first."""

    _ordered = False

    def _assign_work_unit(self, node: WorkerController) -> None:
        if not self._ordered:
            self._ordered = True
            self.workqueue = longest_first(self.workqueue)  # type: ignore[has-type]
        super()._assign_work_unit(node)
