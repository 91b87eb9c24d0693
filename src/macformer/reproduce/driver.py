"""`macformer-reproduce` as its stages: plan (stage_plan.py) → cost (stage_cost.py) → run
here (stage_run.py) or submit to a cluster (submit.py) → close (stage_close.py); or
--verify (verify.py), which re-runs one committed cell instead.

Resumable: a run whose summary says `completed` (same settings) is skipped, an
interrupted one continues from its last checkpoint (training does that), so re-running
the same command picks up where it stopped. A failed run is reported at the end and
never stops the others. Tasks whose data is absent and cannot be generated are recorded
as `missing` with the command that fetches them.
"""

from __future__ import annotations

from pathlib import Path

from .cli import parse
from .stage_close import close_stage
from .stage_cost import cost_stage
from .stage_plan import Done, plan_stage
from .stage_run import run_stage


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)  # a bad value of an option: one line, exit 2
    if args.verify is not None:
        from .verify import verify

        return verify(Path(args.verify), args.cell, args.verify_dir, args.data_dir)
    try:
        planned = plan_stage(args)
        plan = cost_stage(args, planned)
        if args.launcher:
            from .submit import submit

            return submit(plan.runs, args, plan.device, planned.isolation)
        return close_stage(args, planned, plan, run_stage(args, planned, plan))
    except Done as done:  # --print-profile, --dry-run, --plan, a refusal, Ctrl-C before the runs
        return done.code
