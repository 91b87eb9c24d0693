"""Job states without accounting: squeue's lines (one per array task, finished ones kept for
MinJobAge), and a job squeue no longer lists has ended. The real cluster: test_slurm_cluster.py."""

from submitit.core.utils import FailedJobError

from macformer.reproduce.slurm_watch import QueueWatcher, sbatch_message


def test_states_from_squeue_lines_and_a_job_it_no_longer_lists_has_ended():
    watcher = QueueWatcher(delay_s=60)
    for job_id in ("12_0", "12_1", "9_0"):
        watcher.register_job(job_id)
    assert watcher._make_command()[0] == "squeue"
    info = watcher.read_info(b"12_0|RUNNING\n12_1|PENDING\n7|COMPLETED\n")
    assert {k: v["State"] for k, v in info.items()} == {
        "12_0": "RUNNING", "12_1": "PENDING", "7": "COMPLETED", "9_0": "FINISHED"}
    watcher._info_dict.update(info)
    assert not watcher.is_done("12_1", mode="cache") and watcher.is_done("9_0", mode="cache")


def test_sbatch_message_is_one_line():
    error = FailedJobError("sbatch: error: invalid partition specified: nope\n"
                           "sbatch: error: Batch job submission failed: Invalid partition name specified\n")
    assert sbatch_message(error) == ("sbatch: invalid partition specified: nope; "
                                     "Batch job submission failed: Invalid partition name specified")
