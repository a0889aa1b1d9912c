"""Exits 0 when the PostgreSQL or Redis server named by a URL answers, 1 otherwise."""

import sys


def main(kind: str, url: str) -> int:
    try:
        if kind == "database":
            import psycopg

            psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
        else:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        print(f"{kind} not reachable: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
