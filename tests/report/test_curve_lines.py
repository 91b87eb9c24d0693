"""Learning curves that can be read: a line that coincides with another stays visible
and says so, and the chance line is the validation set's majority, not the test set's."""

from __future__ import annotations

from pytorch_lightning.loggers import CSVLogger
from report_summaries import summary, write_summaries

from macformer.report.curves import curve_figures
from macformer.report.load import load_runs

RMFA = {"attention": "rmfa", "kernel": "exp", "ppsbn": True, "num_features": 128}


def log_validation(run_dir, points, chance=None):
    """metrics.csv as the Lightning module writes it: val/accuracy and, since it logs
    it, val/chance_accuracy (the validation labels' majority share)."""
    logger = CSVLogger(save_dir=str(run_dir), name="csv", version="")
    for step, accuracy in points:
        metrics = {"val/accuracy": accuracy} | ({"val/chance_accuracy": chance} if chance else {})
        logger.log_metrics(metrics, step=step)
    logger.save()


def legend_of(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def test_coinciding_curves_are_all_drawn_and_named(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(),
        "cpu/listops/rmfa-exp-causal/seed0": summary(**RMFA, causal=True),
        "cpu/listops/rmfa-exp-noncausal/seed0": summary(**RMFA, causal=False),
    })
    same = [(99, 0.2), (199, 0.3)]
    log_validation(runs / "cpu/listops/softmax/seed0", [(99, 0.25), (199, 0.4)], chance=0.18)
    log_validation(runs / "cpu/listops/rmfa-exp-causal/seed0", same, chance=0.18)
    log_validation(runs / "cpu/listops/rmfa-exp-noncausal/seed0", same, chance=0.18)
    figures, _ = curve_figures(load_runs(runs), runs, "cpu")
    legend = legend_of(figures["curves_listops.png"])
    assert legend[:3] == ["softmax (n=1)", "rmfa-exp (causal) (n=1)",
                          "rmfa-exp (non-causal) (n=1) = rmfa-exp (causal)"]
    lines = figures["curves_listops.png"].axes[0].get_lines()
    first, second = lines[1], lines[2]
    assert list(first.get_ydata()) == list(second.get_ydata()) == [20.0, 30.0]
    assert second.get_linewidth() > first.get_linewidth()  # a band beneath, not hidden under it


def test_the_chance_line_is_the_validation_majority(tmp_path):
    # The test set's majority (summary chance_accuracy) is 50%; the validation set's is 62.5%.
    runs = write_summaries(tmp_path / "runs", {
        "cpu/pathfinder/softmax/seed0": summary(task="pathfinder", seq_len=1024, chance_accuracy=0.5),
        "cpu/listops/softmax/seed0": summary(chance_accuracy=0.17),
    })
    log_validation(runs / "cpu/pathfinder/softmax/seed0", [(99, 0.55)], chance=0.625)
    log_validation(runs / "cpu/listops/softmax/seed0", [(99, 0.2)])  # a log from before it was logged
    figures, _ = curve_figures(load_runs(runs), runs, "cpu")
    pathfinder, listops = figures["curves_pathfinder.png"], figures["curves_listops.png"]
    assert legend_of(pathfinder)[-1] == "chance 62.5% (validation majority)"
    assert pathfinder.axes[0].get_lines()[-1].get_ydata()[0] == 62.5
    assert legend_of(listops)[-1] == "chance 17.0% (test set's majority)"
