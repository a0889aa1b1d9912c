"""`mend serve`: HTTP and websockets in one process (uvicorn), with the job worker in a thread."""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mend.core.worker import start_embedded_worker


class Command(BaseCommand):
    help = "Serve Mend over HTTP and websockets, with the job worker inside unless told otherwise."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Leave jobs to separate `mend worker`s.")

    def handle(self, *args, host, port, no_worker, **options):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        worker = None
        if settings.MEND_EMBEDDED_WORKER and not no_worker:
            worker = start_embedded_worker()
        self.stdout.write(f"Mend is at http://{host}:{port}/ (Ctrl+C stops it)")
        try:
            uvicorn.run(
                "mend.asgi:application",
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ws_max_size=16 * 1024 * 1024,
                # The connecting address stays as it is: Mend reads X-Forwarded-For itself, and only from
                # MEND_TRUSTED_PROXIES (mend.core.throttle.client_address); uvicorn would believe any
                # loopback client's.
                proxy_headers=False,
            )
        finally:
            if worker is not None:
                worker.stop()
