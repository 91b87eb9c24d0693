"""A run's output, held back until the run owns its folder, then `<run dir>/reproduce.log`.

Two drivers may start the same run at the same instant; the one that loses the lock must
write nothing into the winner's folder, not even a line of log. So the run writes to an
unlinked temporary file (nothing is left behind, whatever kills the driver), and the
driver copies what it wrote into the run's log once the run holds the lock, then at
every poll (a second or so behind). Without a temporary file (a full TMPDIR) the run
writes to its log directly.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from macformer.lifecycle.run_folder import open_append


class SpooledLog:
    def __init__(self, log_path: Path, header: str):
        self.log_path, self.header = log_path, header
        self.copied, self.owned, self.warned = 0, False, False
        try:
            self.file = tempfile.TemporaryFile(prefix="macformer-run-", suffix=".log")
            self.spooling = True
        except OSError:
            self.spooling = False
            self.own()
            try:
                self.file = open_append(log_path)
            except OSError:  # nowhere to write: the run's output is lost, its summary is not
                self.file = open(os.devnull, "ab")
        self.fileno = self.file.fileno()  # the run's stdout and stderr

    def own(self) -> None:
        """The run holds its folder: from now on its output lands in its log."""
        if not self.owned:
            self.owned = True
            self._append(self.header.encode())

    def copy(self) -> None:
        """Append to the log what the run wrote since the last copy (once owned)."""
        if not (self.owned and self.spooling and self.file):
            return
        data = b""
        while True:  # pread: the run's own offset in the shared file stays where it is
            chunk = os.pread(self.fileno, 1 << 20, self.copied + len(data))
            if not chunk:
                break
            data += chunk
        if data and self._append(data):
            self.copied += len(data)

    def tail(self, lines: int = 15) -> str:
        """The last lines the run wrote, owned or not (for a failed run's record)."""
        if self.file is None:
            return "(no log)"
        size = os.fstat(self.fileno).st_size
        text = os.pread(self.fileno, 1 << 16, max(0, size - (1 << 16))).decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def close(self) -> None:
        self.copy()
        if self.file:
            self.file.close()
            self.file = None

    def _append(self, data: bytes) -> bool:
        try:
            with open_append(self.log_path) as log:
                log.write(data)
            return True
        except OSError as error:  # a full disk or a read-only folder: said once
            if not self.warned:
                self.warned = True
                print(f"reproduce: could not write {self.log_path}: {error.strerror or error}",
                      file=sys.stderr, flush=True)
            return False
