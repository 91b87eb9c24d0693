"""The costed plan's parts on their own: the sweep groups and their sizes, one job per run
across groups, the cost of a run from a measurement, a shape that does not fit skipped
with its reason, the wall time on several slots, and how runs are packed for SLURM."""

import re
import subprocess
import sys

import pytest

from macformer.reproduce.calibration import (
    Cache,
    Measurement,
    measure,
    shape_key,
    shapes_to_measure,
)
from macformer.reproduce.cost import Costed, cost, plan_table, wall_seconds
from macformer.reproduce.groups import GROUPS
from macformer.reproduce.submit import pack, time_limit_min
from macformer.reproduce.sweep import PROFILES, plan_groups, sweeps_of


def test_groups_and_their_sizes_in_help():
    assert {"core", "ablations", "pathx", "cpu", "smoke"} <= set(GROUPS)
    [core] = sweeps_of("paper")  # the paper profile's default: the paper's comparison
    assert [r.name for r in core.rows] == ["softmax", "rfa", *(f"rmfa-{k}-causal" for k in (
        "exp", "inverse", "log", "trigh", "sqrt"))]
    assert core.tasks == ("listops", "text", "retrieval", "image", "pathfinder") and core.seeds == (0, 1, 2)
    ablations, pathx = sweeps_of("paper", ("ablations", "pathx"))
    names = [r.name for r in ablations.rows]
    assert len(names) == 9 and "kernelized-trigh-causal" in names and "rmfa-trigh-noppsbn-causal" in names
    assert "rmfa-exp-noncausal" in names and "kernelized-exp-noncausal" in names
    assert pathx.tasks == ("pathx",) and "kernelized-exp-causal" in [r.name for r in pathx.rows]
    out = subprocess.run([sys.executable, "-m", "macformer.reproduce", "--help"], capture_output=True,
                         text=True, check=True).stdout
    # Each group's line, compared word by word (the help pads its columns):
    sizes = {words[0]: " ".join(words[1:]) for words in (line.partition(":")[0].split()
             for line in out.splitlines()) if words[2:4] == ["rows", "x"]}
    assert sizes["core"] == "7 rows x 5 task(s) = 35 runs per seed"
    assert sizes["ablations"] == "9 rows x 5 task(s) = 45 runs per seed"
    assert sizes["pathx"] == "12 rows x 1 task(s) = 12 runs per seed"
    assert "paper: sweep core, seeds 0,1,2" in out


def test_a_row_two_groups_share_is_planned_once(tmp_path):
    extra = (f"paths.data_dir={tmp_path}", f"paths.results_dir={tmp_path}")
    both = plan_groups(sweeps_of("smoke", ("smoke", "cpu")), extra, tasks=["listops"])
    assert len(both) == len({j.run_dir for j in both}) == 6 + 3  # cpu adds rmfa inverse, log, sqrt
    assert [j.group for j in both][-3:] == ["cpu"] * 3
    assert PROFILES["cpu"].groups == ("cpu",)


