"""The costed plan's parts on their own: the sweep groups and their sizes, one job per run
across groups, the cost of a run from a measurement, a shape that does not fit skipped
with its reason, the wall time on several slots, and how runs are packed for SLURM."""

import subprocess
import sys

import pytest

from macformer.reproduce.calibration import Cache, Measurement, measure, shape_key
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
    assert len(names) == 12 and "kernelized-trigh-causal" in names and "rmfa-sqrt-noppsbn-causal" in names
    assert "rmfa-exp-noncausal" in names and "kernelized-exp-noncausal" in names
    assert pathx.tasks == ("pathx",) and "kernelized-exp-causal" in [r.name for r in pathx.rows]
    out = subprocess.run([sys.executable, "-m", "macformer.reproduce", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "core" in out and "7 rows x 5 task(s) =  35 runs per seed" in out
    assert "ablations  12 rows x 5 task(s) =  60 runs per seed" in out
    assert "pathx      12 rows x 1 task(s) =  12 runs per seed" in out
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
