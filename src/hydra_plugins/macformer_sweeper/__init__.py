"""Hydra plugin: the basic sweeper minus duplicate jobs (the rule: dedupe.py).

Hydra only loads plugins from the `hydra_plugins` namespace package; this class hooks
dedupe.py into Hydra's BasicSweeper and gives every job the sweep's run.sweep_id.
"""

import logging

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

from .dedupe import dedupe_jobs, new_sweep_id

log = logging.getLogger(__name__)


class DedupSweeper(BasicSweeper):
    def sweep(self, arguments):
        self._sweep_id = new_sweep_id()
        return super().sweep(arguments)

    def split_arguments(self, overrides, max_batch_size):  # noqa: D401  (BasicSweeper's hook)
        batches = BasicSweeper.split_arguments(overrides, None)
        jobs = [job for batch in batches for job in batch]
        default_attention = self.config.hydra.runtime.choices.get("attention", "rmfa")
        kept = dedupe_jobs(jobs, default_attention)
        if len(kept) < len(jobs):
            log.info(f"Sweep: {len(jobs) - len(kept)} duplicate job(s) dropped (kernel values "
                     f"do not apply to attentions without a kernel); {len(kept)} job(s) remain")
        sweep_id = getattr(self, "_sweep_id", None)
        if sweep_id:
            kept = [[*job, f"run.sweep_id={sweep_id}"] for job in kept]
        size = max_batch_size or len(kept) or 1
        return [kept[i : i + size] for i in range(0, len(kept), size)]