def test_a_shape_that_ran_out_of_memory_is_skipped_with_its_reason(tmp_path):
    extra = (f"paths.data_dir={tmp_path}", f"paths.results_dir={tmp_path}")
    jobs = plan_groups(sweeps_of("paper", ("pathx",)), extra, rows=["softmax", "kernelized-exp-causal"],
                       seeds=[0])
    cache = Cache(tmp_path, "some-gpu", "1 per GPU")
    failed = {"status": "failed", "error": "OutOfMemoryError: CUDA out of memory. Tried to allocate "
                                           "64.00 GiB (GPU 0; 139.8 GiB total capacity)"}
    cache.put(shape_key(jobs[1]), measure(failed, 12.0, tmp_path / "none.json"))
    cache.put(shape_key(jobs[0]), Measurement(60.0, 30, 0.5, 4.0, 20.0, 9000.0, 1e6))
    softmax, kernelized = cost(jobs, Cache(tmp_path, "some-gpu", "1 per GPU"), "Some GPU")
    assert kernelized.skip.startswith("does not fit Some GPU: its calibration ran out of memory")
    steps, every = jobs[0].facts["max_steps"], jobs[0].eval_every
    assert softmax.seconds == pytest.approx(20.0 + steps * 0.5 + steps // every * 4.0)
    table = plan_table([softmax, kernelized], slots=1, per_unit=1, unit="GPU")
    assert "skipped at planning (1 rows):" in table and "pathx kernelized-exp-causal: skipped" in table
    assert f"{softmax.seconds / 3600:.2f} run-hours" in table


def test_resumed_run_costs_only_what_is_left():
    m = Measurement(100.0, 30, 2.0, 10.0, 40.0, None, None)
    assert m.run_seconds(1000, 100) == 40 + 2000 + 100
    assert m.run_seconds(1000, 100, steps_done=600) == 40 + 800 + 40


def test_longest_first_on_slots():
    assert wall_seconds([10, 10, 10, 30], 1) == 60
    assert wall_seconds([10, 10, 10, 30], 2) == 30  # the long run on one slot, the rest on the other
    assert wall_seconds([5, 5, 5], 4) == 5


def test_short_runs_share_an_array_task(tmp_path):
    def run(seconds):
        return Costed(job=None, seconds=seconds)

    runs = [run(3000), run(600), run(900), run(1500), run(7200), run(None)]
    groups = pack(runs, pack_s=3600)
    sizes = sorted(tuple(sorted(c.seconds or 0 for c in g)) for g in groups)
    assert sizes == [(0,), (600, 3000), (900, 1500), (7200,)]  # first fit, longest first
    assert time_limit_min([run(7200)]) == 240  # 3 h + 15 min, rounded up
    assert time_limit_min([run(600), run(900)]) == 60
    assert time_limit_min([run(None)]) == 1440


def test_time_left_from_the_plan_until_runs_finish_shared_by_slots():
    from macformer.reproduce.progress import Progress

    progress = Progress(["listops", "listops", "text"], {"listops": 100.0, "text": 40.0}, slots=2)
    assert progress.remaining() == (2 * 100 + 40) / 2
    progress.finish("listops", 50.0)  # measured now: 50 s a run, for text too (no run of its own yet)
    assert progress.remaining() == (50 + 50) / 2


def test_slots_give_each_run_its_gpu_or_its_share_of_the_cores():
    from macformer.reproduce.slots import Device, layout, slots

    gpus = Device("cuda", "Some GPU", ("2", "5"), cores=16, memory_mb=80_000)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in slots(gpus, 2)] == ["2", "5", "2", "5"]
    cpu = Device("cpu", "Some CPU x2", ("cpu",), cores=2, memory_mb=8_000)
    assert [s.env["OMP_NUM_THREADS"] for s in slots(cpu, 2)] == ["1", "1"]
    assert slots(cpu, 1)[0].env["OMP_NUM_THREADS"] == "2" and layout(cpu, 2) == "2 jobs x 1 threads"


# --- the calibration cache is data; calibration without data; the plan's left-out tasks ---

def _smoke_jobs(tmp_path, tasks=("listops",), rows=("softmax",), extra=()):
    overrides = (f"paths.data_dir={tmp_path / 'data'}", f"paths.results_dir={tmp_path / 'results'}", *extra)
    return plan_groups(sweeps_of("smoke"), overrides, tasks=list(tasks), rows=list(rows))


def _calibrate(jobs, cache, steps=4, generate=False):
    from macformer.reproduce.calibration import calibrate
    from macformer.reproduce.slots import Slot

    calibrate(jobs, cache, [Slot("cpu/1", {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})], "fork",
              steps, generate=generate)


GOOD = {"wall_s": 6.0, "steps": 4, "step_s": 0.05, "validation_s": 0.4, "fixed_s": 5.0,
        "peak_memory_mb": None, "tokens_per_s": 1000.0, "error": None, "fits": True}
POISON = {
    "step_s a string": {**GOOD, "step_s": "fast"},
    "an unknown key": {**GOOD, "speed": 3},
    "a string entry": "0.05 s a step",
    "a list entry": [1, 2],
    "NaN": {**GOOD, "step_s": float("nan")},
    "infinity": {**GOOD, "fixed_s": float("inf")},
    "negative": {**GOOD, "step_s": -1000},
    "zero step": {**GOOD, "step_s": 0},
    "a missing key": {k: v for k, v in GOOD.items() if k != "fixed_s"},
    "steps a float": {**GOOD, "steps": 4.5},
    "fits not a bool": {**GOOD, "fits": "yes"},
    "an interrupted calibration": {**GOOD, "step_s": 0.0, "steps": 0,
                                   "error": "interrupted by Ctrl-C (SIGINT) at step 3"},
}


