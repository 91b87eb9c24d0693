"""Hydra plugin: the basic sweeper minus duplicate jobs (see macformer.training.sweep).

Hydra only loads plugins from the `hydra_plugins` namespace package; the logic lives in
macformer.training.sweep, this class only hooks it into Hydra's BasicSweeper.
"""

import logging

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

log = logging.getLogger(__name__)


class DedupSweeper(BasicSweeper):
    def sweep(self, arguments):
        from macformer.training.sweep import new_sweep_id

        self._sweep_id = new_sweep_id()
        return super().sweep(arguments)

    def split_arguments(self, overrides, max_batch_size):  # noqa: D401  (BasicSweeper's hook)
        from macformer.training.sweep import dedupe_jobs

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
