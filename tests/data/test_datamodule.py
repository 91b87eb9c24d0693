"""LRADataModule: padded batches, masks, pairs, seeded shuffling, limits."""

import torch
from lra_fixtures import write_aan, write_listops, write_pathfinder

from macformer.data import LRADataModule, task_spec


def test_listops_batches_are_padded_to_the_task_length(tmp_path):
    write_listops(tmp_path / "lra_release")
    dm = LRADataModule("listops", tmp_path, batch_size=2)
    dm.prepare_data()
    dm.setup("fit")
    assert (dm.seq_len, dm.vocab_size, dm.num_classes, dm.is_pair) == (2048, 16, 10, False)
    batch = next(iter(dm.val_dataloader()))
    assert batch["input_ids"].shape == (2, 2048) and batch["input_ids"].dtype == torch.long
    assert batch["attention_mask"].dtype == torch.bool
    assert batch["attention_mask"].sum(1).tolist() == [4, 8]
    assert (batch["input_ids"][~batch["attention_mask"]] == 0).all()
    assert (batch["input_ids"][batch["attention_mask"]] > 0).all()
    assert batch["label"].tolist() == [9, 2]


def test_retrieval_pairs_and_max_length_truncates(tmp_path):
    write_aan(tmp_path / "lra_release", n_rows=(3, 2, 2))
    dm = LRADataModule("retrieval", tmp_path, batch_size=3, max_length=6)
    assert dm.is_pair and dm.seq_len == 6 and task_spec("retrieval").seq_len == 4000
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"input_ids", "attention_mask", "input_ids_pair", "attention_mask_pair", "label"}
    assert batch["input_ids"].shape == batch["input_ids_pair"].shape == (3, 6)
    assert sorted(batch["attention_mask"].sum(1).tolist()) == [5, 6, 6]  # 5, 6, 7 bytes cut at 6
    assert batch["attention_mask_pair"].sum(1).tolist() == [6, 6, 6]


def test_seeded_shuffle_and_limits(tmp_path):
    write_pathfinder(tmp_path / "lra_release", n=40, empty=None)

    def order(seed):
        dm = LRADataModule("pathfinder", tmp_path, batch_size=4, seed=seed, limit_train=20, limit_eval=3)
        labels = [b["label"] for b in dm.train_dataloader()]
        firsts = [b["input_ids"][:, 0] for b in dm.train_dataloader()]
        return torch.cat(firsts), sum(len(x) for x in labels), len(dm.splits["val"])

    a, n_train, n_val = order(0)
    b, _, _ = order(0)
    c, _, _ = order(1)
    assert n_train == 20 and n_val == 3
    assert torch.equal(a, b) and not torch.equal(a, c)
    dm = LRADataModule("pathfinder", tmp_path, batch_size=4)
    val1 = torch.cat([x["input_ids"] for x in dm.val_dataloader()])
    val2 = torch.cat([x["input_ids"] for x in dm.val_dataloader()])
    assert torch.equal(val1, val2) and val1.shape[1] == 1024 and bool((val1 > 0).all())


def test_workers_load_the_same_batches(tmp_path):
    write_listops(tmp_path / "lra_release")
    plain = next(iter(LRADataModule("listops", tmp_path, batch_size=3).test_dataloader()))
    workers = next(iter(LRADataModule("listops", tmp_path, batch_size=3, num_workers=1).test_dataloader()))
    assert all(torch.equal(plain[k], workers[k]) for k in plain)