@pytest.mark.parametrize("kind", POISON)
def test_a_poisoned_cache_entry_is_dropped_with_one_warning(tmp_path, capsys, kind):
    import json

    [job] = _smoke_jobs(tmp_path)
    cache = Cache(tmp_path, "some-cpu", "1 jobs x 1 threads")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text(json.dumps({cache.prefix + shape_key(job): POISON[kind],
                                      cache.prefix + "other/shape": GOOD}))
    loaded = Cache(tmp_path, "some-cpu", "1 jobs x 1 threads")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(cache.path) in err[0] and "1 bad entry dropped" in err[0], err
    assert loaded.get(shape_key(job)) is None and loaded.get("other/shape") == Measurement(**GOOD)
    assert list(shapes_to_measure([job], loaded)) == [shape_key(job)]  # measured again
    [costed] = cost([job], loaded, "Some CPU")
    assert costed.seconds is None and costed.note == "not measured"  # never negative, never NaN
    Cache(tmp_path, "some-cpu", "1 jobs x 1 threads")  # written back without it: no second warning
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"a string"'])
def test_a_cache_file_that_is_no_object_warns_once_and_starts_empty(tmp_path, capsys, text):
    cache = Cache(tmp_path, "some-cpu", "x")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text(text)
    assert Cache(tmp_path, "some-cpu", "x").entries == {}
    [line] = capsys.readouterr().err.splitlines()
    assert str(cache.path) in line and "every shape is measured again" in line


def test_a_negative_step_in_the_cache_is_measured_again_never_a_negative_estimate(tmp_path, capsys):
    import json

    [job] = _smoke_jobs(tmp_path)
    cache = Cache(tmp_path / "results", "some-cpu", "1 jobs x 1 threads")
    cache.path.parent.mkdir(parents=True)
    earlier = "older-version|1 jobs x 1 threads|smoke/text/softmax/L64/B8"  # an earlier measurement
    cache.path.write_text(json.dumps({cache.prefix + shape_key(job): {**GOOD, "step_s": -1000},
                                      earlier: {**GOOD, "step_s": 0.064, "fixed_s": 3.0}}))
    cache = Cache(tmp_path / "results", "some-cpu", "1 jobs x 1 threads")
    _calibrate([job], cache)
    out = capsys.readouterr()
    assert out.err.count("warning") == 1 and f"calibrated {shape_key(job)}" in out.out
    # foreseen before it starts: 3.4 s fixed + 4 steps x 0.064 s (the same positions a step)
    assert "calibrating 1 shape(s) will take about 0:04 (from earlier measurements on this device" in out.out
    m = cache.get(shape_key(job))
    assert m.error is None and m.step_s > 0 and m.inputs == "random"
    table = plan_table(cost([job], cache, "Some CPU"), slots=1, per_unit=1, unit="CPU")
    assert "estimate: 0.00" in table and not re.search(r"-\d", table.split("estimate:")[1])


def test_an_interrupted_calibration_is_not_cached_and_is_measured_next_time(tmp_path, capsys):
    [stopped] = _smoke_jobs(tmp_path, extra=("debug.interrupt_at_step=2",))  # a real SIGINT at step 2
    [job] = _smoke_jobs(tmp_path)
    assert shape_key(stopped) == shape_key(job)
    cache = Cache(tmp_path / "results", "some-cpu", "1 jobs x 1 threads")
    _calibrate([stopped], cache)  # the run alone got SIGINT: it recorded itself `interrupted`
    assert "interrupted, not cached (measured on the next run)" in capsys.readouterr().out
    again = Cache(tmp_path / "results", "some-cpu", "1 jobs x 1 threads")
    assert again.get(shape_key(job)) is None
    _calibrate([job], again)
    assert again.get(shape_key(job)).error is None


def test_calibration_on_random_inputs_needs_no_data_and_writes_none(tmp_path, capsys):
    jobs = _smoke_jobs(tmp_path, tasks=("listops", "retrieval"))  # generated; a pair task, not generable
    cache = Cache(tmp_path / "results", "some-cpu", "1 jobs x 1 threads")
    _calibrate(jobs, cache)
    out = capsys.readouterr().out
    assert "listops, retrieval: on random inputs of each shape" in out
    assert "timing the smallest shape first, to foresee the other 1" in out
    assert "calibrating 1 shape(s) will take about" in out  # said before the rest starts
    for job in jobs:
        m = cache.get(shape_key(job))
        assert m.error is None and m.step_s > 0 and m.inputs == "random", m
    data = tmp_path / "data"
    assert not data.exists() or not any(data.rglob("*"))  # nothing generated, nothing fetched


def test_random_inputs_have_the_tasks_shape():
    from macformer.data.random_inputs import RandomInputs

    data = RandomInputs("retrieval", batch_size=4, max_length=32, limit_train=10, limit_val=6, limit_eval=5)
    batch = next(iter(data.train_dataloader()))
    assert batch["input_ids"].shape == batch["input_ids_pair"].shape == (4, 32)
    assert int(batch["input_ids"].min()) >= 1 and int(batch["input_ids"].max()) < data.vocab_size
    assert set(batch["label"].tolist()) <= {0, 1} and batch["attention_mask"].all()
    assert [len(data.val_dataloader().dataset), data.check_splits()["test_examples"]] == [6, 5]


