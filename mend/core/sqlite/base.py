"""Django's SQLite backend, with its connections kept open for the next request instead of closed.

Under ASGI Django closes the database connection after every request and every `database_sync_to_async`
call (persistent connections cannot be used there), and a new SQLite connection costs about 5 ms: SQLite
parses the whole schema again and Django registers its functions and runs the PRAGMAs. PostgreSQL has
Django's own pool for this (settings.py); this is the same idea for the embedded database. A connection
goes back to the pool only when it is clean: no transaction open, no error since its last commit.
"""

import queue
import threading

from django.db.backends.sqlite3 import base

IDLE_MOST = 16  # connections kept per database file: more than the server's threads ever use at once


class _Pools:
    """The idle connections of each database file of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_file: dict[str, queue.LifoQueue] = {}

    def of(self, name: str) -> queue.LifoQueue:
        with self._lock:
            return self._by_file.setdefault(name, queue.LifoQueue(maxsize=IDLE_MOST))

    def clear(self) -> None:
        with self._lock:
            pools, self._by_file = list(self._by_file.values()), {}
        for pool in pools:
            while True:
                try:
                    pool.get_nowait().close()
                except queue.Empty:
                    break


POOLS = _Pools()


class DatabaseWrapper(base.DatabaseWrapper):
    def _pooled(self) -> bool:
        return not self.is_in_memory_db()

    def get_new_connection(self, conn_params):
        if self._pooled():
            try:
                return POOLS.of(conn_params["database"]).get_nowait()
            except queue.Empty:
                pass
        return super().get_new_connection(conn_params)

    def _close(self):
        connection = self.connection
        if connection is None:
            return None
        clean = not (connection.in_transaction or self.errors_occurred or self.in_atomic_block)
        if clean and self._pooled():
            try:
                POOLS.of(self.settings_dict["NAME"]).put_nowait(connection)
                return None
            except queue.Full:
                pass
        return super()._close()
