"""data_status and the prepare entry point, offline."""

from lra_fixtures import save_cifar, write_aan, write_listops, write_pathfinder

from macformer.data import data_status
from macformer.data.prepare import main


def has_row(table: str, start: str) -> bool:
    """A line of `table` begins with `start`, compared word by word: the column widths are
    layout, not content."""
    return any(" ".join(line.split()).startswith(" ".join(start.split())) for line in table.splitlines())


def test_status_names_what_is_missing_and_how_to_fix_it(tmp_path):
    write_aan(tmp_path / "lra_release" / "lra_release")
    save_cifar(tmp_path)
    status = {task: (ready, detail) for task, ready, detail in data_status(tmp_path)}
    assert [t for t, (ready, _) in status.items() if ready] == ["retrieval", "image"]
    assert "python -m macformer.data.generators.listops --out" in status["listops"][1]
    assert "--only text" in status["text"][1] and str(tmp_path / "imdb") in status["text"][1]
    assert "lra_release.gz" in status["pathx"][1]


def test_prepare_offline_generates_and_reports(tmp_path, capsys):
    try:
        main(["--data-dir", str(tmp_path), "--offline", "--only", "listops", "pathfinder",
              "--listops-train", "5", "--listops-val", "2", "--listops-test", "2",
              "--pathfinder-count", "20", "--workers", "1"])
    except SystemExit as exit_:
        assert exit_.code == 0
    table = capsys.readouterr().out
    assert has_row(table, "listops ready generated (seed 0)")
    assert has_row(table, "pathfinder ready generated (seed 0)")
    assert has_row(table, "text MISSING needs network")
    assert (tmp_path / "processed" / "pathfinder").is_dir()
    # Same sizes and seed: the generated set is kept. Other sizes: it is regenerated.
    marker = tmp_path / "lra_release" / "listops-1000" / "GENERATED.json"
    stamp = marker.stat().st_mtime_ns
    sizes = ["--listops-train", "5", "--listops-val", "2", "--listops-test", "2"]
    for extra in ([], ["--listops-train", "6"]):
        try:
            main(["--data-dir", str(tmp_path), "--offline", "--only", "listops", "--workers", "1", *sizes, *extra])
        except SystemExit as exit_:
            assert exit_.code == 0
        if not extra:
            assert marker.stat().st_mtime_ns == stamp
    assert '"train": 6' in marker.read_text()


def _exit_code(argv):
    try:
        main(argv)
    except SystemExit as exit_:
        return exit_.code
    return None


def test_prepare_only_exits_non_zero_when_a_task_asked_for_is_missing(tmp_path, capsys):
    assert _exit_code(["--data-dir", str(tmp_path), "--offline", "--only", "text"]) == 1
    out, err = capsys.readouterr()
    assert has_row(out, "text MISSING needs network")
    assert err.strip().splitlines()[-1] == "error: not ready: text (asked for with --only; the table says how to get each)"


def test_prepare_without_only_lists_the_missing_tasks_and_exits_0(tmp_path, capsys):
    # Release-format sources (no GENERATED.json) are used as they are: nothing is generated.
    root = tmp_path / "lra_release" / "lra_release"
    write_listops(root)
    write_pathfinder(root, n=20, empty=None)
    assert _exit_code(["--data-dir", str(tmp_path), "--offline", "--no-process"]) == 0
    out = capsys.readouterr().out
    assert has_row(out, "listops ready release at")
    assert out.strip().splitlines()[-1] == "missing: text, retrieval, image, pathx (the table says how to get each)"


def test_prepare_reports_a_malformed_source_in_one_line(tmp_path, capsys):
    bad = write_listops(tmp_path / "lra_release" / "lra_release") / "basic_val.tsv"
    bad.write_bytes(b"Source\tTarget\n( [MAX 2 \xff ]\t2\n")
    assert _exit_code(["--data-dir", str(tmp_path), "--offline", "--only", "listops", "--workers", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: [listops] {bad}:2: byte 0xff at column 10 is not UTF-8 " \
                      "(the file is damaged or not a ListOps TSV); fix that line or regenerate the file"
