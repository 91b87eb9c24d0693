"""The driver's own log of a run (`<run dir>/reproduce.log`) is never written through a
symlink planted in the run folder, neither by a sweep run here nor by a SLURM array task
(which writes its command line there before the run starts): the link is removed, the
file outside stays as it was."""

import pytest
from driver_helpers import smoke_job

from macformer.lifecycle.record import read_summary
from macformer.reproduce.runner import run_job
from macformer.reproduce.submit import RunGroup


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["sweep", "array task"])
def test_a_planted_reproduce_log_is_never_written_through(tmp_path, runner):
    job = smoke_job(tmp_path / "data", tmp_path / "results", "softmax")
    job.run_dir.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the run's\n")
    (job.run_dir / "reproduce.log").symlink_to(outside)
    if runner == "sweep":
        run_job(job, "subprocess", None)
    else:
        RunGroup([job.overrides], [str(job.run_dir)])()
    record = read_summary(job.run_dir)
    assert record["status"] == "completed", record["error"]
    assert outside.read_text() == "not the run's\n"
    log = job.run_dir / "reproduce.log"
    assert not log.is_symlink() and "macformer.train" in log.read_text()