def test_random_inputs_split_sizes_are_the_datas_own():
    from macformer.config import compose_run
    from macformer.data.random_inputs import split_sizes

    assert split_sizes(compose_run(["profile=paper", "task=listops"])) == {
        "train": 96_000, "val": 2_000, "test": 2_000}
    assert split_sizes(compose_run(["profile=cpu", "task=pathfinder"])) == {
        "train": 9_600, "val": 1_000, "test": 1_000}  # 12k images 80/10/10, limit_eval 1000
    assert split_sizes(compose_run(["profile=paper", "task=retrieval"]))["test"] == 17_437


def test_the_plan_names_tasks_with_missing_data_and_keeps_them_out_of_the_estimate(tmp_path):
    jobs = _smoke_jobs(tmp_path, tasks=("listops", "text"))
    cache = Cache(tmp_path, "some-cpu", "x")
    for job in jobs:
        cache.put(shape_key(job), Measurement(**GOOD))
    costed = cost(jobs, cache, "Some CPU", missing={"text": "needs network: fetch IMDb"})
    table = plan_table(costed, slots=1, per_unit=1, unit="CPU")
    listops_s = costed[0].seconds
    assert f"estimate: {listops_s / 3600:.4f} run-hours" in table  # listops only
    assert "text *" in table and "* left out of the estimate, data missing (1 task(s)" in table
    assert f"text: 1 run(s), {costed[1].seconds / 3600:.4f} run-hours once it is there; " \
           "needs network: fetch IMDb" in table


def test_free_cores_leave_out_the_busy_ones(monkeypatch):
    import os

    from macformer.reproduce.concurrency import free_cores

    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert free_cores(2) == (1, 1.2)
    monkeypatch.setattr(os, "getloadavg", lambda: (7.0, 1.0, 1.0))
    assert free_cores(4) == (1, 7.0)  # at least one
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 1.0, 1.0))
    assert free_cores(16) == (16, 0.3)


@pytest.mark.slow
def test_ctrl_c_during_plan_calibration_then_the_same_plan_measures_it(tmp_path):
    """Ctrl-C of the driver while it calibrates, then the same --plan: measured, not
    'calibration failed' for good; the data folder stays empty throughout."""
    import os
    import signal
    import time

    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", "softmax", "--data-dir", str(tmp_path / "data"), "--results-dir",
               str(tmp_path / "results"), "--calibration-steps", "3000", "--threads", "1", "--plan",
               "task.max_steps=3000"]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in driver.stdout:  # wait until the calibration run is training
        lines.append(line)
        if "calibrating 1 shape(s)" in line:
            break
    time.sleep(6)
    os.kill(driver.pid, signal.SIGINT)
    out = "".join(lines) + driver.communicate(timeout=120)[0]
    assert driver.returncode == 130, out
    assert "calibration interrupted by Ctrl-C" in out and "not cached (measured on the next run)" in out
    command[command.index("3000")] = "20"
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "calibrated smoke/listops/softmax" in again.stdout and "calibration failed" not in again.stdout
    assert "estimate: unknown" not in again.stdout and "estimate: 0." in again.stdout
    assert not any((tmp_path / "data").rglob("*"))


@pytest.mark.slow
def test_a_login_node_plan_with_calibrated_on_needs_no_data_and_no_calibration(tmp_path):
    """--calibrated-on: the plan from the GPU's cached measurements, at once, with no data."""
    results, data = tmp_path / "results", tmp_path / "data"
    extra = (f"paths.data_dir={data}", f"paths.results_dir={results}")
    jobs = plan_groups(sweeps_of("paper"), extra, tasks=["listops", "text"], rows=["softmax"], seeds=[0])
    cache = Cache(results, "some-gpu", "1 per GPU")
    for job in jobs:
        cache.put(shape_key(job), Measurement(**{**GOOD, "inputs": "random"}))
    done = subprocess.run([sys.executable, "-m", "macformer.reproduce", "--profile", "paper", "--tasks",
                           "listops", "text", "--rows", "softmax", "--seeds", "0", "--data-dir", str(data),
                           "--results-dir", str(results), "--plan", "--calibrated-on", "some-gpu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "calibrating" not in done.stdout and "text *" in done.stdout
    hours = jobs[0].facts["max_steps"] * 0.05 + 5.0 + jobs[0].facts["max_steps"] // jobs[0].eval_every * 0.4
    assert f"estimate: {hours / 3600:.2f} run-hours" in done.stdout  # listops; text is left out
    assert "text: 1 run(s), " in done.stdout and "left out of the plan (not in --tasks)" in done.stdout
    assert not data.exists() or not any(data.rglob("*"))
