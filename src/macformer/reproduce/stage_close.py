"""The driver's last stage: the report (RESULTS/<profile>, or RESULTS/partial/<profile> for a
sweep that did not complete the profile), the closing summary of how every run ended, and
the exit status (130 after Ctrl-C, 1 for a failed run under --strict, else 0)."""

from __future__ import annotations

import time
from pathlib import Path

from .closing import print_closing
from .report_place import narrowed, partial_reason, write_report
from .stage_cost import CostedPlan
from .stage_plan import Planned
from .stage_run import Ran


def close_stage(args, planned: Planned, plan: CostedPlan, ran: Ran) -> int:
    report_written = [] if args.no_report else write_report(
        Path(args.results_dir), planned.profile,
        partial_reason(narrowed(planned.profile, planned.sweeps, args), ran.outcomes, ran.interrupted, ran.skipped),
        ran.table, f"{plan.device.name}, {plan.slot_layout}")
    failures = print_closing(ran.outcomes, planned.missing, time.monotonic() - planned.started, report_written,
                             ran.interrupted, ran.skipped)
    if ran.interrupted:
        print(f"reproduce: interrupted by Ctrl-C after {len(ran.outcomes)} of {len(planned.jobs)} runs; run the "
              "same command to resume (completed runs are skipped, the interrupted one continues "
              "from its last checkpoint)", flush=True)
        return 130
    return 1 if (failures and args.strict) else 0
