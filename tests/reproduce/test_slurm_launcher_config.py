"""`hydra/launcher=slurm` (conf/hydra/launcher/slurm.yaml) composes into the SLURM launcher
plugin with its resources still open: the jobs it submits are tested in test_slurm_hydra.py."""

from hydra import compose, initialize_config_dir

from macformer.conf_dir import CONFIG_DIR


def test_slurm_launcher_config_composes():
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm", "hydra.launcher.partition=gpu"],
                      return_hydra_config=True)
    assert cfg.hydra.launcher._target_ == "hydra_plugins.macformer_slurm.MacformerSlurmLauncher"
    # GPUs follow the trainer when the launcher is started (null here); a task per device.
    assert cfg.hydra.launcher.partition == "gpu" and cfg.hydra.launcher.gpus_per_node is None
    assert cfg.hydra.launcher.tasks_per_node == cfg.trainer.devices == 1
