"""A run writes only inside its run folder: symlinks planted there (train.log, best.ckpt,
last.ckpt, metrics.csv, .hydra/) are removed with one warning line each and never written
through, with TMPDIR on another filesystem (where Lightning's own checkpoint writer copies
through a link); links above the run folder are left alone."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
import torch
from integrity_helpers import run_dir, train_here
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from small_filesystem import tmpfs, tmpfs_problem

from macformer.training.checkpoint_io import RunFolderCheckpointIO

PLANTED = ("train.log", "checkpoints/best.ckpt", "checkpoints/last.ckpt", "csv/metrics.csv")


@pytest.fixture
def tmpdir_elsewhere(tmp_path, monkeypatch):
    """TMPDIR on a filesystem of its own (a tmpfs mounted for the test, else /dev/shm), as on
    clusters; where neither can be had, a second temporary directory."""
    folder = tmp_path / "tmpdir"
    mounted = tmpfs_problem(folder) is None
    with tmpfs(folder, "64m") if mounted else contextlib.nullcontext(folder):
        if not mounted and os.path.isdir("/dev/shm") and os.stat("/dev/shm").st_dev != os.stat(tmp_path).st_dev:
            folder = Path(tempfile.mkdtemp(dir="/dev/shm"))
        folder.mkdir(exist_ok=True)
        monkeypatch.setenv("TMPDIR", str(folder))
        monkeypatch.setattr(tempfile, "tempdir", str(folder))  # tempfile caches its folder
        yield folder


def _plant(folder, outside):
    targets = {}
    for name in PLANTED:
        target = outside / name.replace("/", "_")
        target.write_text(f"the user's own {name}\n")
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(target)
        targets[name] = target
    (outside / "configs").mkdir()
    (folder / ".hydra").symlink_to(outside / "configs")
    return targets


def test_lightning_writer_would_write_through_the_link(tmp_path, tmpdir_elsewhere):
    """Why the run needs its own writer: with TMPDIR elsewhere, Lightning's copies through."""
    if os.stat(tmpdir_elsewhere).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem for TMPDIR here (no tmpfs mount, no /dev/shm)")
    target, link = tmp_path / "target", tmp_path / "best.ckpt"
    target.write_text("keep")
    link.symlink_to(target)
    TorchCheckpointIO().save_checkpoint({"step": 1}, link)
    assert target.read_bytes() != b"keep"  # overwritten with a checkpoint

    target.write_text("keep")
    RunFolderCheckpointIO().save_checkpoint({"step": 2}, link)
    assert target.read_text() == "keep" and not link.is_symlink()
    assert torch.load(link, weights_only=True) == {"step": 2}
    assert os.listdir(tmpdir_elsewhere) == []  # TMPDIR plays no part


def test_planted_links_are_removed_and_never_written_through(listops_data, tmp_path, tmpdir_elsewhere,
                                                             caplog):
    results, outside = tmp_path / "results", tmp_path / "outside"
    outside.mkdir()
    folder = run_dir(results)
    targets = _plant(folder, outside)

    summary = train_here(listops_data, results)

    assert summary["status"] == "completed"
    for name, target in targets.items():
        assert target.read_text() == f"the user's own {name}\n", f"{name} was written through"
        assert (folder / name).is_file() and not (folder / name).is_symlink()
        assert f"removed the symlink {folder / name} (to {target})" in caplog.text
    assert os.listdir(outside / "configs") == []
    assert (folder / ".hydra" / "config.yaml").is_file() and not (folder / ".hydra").is_symlink()
    assert torch.load(folder / "checkpoints" / "best.ckpt", weights_only=True)["global_step"] > 0
    assert not [name for _, _, names in os.walk(results) for name in names if name.endswith(".tmp")]


def test_a_link_above_the_run_folder_is_kept(listops_data, tmp_path, caplog):
    """results/runs may be a link to a scratch disk: it is not the run's to judge."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "runs").symlink_to(scratch)
    assert train_here(listops_data, tmp_path / "results")["status"] == "completed"
    assert (tmp_path / "results" / "runs").is_symlink()
    assert (scratch / "smoke" / "listops" / "softmax" / "seed0" / "summary.json").is_file()
    assert "removed the symlink" not in caplog.text


def test_only_planted_links_go_wandb_own_links_stay(tmp_path, caplog):
    from macformer.lifecycle.run_folder import remove_planted_links

    run, outside = tmp_path / "run", tmp_path / "outside"
    wandb_run = run / "wandb" / "offline-run-20260101_000000-abc" / "logs"
    wandb_run.mkdir(parents=True)
    outside.mkdir()
    (wandb_run / "debug.log").write_text("")
    own = {run / "wandb" / "latest-run": "offline-run-20260101_000000-abc",
           run / "wandb" / "debug.log": str(wandb_run / "debug.log"),
           wandb_run / "debug-core.log": str(outside / "core-debug-20260101_000000.log")}
    planted = {run / "loop": "loop", run / "dangling": str(outside / "nothing"),
               run / "csv": str(outside),  # a linked folder: removed, never descended into
               run / "wandb" / "files": str(outside)}
    for link, target in {**own, **planted}.items():
        link.symlink_to(target)
    (outside / "metrics.csv").write_text("theirs")

    assert sorted(remove_planted_links(run)) == sorted(planted)
    assert all(link.is_symlink() for link in own) and (outside / "metrics.csv").read_text() == "theirs"
    for link, target in planted.items():
        assert f"removed the symlink {link} (to {target})" in caplog.text
