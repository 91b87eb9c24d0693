"""data_status and the prepare entry point, offline."""

from lra_fixtures import save_cifar, write_aan

from macformer.data import data_status
from macformer.data.prepare import main


def test_status_names_what_is_missing_and_how_to_fix_it(tmp_path):
    write_aan(tmp_path / "lra_release" / "lra_release")
    save_cifar(tmp_path)
    status = {task: (ready, detail) for task, ready, detail in data_status(tmp_path)}
    assert [t for t, (ready, _) in status.items() if ready] == ["retrieval", "image"]
    assert "python -m macformer.data.listops --out" in status["listops"][1]
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
    assert "listops     ready    generated (seed 0)" in table
    assert "pathfinder  ready    generated (seed 0)" in table
    assert "text        MISSING  needs network" in table
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
