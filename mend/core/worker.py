"""The job worker: `mend worker` runs it as a process; embedded mode runs it as a thread of `mend serve`."""

import threading

from django_tasks_db.management.commands.db_worker import Worker

from mend.core import registry


class EmbeddedWorker:
    def __init__(self, interval: float = 1.0):
        self.worker = Worker(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"embedded-{threading.get_native_id()}",
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self.worker.run, name="mend-worker", daemon=True)

    def stop(self):
        self.worker.running = False


def schedule_periodic_jobs() -> None:
    """The jobs that book their own next run (checkpoints, retention, progress updates and reminders) are
    booked again whenever a worker starts, so a crash mid-run never stops them for good; each adds a run
    only if none is waiting. The apps register them in their AppConfig.ready() (mend.core.registry)."""
    for schedule in registry.job_schedules():
        schedule()


def start_embedded_worker() -> EmbeddedWorker:
    schedule_periodic_jobs()
    embedded = EmbeddedWorker()
    embedded.thread.start()
    return embedded
