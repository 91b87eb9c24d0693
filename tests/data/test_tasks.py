import pytest

from macformer.data import SPLITS, TASKS, DataError, build_dataset, task_spec


def test_specs_match_lra():
    assert TASKS == ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
    assert SPLITS == ("train", "val", "test")
    lengths = {t: task_spec(t).seq_len for t in TASKS}
    assert lengths == {"listops": 2048, "text": 4000, "retrieval": 4000, "image": 1024,
                       "pathfinder": 1024, "pathx": 16384}
    assert task_spec("listops").vocab_size == 16 and task_spec("listops").num_classes == 10
    assert task_spec("image").vocab_size == 257 and task_spec("image").num_classes == 10
    assert [t for t in TASKS if task_spec(t).is_pair] == ["retrieval"]


def test_wrong_names_list_the_valid_ones(tmp_path):
    with pytest.raises(DataError, match="valid tasks: listops, text, retrieval, image, pathfinder, pathx"):
        task_spec("lisops")
    with pytest.raises(DataError, match="valid splits: train, val, test"):
        build_dataset("listops", "dev", tmp_path)
