"""Write metrics for node_exporter's textfile collector (``btcbot once`` under cron).

A cron run exits after one cycle, so nothing could scrape it; instead it leaves its metrics in a
``*.prom`` file that node_exporter (``--collector.textfile.directory``) exposes. The write is atomic:
a temporary file in the same directory (node_exporter ignores names not ending in ``.prom``), fsync,
``os.replace``, then fsync of the directory, so a scrape never sees a half-written file and a crash
never leaves one behind under the real name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from btcbot.observability.metrics import Metrics

#: node_exporter runs as its own user and must be able to read the file; metrics hold no secrets.
TEXTFILE_MODE = 0o644


def write_textfile(metrics: Metrics, path: Path | str) -> None:
    """Atomically replace ``path`` with ``metrics.render()``. The directory must exist."""
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(metrics.render())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, TEXTFILE_MODE)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not supported on every platform/filesystem.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
