"""A throw-away PostgreSQL server for the gradebook tests, started from Debian's binaries.

``throwaway_postgres()`` runs ``initdb`` and ``pg_ctl`` from the newest
``/usr/lib/postgresql/<version>/bin`` in a new folder under /tmp. The server listens only on a
unix socket in that folder (no TCP), trusts every local connection, and is stopped
(``pg_ctl stop -m immediate``) and removed on exit, whether the test passed or not. PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` system user that the Debian
package creates. When something is missing the calling test skips, saying what and how to
install it.
"""

import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

__all__ = ["throwaway_postgres", "create_database", "POSTGRES_LIB", "START_TIMEOUT_S"]

POSTGRES_LIB = Path("/usr/lib/postgresql")
START_TIMEOUT_S = 20
INSTALL = "apt-get install postgresql"
SERVER_USER = "postgres"


@contextmanager
def throwaway_postgres(database="gradebook"):
    """Start a server, create ``database``, yield its URL; stop the server and delete it after.

    The URL reaches the server through its socket folder, e.g.
    ``postgresql+psycopg2://postgres@/gradebook?host=/tmp/backprop-kit-pg-1a2b3c``.
    """
    pytest.importorskip(
        "psycopg2",
        reason="the PostgreSQL driver psycopg2 is not installed "
        "(pip install 'backprop-kit[postgres]')",
    )
    bindir = newest_bindir()
    as_server_user = server_user_prefix()
    folder = _socket_folder(as_server_user)
    try:
        _init(bindir, as_server_user, folder)
        _start(bindir, as_server_user, folder)
        server = f"postgresql+psycopg2://{SERVER_USER}@/postgres?host={folder}"
        yield create_database(server, database)
    finally:
        _stop(bindir, as_server_user, folder)
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url, name):
    """Create the database ``name`` on the server that ``url`` reaches; the new database's URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"database name {name!r}: expected lower-case letters, digits and _")
    server = make_url(url)
    engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def newest_bindir():
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``pg_ctl``; or skip."""
    found = [
        d
        for d in POSTGRES_LIB.glob("*/bin")
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file()
    ]
    if not found:
        pytest.skip(
            f"no PostgreSQL server binaries (initdb, pg_ctl) in {POSTGRES_LIB}/*/bin; "
            f"install them with: {INSTALL}"
        )
    return max(found, key=lambda d: tuple(int(n) for n in re.findall(r"\d+", d.parent.name)))


def server_user_prefix():
    """The command prefix that runs the server's tools as ``postgres`` when root; else ``[]``."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(
            f"PostgreSQL refuses to run as root and there is no {SERVER_USER!r} system user "
            f"to run it as; the Debian package creates it: {INSTALL}"
        )
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_USER, "--"]
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    pytest.skip(
        f"running as root, and neither runuser nor setpriv is there to run PostgreSQL as "
        f"{SERVER_USER!r}; install them with: apt-get install util-linux"
    )


def _socket_folder(as_server_user):
    """A new folder under /tmp (a socket path must stay under 108 bytes), the server's own."""
    folder = Path(tempfile.mkdtemp(prefix="backprop-kit-pg-", dir="/tmp"))
    if as_server_user:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def _init(bindir, as_server_user, folder):
    """``initdb``: a cluster in ``folder/data`` whose superuser is ``postgres``, trusting all."""
    command = [str(bindir / "initdb"), "-D", str(folder / "data"), "-U", SERVER_USER]
    command += ["--auth=trust", "--no-sync", "--no-locale", "--encoding=UTF8"]
    result = _run(as_server_user + command, folder, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"initdb failed ({' '.join(command)}):\n{result.stdout}")


def _start(bindir, as_server_user, folder):
    """``pg_ctl start``: listen on ``folder``'s unix socket only; skip if not up in time."""
    options = ["-c", "listen_addresses=", "-k", str(folder), "-c", "fsync=off"]
    command = [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log")]
    command += ["-w", "-t", str(START_TIMEOUT_S), "-o", shlex.join(options), "start"]
    try:
        result = _run(as_server_user + command, folder, timeout=START_TIMEOUT_S + 10)
        failed = result.returncode != 0
    except subprocess.TimeoutExpired:
        failed = True
    if failed:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        pytest.skip(
            f"the PostgreSQL server from {bindir} did not start within {START_TIMEOUT_S} s; "
            f"its log ends:\n{log[-2000:]}"
        )


def _stop(bindir, as_server_user, folder):
    """``pg_ctl stop -m immediate``, when a server was started in ``folder``."""
    if not (folder / "data" / "postmaster.pid").exists():
        return
    command = [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "stop", "-m", "immediate"]
    _run(as_server_user + command, folder, timeout=30)


def _run(command, folder, timeout):
    """Run a server tool in ``folder`` (readable by the server user), output kept as text."""
    return subprocess.run(
        command,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=timeout,
    )
