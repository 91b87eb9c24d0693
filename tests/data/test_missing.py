"""missing_tasks on real data folders: only absent tasks no run can generate are listed."""

from dataclasses import dataclass

from lra_fixtures import write_aan, write_listops

from macformer.data.missing import missing_tasks


@dataclass(frozen=True)
class Run:  # the two fields missing_tasks reads of a sweep's Job
    task: str
    generable: bool


def test_absent_tasks_that_no_run_generates_are_listed_with_their_fetch_command(tmp_path):
    write_aan(tmp_path / "lra_release" / "lra_release")  # Retrieval is present
    runs = [Run("text", False), Run("listops", True), Run("retrieval", False), Run("text", False),
            Run("image", False), Run("pathfinder", True)]
    missing = missing_tasks(tmp_path, iter(runs))  # any iterable: it is read twice
    assert list(missing) == ["text", "image"]  # first-seen order, once each
    assert f"`python -m macformer.data.prepare --data-dir {tmp_path} --only text`" in missing["text"]
    assert f"`python -m macformer.data.prepare --data-dir {tmp_path} --only image`" in missing["image"]


def test_a_task_is_not_missing_when_one_of_its_runs_generates_it(tmp_path):
    runs = [Run("listops", False), Run("listops", True), Run("pathx", False)]
    assert list(missing_tasks(tmp_path, runs)) == ["pathx"]
    write_listops(tmp_path / "lra_release" / "lra_release")
    assert missing_tasks(tmp_path, [Run("listops", False)]) == {}  # present: nothing to fetch
