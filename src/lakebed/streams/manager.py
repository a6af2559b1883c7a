"""``lake.streams``: create, run, start, stop and watch delivery streams.

A stream's configuration lives in the catalog database (table ``lakebed_streams``), so every
process that opens the lake sees the same streams. Its local state (the HTTP source's
write-ahead log, the lock and pid of the process running it, its ``status.json``) lives in a
folder of its own, :meth:`Streams.state_dir`:

- a local lake: ``<root>/.lakebed-state/streams/<name>`` (the object store hides names starting
  with ``.lakebed-``, so it never shows in ``lakebed ls``);
- a lake on object storage: ``~/.lakebed/state/<hash of the root>/streams/<name>`` on the
  machine running the stream (the same place the default catalog of such a lake goes).

``run`` delivers in this process until stopped; ``start`` runs it in a detached background
process (``stop`` sends that process SIGTERM: it delivers what it buffered, then exits).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lakebed.catalog.naming import did_you_mean
from lakebed.errors import AlreadyExistsError, ConfigError, LakebedError, NotFoundError
from lakebed.streams.config import StreamConfig, stream_config
from lakebed.streams.metrics import StreamStatus, read_status
from lakebed.streams.process import lock_holder, stream_lock

if TYPE_CHECKING:
    from lakebed.lake import Lake
    from lakebed.streams.producer import Producer

_metadata = sa.MetaData()
_streams = sa.Table(
    "lakebed_streams",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

STATE_FOLDER = ".lakebed-state"
LOG_FILE = "stream.log"
#: Environment variable handing a started stream process the lake's configuration (JSON).
LAKE_ENV = "LAKEBED_STREAM_LAKE"


class Streams:
    """The delivery streams of one lake (``lake.streams``)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._engine: sa.Engine | None = None

    def __repr__(self) -> str:
        return f"Streams({self.lake.config.root!r})"

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            engine = self.lake.catalog.engine
            _metadata.create_all(engine, checkfirst=True)
            self._engine = engine
        return self._engine

    # -- configuration ----------------------------------------------------------------------

    def create(self, name: str, *, source: Any, into: str, **options: Any) -> StreamConfig:
        """Define stream ``name`` reading ``source`` (a source config or a dict with ``type``)
        into table ``into``; options as in :class:`StreamConfig`. Nothing runs yet."""
        config = stream_config(name, source=source, into=into, **options)
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    _streams.insert().values(
                        name=name,
                        config=json.dumps(config.to_dict()),
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise AlreadyExistsError(
                f"stream {name!r} already exists",
                fix=f"pick another name, or drop it first (lakebed stream drop {name})",
            ) from None
        return config

    def get(self, name: str) -> StreamConfig:
        """A stream's configuration; NotFoundError suggests close names."""
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(_streams.c.config).where(_streams.c.name == name)
            ).scalar_one_or_none()
        if text is None:
            names = self.names()
            raise NotFoundError(
                f"stream {name!r} does not exist{did_you_mean(name, names)}",
                fix="create it with lakebed stream create; `lakebed stream list` shows them",
            )
        return StreamConfig.model_validate(json.loads(text))

    def names(self) -> builtins.list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(sa.select(_streams.c.name).order_by(_streams.c.name)).scalars()
            )

    def list(self) -> builtins.list[StreamConfig]:
        """Every stream, by name."""
        with self.engine.connect() as conn:
            texts = conn.execute(sa.select(_streams.c.config).order_by(_streams.c.name)).scalars()
            return [StreamConfig.model_validate(json.loads(t)) for t in texts]

    def update(self, name: str, **options: Any) -> StreamConfig:
        """Change some of a stream's options (validated as a whole); a running stream picks
        them up when restarted."""
        current = self.get(name).to_dict()
        if "name" in options:
            raise ConfigError("a stream cannot be renamed", fix="create a new stream instead")
        merged = {**current, **options}
        config = stream_config(name, **{k: v for k, v in merged.items() if k != "name"})
        with self.engine.begin() as conn:
            conn.execute(
                _streams.update()
                .where(_streams.c.name == name)
                .values(config=json.dumps(config.to_dict()), updated_at=datetime.now(UTC))
            )
        return config

    def drop(self, name: str) -> None:
        """Forget stream ``name`` and its local state (its write-ahead log too); the table it
        delivered into and the error output are kept."""
        self.get(name)
        if lock_holder(self.state_dir(name)) is not None:
            raise ConfigError(
                f"stream {name!r} is running", fix=f"stop it first: lakebed stream stop {name}"
            )
        with self.engine.begin() as conn:
            conn.execute(_streams.delete().where(_streams.c.name == name))
        shutil.rmtree(self.state_dir(name), ignore_errors=True)

    def state_dir(self, name: str) -> Path:
        """The folder of the stream's local state (see the module docstring)."""
        config = self.lake.config
        configured = getattr(config, "state_dir", None)
        if configured:
            base = Path(configured).expanduser()
        elif config.is_local:
            base = config.local_root / STATE_FOLDER
        else:
            digest = hashlib.sha256(config.root.encode()).hexdigest()[:12]
            base = Path.home() / ".lakebed" / "state" / digest
        return base / "streams" / name

    # -- running ----------------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        stop: threading.Event | None = None,
        until: Callable[[StreamStatus], bool] | None = None,
    ) -> StreamStatus:
        """Deliver stream ``name`` in this process until ``stop`` is set or ``until(status)``
        holds; returns the final status. ConfigError if it already runs elsewhere."""
        from lakebed.streams.delivery import DeliveryStream

        config = self.get(name)
        folder = self.state_dir(name)
        with stream_lock(folder, name):
            return DeliveryStream(self.lake, config, folder).run(stop, until)

    def start(self, name: str, *, wait_s: float = 30.0) -> StreamStatus:
        """Run stream ``name`` in a background process (its output in ``stream.log`` in the
        state folder); returns once that process runs the stream."""
        self.get(name)
        folder = self.state_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        running = lock_holder(folder)
        if running is not None:
            raise ConfigError(
                f"stream {name!r} is already running (pid {running})",
                fix=f"lakebed stream status {name}; lakebed stream stop {name}",
            )
        env = {
            **os.environ,
            LAKE_ENV: self.lake.config.model_dump_json(),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")) if p
            ),
        }
        log = folder / LOG_FILE
        launcher = subprocess.run(
            [sys.executable, "-m", "lakebed.streams.daemon", "--detach", name, str(log)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if launcher.returncode != 0:
            raise LakebedError(
                f"stream {name!r} could not be started: {launcher.stderr.strip()}",
                fix="check the Python environment lakebed runs in",
            )
        pid = int(launcher.stdout.strip())
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if lock_holder(folder) == pid:
                return self.status(name)
            if not _alive(pid):
                break
            time.sleep(0.05)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise LakebedError(
            f"stream {name!r} did not start: {tail.strip() or 'no output'}",
            fix=f"see {log}; or run it in the foreground: lakebed stream start {name} --foreground",
        )

    def stop(self, name: str, *, timeout_s: float = 60.0) -> StreamStatus:
        """Stop the process running stream ``name`` (SIGTERM: it delivers what it buffered
        first); after ``timeout_s`` it is killed, which loses nothing (the next run resumes
        from the last commit). A stream not running is left as it is."""
        self.get(name)
        folder = self.state_dir(name)
        pid = lock_holder(folder)
        if pid:
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while lock_holder(folder) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            if lock_holder(folder) is not None:
                _signal(pid, signal.SIGKILL)
                while lock_holder(folder) is not None:
                    time.sleep(0.05)
        return self.status(name)

    def status(self, name: str) -> StreamStatus:
        """Whether the stream runs, and its numbers as it last wrote them."""
        self.get(name)
        folder = self.state_dir(name)
        status = read_status(folder, name)
        pid = lock_holder(folder)
        status.running = pid is not None
        if status.running:
            if status.pid != pid:  # the file is from an earlier run
                status.state = "starting"
            status.pid = pid or None
            return status
        status.pid = None
        if status.state.startswith(("running", "source unreachable", "commit failing")):
            status.state = f"not running (it died while {status.state})"
        return status

    def producer(self, name: str) -> Producer:
        """A Python producer putting records into stream ``name`` (HTTP source: straight into
        its write-ahead log, durable on return; Kafka source: into its first topic)."""
        from lakebed.streams.producer import Producer

        config = self.get(name)
        return Producer(config, self.state_dir(name) / "wal")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
