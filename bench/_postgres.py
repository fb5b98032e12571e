"""PostgreSQL for the benchmarks: a fresh database on the loopback server for one run, dropped
afterwards, and the bare page's rows in it.

The server is the one the tests use (127.0.0.1:5432, trust auth); `EXCHANGE_BENCH_PG` names
another loopback server. Nothing but 127.0.0.1 is ever named.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SERVER = os.environ.get("EXCHANGE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def available() -> bool:
    """Whether the loopback PostgreSQL answers."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _with_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@contextmanager
def fresh_database(prefix: str = "bench") -> Iterator[str]:
    """A new, empty database for the with-block (its SQLAlchemy URL); dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(SERVER, name).replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def plain_url(sqlalchemy_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (for psycopg.connect)."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def make_bare_table(url: str, key: bytes, bodies: list[str]) -> None:
    """The rows the bare PostgreSQL page reads: sealed with AES-GCM and a row context."""
    cipher = AESGCM(key)
    with psycopg.connect(plain_url(url), autocommit=True) as connection:
        connection.execute("CREATE TABLE bare_posts (id INTEGER PRIMARY KEY, body BYTEA)")
        for n, body in enumerate(bodies, start=1):
            nonce = os.urandom(12)
            sealed = nonce + cipher.encrypt(nonce, body.encode(), f"post:{n}:body".encode())
            connection.execute("INSERT INTO bare_posts (id, body) VALUES (%s, %s)", (n, sealed))
