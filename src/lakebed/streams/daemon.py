"""The background process of a started stream (``Streams.start``).

``python -m lakebed.streams.daemon --detach NAME LOG`` launches ``python -m
lakebed.streams.daemon NAME`` in a session of its own with its output appended to ``LOG``,
prints its pid and returns at once, so the stream process is nobody's child and outlives the
command that started it. The stream process opens the lake from the configuration in
``LAKEBED_STREAM_LAKE`` (JSON, the exact configuration of the lake that started it) and runs
the stream until SIGTERM or SIGINT, which make it deliver what it buffered, then exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from types import FrameType


def _detach(name: str, log: str) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lakebed.streams.daemon", name],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(proc.pid, flush=True)
    proc.returncode = 0  # not ours to wait for: it lives on after this launcher exits
    return 0


def _serve(name: str) -> int:
    from lakebed.config import LakeConfig
    from lakebed.lake import Lake
    from lakebed.streams.manager import LAKE_ENV, Streams

    config = LakeConfig.model_validate_json(os.environ.pop(LAKE_ENV))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lake = Lake(config)
    status = Streams(lake).run(name, stop=stop)
    print(f"stream {name} {status.state}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--detach"] and len(argv) == 3:
        return _detach(argv[1], argv[2])
    if len(argv) == 1:
        return _serve(argv[0])
    print("usage: python -m lakebed.streams.daemon [--detach NAME LOG | NAME]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
