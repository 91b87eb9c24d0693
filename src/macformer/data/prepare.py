"""`make data`: prepare every LRA task that can be prepared here, then print a table.

Generates ListOps and Pathfinder-32 (unless a release, or a set generated with this
seed at these sizes or larger, is there: macformer.data.generate decides), fetches IMDb and CIFAR-10 from the hub when online, downloads and unpacks
the LRA release for Retrieval and Path-X when it is not under the data folder, and
builds the processed caches of every ready task.

Exits non-zero when a task asked for with --only is still missing, when a source is
malformed or when the archive is refused; without --only, missing tasks are listed
and the exit status is 0 (an offline machine still gets what it can).

    python -m macformer.data.prepare --data-dir data [--only listops pathfinder] [--offline]

Flags: cli.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import parse
from .download import ArchiveError, DownloadError, download, safe_extract
from .generate import generate, why_generate
from .release import LRA_ARCHIVE_URL
from .status import data_status, format_status
from .tasks import SPLITS, TASKS, DataError
from .variants import LRA, VARIANTS, variant_folder


def _ready(data_dir) -> dict[str, tuple[bool, str]]:
    return {task: (ready, detail) for task, ready, detail in data_status(data_dir)}


def _sizes(task: str, args) -> dict:
    if task == "listops":
        return {"n_train": args.listops_train, "n_val": args.listops_val, "n_test": args.listops_test}
    return {"count": args.pathfinder_count}


def _generate(d: Path, task: str, dataset: str, args) -> None:
    """Generate a set when generate.why_generate says so (or --force); one line says why."""
    sizes = _sizes(task, args)
    reason = why_generate(task, d, sizes, dataset, seed=args.seed)
    if reason or args.force:
        print(f"[{dataset if dataset != LRA else task}] {reason or '--force'}: generating {sizes}")
        generate(task, d, sizes, args.seed, dataset, workers=args.workers)


def _prepare_variant(d: Path, variant, args, errors: list[str]) -> None:
    """Generate a reduced set when missing or stale, then build its caches."""
    _generate(d, variant.task, variant.name, args)
    if not args.no_process:
        from .build import build_dataset

        try:
            for split in SPLITS:
                build_dataset(variant.task, split, d, download=False, num_proc=args.workers, dataset=variant.name)
        except DataError as error:
            errors.append(f"error: [{variant.name}] {error}")
    print(f"[{variant.name}] ready: {variant_folder(d, variant.name)} ({variant.description}; not LRA data)")


def prepare(args) -> int:
    d = Path(args.data_dir)
    wanted = set(args.only or TASKS)
    errors = []  # one line each, printed after the table
    status = _ready(d)
    release = d / "lra_release"  # where the LRA archive unpacks

    # Reduced sets (--datasets) replace the LRA-format generation of their task.
    variants = [VARIANTS[name] for name in args.datasets or ()]
    reduced = {v.task for v in variants}
    for variant in variants:
        if variant.task in wanted:
            _prepare_variant(d, variant, args, errors)
    wanted -= reduced

    for task in ("listops", "pathfinder"):  # Path-X is generated only on request (16k tokens)
        if task in wanted:
            _generate(d, task, LRA, args)

    if not args.offline:
        from .readers import hub

        for task, name in (("text", "imdb"), ("image", "cifar10")):
            if task in wanted and not status[task][0]:
                try:
                    hub.fetch_hub_dataset(d, name)
                except DataError as error:
                    print(f"[{task}] {error}", file=sys.stderr)
        if not args.no_lra_download and wanted & {"retrieval", "pathx"} and not all(status[t][0] for t in wanted & {"retrieval", "pathx"}):
            archive = d / "lra_release.gz"
            try:
                download(LRA_ARCHIVE_URL, archive)
                safe_extract(archive, release)
                archive.unlink()  # 7.7 GB; the unpacked folders are what the readers use
            except (DownloadError, OSError) as error:
                print(f"[retrieval/pathx] {error}", file=sys.stderr)
            except ArchiveError as error:
                errors.append(f"error: {error}")

    status = _ready(d)
    if not args.no_process:
        from .build import build_dataset

        for task in TASKS:
            if task in wanted and status[task][0]:
                try:
                    for split in SPLITS:
                        build_dataset(task, split, d, download=False, num_proc=args.workers)
                except DataError as error:
                    errors.append(f"error: [{task}] {error}")
    rows = data_status(d)
    print(format_status(rows))
    missing = [task for task, ready, _ in rows if task in wanted and not ready]
    if missing and args.only:
        errors.append(f"error: not ready: {', '.join(missing)} (asked for with --only; the table says how to get each)")
    elif missing:
        # Missing tasks are reported, not fatal: offline machines still get the rest.
        print(f"missing: {', '.join(missing)} (the table says how to get each)")
    for line in errors:
        print(line, file=sys.stderr)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    try:
        code = prepare(args)
    except OSError as error:  # a data folder that cannot be written (a file, read-only, full)
        where = error.filename or args.data_dir
        print(f"macformer-data: error: cannot write {where}: {error.strerror or error}; --data-dir "
              f"{args.data_dir} must be a writable folder with room for the data", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
