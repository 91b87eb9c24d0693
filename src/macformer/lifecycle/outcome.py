"""How a run ended: its status, stop reason and message in summary.json, and the exit code.
This is the one place that decides it: `describe_end` for a fit that returned,
`describe_failure` for one that raised (training/stop_reason.py only reads why Lightning's
fit returned).

- completed: max_steps reached (or a protocol's own early stopping, stop_reason says which);
- stopped: training ended early but cleanly (trainer.max_time): re-running continues it;
- interrupted: Ctrl-C (exit 130) or SIGTERM, which SLURM sends before killing a job (exit 143);
- failed: an exception, e.g. a diverged loss (TrainingDiverged) or missing data.

Lightning turns Ctrl-C into `SystemExit(1)` and SIGTERM into a bare `SIGTERMException`, so
the signal itself is noted here (SignalRecorder) to say what happened and exit with the
conventional 128 + signal number.
"""

from __future__ import annotations

import signal
import threading

from .os_error import describe_os_error
from .record import COMPLETED, FAILED, INTERRUPTED, STOPPED

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
# Why a fit returned without an error (read from the trainer by training/stop_reason.py).
MAX_STEPS, MAX_TIME, EARLY_STOPPING, SHOULD_STOP = "max_steps", "max_time", "early_stopping", "should_stop"


class RunError(RuntimeError):
    """A problem the user can fix; the message names the file or setting and what to do.
    The command line prints it as one line, without a traceback."""


class TrainingDiverged(RunError):
    """Non-finite loss or weights, or a GradScaler that skips step after step."""

    def __init__(self, message: str, step: int, reason: str):
        super().__init__(message)
        self.step, self.reason = step, reason


class RunInterrupted(SystemExit):
    """Raised by train() once an interrupted run is recorded; exits 130 or 143."""

    def __init__(self, message: str, signal_name: str):
        super().__init__(EXIT_CODES[signal_name])
        self.message, self.signal_name = message, signal_name

    def __str__(self) -> str:
        return self.message


class SignalRecorder:
    """While active, note whether SIGINT or SIGTERM arrived.

    SIGINT raises KeyboardInterrupt as Python's default does. SIGTERM inside `trainer.fit`
    is left to Lightning, which chains this handler and stops at the next batch boundary
    (never in the middle of writing a checkpoint); elsewhere it raises SystemExit at once.
    """

    def __init__(self):
        self.received: str | None = None
        self._saved: dict = {}
        self._active = threading.current_thread() is threading.main_thread()

    def _on_sigint(self, signum, frame):
        self.received = "SIGINT"
        raise KeyboardInterrupt

    def _on_sigterm(self, signum, frame):
        self.received = self.received or "SIGTERM"
        if signal.getsignal(signal.SIGTERM) == self._on_sigterm:  # Lightning's handler is not on
            raise SystemExit(EXIT_CODES["SIGTERM"])

    def __enter__(self) -> SignalRecorder:
        if self._active:
            for signum, handler in ((signal.SIGINT, self._on_sigint), (signal.SIGTERM, self._on_sigterm)):
                self._saved[signum] = signal.getsignal(signum)
                signal.signal(signum, handler)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._saved.items():  # also undoes Lightning's SIG_IGN after Ctrl-C
            signal.signal(signum, handler)
        self._saved = {}


def describe_end(reason: str, steps: int, max_steps: int, max_time=None) -> dict:
    """Summary fields (status, stop_reason, and error when stopped) for a fit that returned
    for `reason` after `steps` of `max_steps` (`max_time`: trainer.max_time, if set).
    A stopped run is not done: it is not tested, and a re-run continues from last.ckpt."""
    if reason not in (MAX_TIME, SHOULD_STOP):
        return {"status": COMPLETED, "stop_reason": reason}
    cause = f"trainer.max_time={max_time}" if reason == MAX_TIME else "a callback"
    return {"status": STOPPED, "stop_reason": reason,
            "error": f"stopped by {cause} at step {steps} of {max_steps}; re-run the same command to continue"}


def describe_failure(error: BaseException, received: str | None, step: int, folder=None) -> dict:
    """Summary fields (status, stop_reason, error, failed_step) for a run that raised `error`
    (`folder`: the run folder, named when an OSError names no file)."""
    # Lightning answers a KeyboardInterrupt with sys.exit(1): the SystemExit's context tells.
    ctrl_c = isinstance(error, KeyboardInterrupt) or isinstance(error.__context__, KeyboardInterrupt)
    name = received or ("SIGINT" if ctrl_c else None)
    if name is None and type(error).__name__ == "SIGTERMException":
        name = "SIGTERM"
    if name == "SIGINT":
        return {"status": INTERRUPTED, "stop_reason": name, "failed_step": None,
                "error": f"interrupted by Ctrl-C (SIGINT) at step {step}; re-run the same command to resume"}
    if name == "SIGTERM":
        return {"status": INTERRUPTED, "stop_reason": name, "failed_step": None,
                "error": f"terminated by SIGTERM at step {step}; re-run the same command to resume"}
    if isinstance(error, TrainingDiverged):
        return {"status": FAILED, "stop_reason": error.reason, "failed_step": error.step,
                "error": f"{type(error).__name__}: {error}"}
    if isinstance(error, OSError):  # e.g. a full disk: which file, which filesystem, the room left
        return {"status": FAILED, "stop_reason": "error", "failed_step": step,
                "error": f"{type(error).__name__}: {describe_os_error(error, folder)}"}
    return {"status": FAILED, "stop_reason": "error", "failed_step": step,
            "error": f"{type(error).__name__}: {error}"}
