"""Crash campaign: SIGKILL `reelgraph run` at random moments, resume, count what went wrong.

    python bench/crash_campaign.py --kills 200 [--from-recorded] [--first-seed 0]

Each kill uses the repetition of ``tests/pipeline/test_crash_resume.py`` (a
fresh home, a real CLI run of a short document, SIGKILL after a seeded random
delay, then ``reelgraph resume``) and prints one JSON summary: kills, where
they landed (mid-run, before the run was recorded, inside an artifact write,
with WAL frames not yet checkpointed), stale leases taken over, resumes
completed, finished nodes re-executed (must be 0) and problems (must be 0:
integrity_check, incomplete video, a resume that did not finish).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pipeline.test_crash_resume import crash_and_resume  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--from-recorded",
        action="store_true",
        help="count the delay from the moment the run is recorded (all kills land mid-run)",
    )
    args = parser.parse_args()
    seeds = tuple(range(args.first_seed, args.first_seed + args.kills))
    with tempfile.TemporaryDirectory(prefix="reelgraph-crash-") as root:
        crash_and_resume(Path(root), seeds, "campaign", from_recorded=args.from_recorded)


if __name__ == "__main__":
    main()
