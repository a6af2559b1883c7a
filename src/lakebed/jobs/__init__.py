"""Ingestion jobs: a load described in a YAML (or JSON) file, run once or on a schedule.

```python
from lakebed.jobs import Scheduler, load_job, run_job

job = load_job("jobs/orders.yaml")        # checked now: a typo fails here, naming file and key
result = run_job(lake, job)               # lake.ingest, then the job's `after` steps
Scheduler(lake, [job]).run()              # cron times and new-file triggers, until SIGTERM
```
"""

from lakebed.jobs.cron import CronExpr
from lakebed.jobs.loader import load_job, parse_job
from lakebed.jobs.model import Job, Trigger, hide_password, parse_duration
from lakebed.jobs.runner import JobResult, StepResult, run_job
from lakebed.jobs.scheduler import Clock, JobEvent, Scheduler, SystemClock
from lakebed.jobs.triggers import NewFileWatcher

__all__ = [
    "Clock",
    "CronExpr",
    "Job",
    "JobEvent",
    "JobResult",
    "NewFileWatcher",
    "Scheduler",
    "StepResult",
    "SystemClock",
    "Trigger",
    "hide_password",
    "load_job",
    "parse_duration",
    "parse_job",
    "run_job",
]
