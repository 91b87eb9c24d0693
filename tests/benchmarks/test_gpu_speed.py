"""benchmarks/gpu_speed.py, the one-command GPU check, run at toy sizes on the CPU."""

import json

import pytest
import torch

from benchmarks import gpu_speed


@pytest.mark.slow
def test_gpu_check_writes_both_tables_and_every_target(tmp_path):
    assert gpu_speed.main(["--device", "cpu", "--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "gpu_speed.md").read_text()
    for heading in ("## Attention, forward + backward, ms", "## Attention, forward + backward, peak MiB",
                    "## Kernel launches", "## Training the ListOps model", "## Targets"):
        assert heading in text
    for variant in ("softmax", "rfa", "performer", "rmfa-exp", "rmfa-exp-causal"):
        assert f"| {variant} " in text
    rows = json.loads((tmp_path / "training.json").read_text())
    assert {r["attention"] for r in rows} == set(gpu_speed.TRAINING_LABELS)
    assert all(r["train_tokens_per_second"] > 0 for r in rows)
    # On a CPU the GPU targets are shown, never judged.
    assert "training tokens/s, rmfa-causal / softmax, N = 2048" in text
    assert "time of causal rmfa / non-causal rmfa at 4096" in text
    target_lines = [line for line in text.splitlines() if "| gpu " in line]
    assert target_lines and not any("PASS" in line or "FAIL" in line for line in target_lines)
    assert (tmp_path / "attention_speed.csv").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_requested_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_speed.main(["--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no CUDA device" in capsys.readouterr().err
