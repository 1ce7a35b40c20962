"""Set up one backprop-kit course on a JupyterHub machine; ``trial`` also starts the hub.

Run as root from a checkout of the kit::

    python3 deploy/jupyterhub/course_setup.py env          # the users' environment in /opt
    python3 deploy/jupyterhub/course_setup.py course INSTRUCTOR
    python3 deploy/jupyterhub/course_setup.py users --instructor NAME --student NAME ...
    python3 deploy/jupyterhub/course_setup.py trial        # all of it on 127.0.0.1 (make hub)

Each step is a function the hub tests call too:

- ``build_env``: a virtualenv at ``PREFIX`` (default ``/opt/backprop-kit-hub``) from a system
  Python every user can run, with the kit (a copy, not a link to the checkout) and JupyterHub,
  and the role configurations of ``deploy/jupyterhub/{student,instructor}`` in
  ``PREFIX/etc/backprop-kit``; skipped when its stamp matches the checkout.
- ``add_users``: Unix users in the groups ``backprop-students`` / ``backprop-instructors``, homes
  mode 0700 (nbgrader's cache in a student's home holds the secret that names their feedback).
- ``make_exchange``: the exchange root, mode 1777.
- ``make_course``: the course folder owned by the instructor, mode 0700 (solutions, gradebook,
  submissions and feedback stay out of students' reach), with ``solutions/`` and ``notebooks/``.
- ``release``: as the instructor, ``backprop-kit release`` (the gradebook) and nbgrader's
  ``release_assignment`` into the exchange; then the sticky bit on ``inbound/``.
- ``proxy``: ``configurable-http-proxy``, from PATH or ``npm install``\\ ed into a cache folder.
"""

import argparse
import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

__all__ = [
    "CHECKOUT",
    "PREFIX",
    "EXCHANGE",
    "COURSE",
    "STATE",
    "STUDENTS",
    "INSTRUCTORS",
    "build_env",
    "add_users",
    "remove_users",
    "make_exchange",
    "make_course",
    "release",
    "proxy",
    "run_as",
    "user_env",
]

CHECKOUT = Path(__file__).resolve().parents[2]
PREFIX = Path(os.environ.get("BACKPROP_KIT_HUB_PREFIX", "/opt/backprop-kit-hub"))
EXCHANGE = Path(os.environ.get("BACKPROP_KIT_EXCHANGE", "/srv/nbgrader/exchange"))
COURSE = Path(os.environ.get("BACKPROP_KIT_COURSE", "/srv/backprop-kit/course"))
STATE = Path(os.environ.get("BACKPROP_KIT_HUB_STATE", "/srv/jupyterhub"))
PROXY_CACHE = CHECKOUT / ".cache" / "configurable-http-proxy"
STUDENTS = os.environ.get("BACKPROP_KIT_HUB_STUDENTS_GROUP", "backprop-students")
INSTRUCTORS = os.environ.get("BACKPROP_KIT_HUB_INSTRUCTORS_GROUP", "backprop-instructors")
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
TRIAL_INSTRUCTOR = "bk-instructor"
TRIAL_STUDENTS = ("bk-student1", "bk-student2", "bk-student3")
_SOURCES = (
    "pyproject.toml",
    "lib",
    "autograder",
    "deploy/jupyterhub/student",
    "deploy/jupyterhub/instructor",
)


def _stamp(checkout, sources):
    """A hash of ``sources`` (paths in the checkout): what the environment is built from."""
    h = hashlib.sha256()
    for top in sources:
        base = checkout / top
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(checkout)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def system_python():
    """A Python 3.11+ outside /root that every user can run, or a RuntimeError naming what to do."""
    for path in SYSTEM_PYTHONS:
        if os.access(path, os.X_OK):
            ok = subprocess.run(
                [path, "-c", "import sys, venv, ensurepip; assert sys.version_info >= (3, 11)"],
                capture_output=True,
            )
            if ok.returncode == 0:
                return path
    raise RuntimeError(
        f"no Python 3.11+ with venv at {', '.join(SYSTEM_PYTHONS)}; expected one every user can "
        "run (apt-get install python3 python3-venv)"
    )


def build_env(prefix=PREFIX, checkout=CHECKOUT, log=print):
    """The users' environment at ``prefix`` (see the module docstring); returns ``prefix``."""
    prefix, checkout = Path(prefix), Path(checkout)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f".{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time (parallel test workers)
        return _build_env(prefix, checkout, log)


def _build_env(prefix, checkout, log):
    deps, code = _stamp(checkout, ("pyproject.toml",)), _stamp(checkout, _SOURCES)
    deps_file, code_file = prefix / ".backprop-kit-deps", prefix / ".backprop-kit-stamp"
    if _read(code_file) == code:
        log(f"users' environment {prefix} is up to date")
        return prefix
    fresh = _read(deps_file) != deps  # new dependencies: a new environment; else the kit only
    if fresh:
        shutil.rmtree(prefix, ignore_errors=True)
        log(f"building the users' environment in {prefix} (about 40 s with a warm pip cache)")
        subprocess.run([system_python(), "-m", "venv", str(prefix)], check=True)
    else:
        log(f"updating the kit in the users' environment {prefix}")
    # A copy of the checkout, so nothing the users run lives in a folder they cannot read; the
    # build happens in a temporary copy so the checkout gets no build/ folder.
    build = prefix / "src"
    shutil.rmtree(build, ignore_errors=True)
    shutil.copytree(
        checkout,
        build,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", ".cache", "submitted", "autograded", "feedback", "reports",
            ".nbgrader", "*.egg-info", "build", "__pycache__", "notebooks", "solutions",
            "tests", "bench", "docs",
        ),
    )  # fmt: skip
    pip = [str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    what = [str(build), "jupyterhub>=5"]
    if not fresh:
        what = ["--no-deps", "--force-reinstall", str(build)]
    done = subprocess.run([*pip, *what], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install into {prefix} failed:\n{done.stdout}\n{done.stderr}")
    shutil.rmtree(build)
    conf = prefix / "etc" / "backprop-kit"
    shutil.rmtree(conf, ignore_errors=True)
    for role in ("student", "instructor"):
        shutil.copytree(checkout / "deploy" / "jupyterhub" / role, conf / role)
    subprocess.run(["chmod", "-R", "a+rX,go-w", str(prefix)], check=True)
    deps_file.write_text(deps)
    code_file.write_text(code)
    return prefix


def _read(path):
    try:
        return path.read_text()
    except OSError:
        return None


def _group(name):
    if subprocess.run(["getent", "group", name], capture_output=True).returncode != 0:
        done = subprocess.run(["groupadd", name], capture_output=True, text=True)
        if done.returncode not in (0, 9):  # 9: made meanwhile by someone else
            raise RuntimeError(f"groupadd {name}: {done.stderr.strip()}")


def add_users(instructors=(), students=(), groups=(INSTRUCTORS, STUDENTS)):
    """Create each user (when missing) in their group (``groups``: the instructors' and the
    students'), with a home only they can read."""
    for group in groups:
        _group(group)
    for names, group in zip((instructors, students), groups):
        for name in names:
            if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
                subprocess.run(
                    ["useradd", "--create-home", "--shell", "/bin/bash", "-K", "HOME_MODE=0700",
                     "--groups", group, name],
                    check=True,
                )  # fmt: skip
            else:
                subprocess.run(["usermod", "--append", "--groups", group, name], check=True)
            home = Path(os.path.expanduser(f"~{name}"))
            os.chmod(home, 0o700)


def remove_users(names):
    """Delete the users and their homes (the tests' own users only)."""
    for name in names:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "--remove", name], capture_output=True)


def make_exchange(exchange=EXCHANGE):
    """The exchange root: anyone may write (nbgrader's 0777), no one removes another's (+t)."""
    exchange = Path(exchange)
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    for parent in exchange.parents:
        if parent == Path("/"):
            break
        os.chmod(parent, stat.S_IMODE(os.stat(parent).st_mode) | 0o011)  # others may pass through
    return exchange


def make_course(instructor, course=COURSE, checkout=CHECKOUT, assignments=None):
    """The course folder, the instructor's alone: ``solutions/`` and ``notebooks/`` copied in."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    for top in ("solutions", "notebooks"):
        for a in assignments or sorted(p.name for p in (checkout / top).iterdir() if p.is_dir()):
            if (checkout / top / a).is_dir() and not (course / top / a).exists():
                shutil.copytree(checkout / top / a, course / top / a)
    (course / ".nbgrader" / "tmp").mkdir(parents=True, exist_ok=True)  # the grader's TMPDIR
    subprocess.run(["chown", "-R", f"{instructor}:", str(course)], check=True)
    os.chmod(course, 0o700)
    return course


def user_env(prefix=PREFIX, course=COURSE, exchange=EXCHANGE, instructor=True):
    """The variables the hub gives a user's server (see jupyterhub_config.per_role)."""
    role = "instructor" if instructor else "student"
    env = {
        "PATH": f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": str(Path(prefix) / "etc" / "backprop-kit" / role),
        "BACKPROP_KIT_EXCHANGE": str(exchange),
    }
    if instructor:
        env["BACKPROP_KIT_COURSE"] = str(course)
        env["TMPDIR"] = str(Path(course) / ".nbgrader" / "tmp")
    return env


def run_as(user, argv, env, cwd=None, check=True, timeout=300):
    """Run ``argv`` as ``user`` with a login-free, clean environment plus ``env``."""
    home = os.path.expanduser(f"~{user}")
    full = {"HOME": home, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8", **env}
    cmd = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in full.items()), *argv]
    return subprocess.run(
        cmd, cwd=cwd or home, check=check, capture_output=True, text=True, timeout=timeout
    )


def release(instructor, assignment, prefix=PREFIX, course=COURSE, exchange=EXCHANGE):
    """As the instructor: the gradebook's assignment, then nbgrader's release into the exchange."""
    env = user_env(prefix, course, exchange)
    run_as(instructor, ["backprop-kit", "release", assignment], env, cwd=course)
    run_as(instructor, ["nbgrader", "release_assignment", assignment, "--force"], env, cwd=course)
    inbound = Path(exchange) / "backprop-kit" / "inbound"
    run_as(instructor, ["chmod", "+t", str(inbound)], env)


def proxy(cache=PROXY_CACHE):
    """The ``configurable-http-proxy`` command: on PATH, in ``cache``, or npm-installed there."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    cmd = Path(cache) / "node_modules" / ".bin" / "configurable-http-proxy"
    if not cmd.exists():
        if not shutil.which("npm"):
            raise RuntimeError(
                "configurable-http-proxy is not on PATH and npm is missing; expected one of "
                "them (apt-get install nodejs npm)"
            )
        Path(cache).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache),
             "configurable-http-proxy@5"],
            check=True,
        )  # fmt: skip
    return str(cmd)


def _trial(args):
    """Everything for a trial on 127.0.0.1 with the demo users, then the hub in the foreground."""
    if os.geteuid() != 0:
        raise SystemExit(
            "make hub needs root: it creates Unix users (bk-instructor, bk-student1..3), folders "
            "in /opt and /srv, and runs each user's server as that user. Run `sudo make hub`."
        )
    build_env()
    add_users([TRIAL_INSTRUCTOR], TRIAL_STUDENTS)
    make_exchange()
    make_course(TRIAL_INSTRUCTOR)
    release(TRIAL_INSTRUCTOR, args.assignment)
    STATE.mkdir(parents=True, exist_ok=True)
    os.chmod(STATE, 0o700)
    password = args.password
    env = dict(os.environ, BACKPROP_KIT_HUB_TRIAL_PASSWORD=password, BACKPROP_KIT_HUB_PROXY=proxy())
    print(
        f"hub on http://127.0.0.1:{args.port}/ — log in as {TRIAL_INSTRUCTOR} (formgrader) or "
        f"{', '.join(TRIAL_STUDENTS)} (Assignments tab), password {password!r}. Ctrl-C stops it."
    )
    hub = [
        sys.executable,
        "-m",
        "jupyterhub",
        "-f",
        str(Path(__file__).with_name("jupyterhub_config.py")),
    ]
    env["BACKPROP_KIT_HUB_PORT"] = str(args.port)
    os.execvpe(hub[0], hub, env)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="step", required=True)
    sub.add_parser("env", help="build the users' environment in " + str(PREFIX))
    co = sub.add_parser("course", help="the course folder and the exchange")
    co.add_argument("instructor")
    u = sub.add_parser("users", help="add Unix users to the course's groups")
    u.add_argument("--instructor", action="append", default=[])
    u.add_argument("--student", action="append", default=[])
    t = sub.add_parser("trial", help="everything on 127.0.0.1 with demo users, then the hub")
    t.add_argument("--assignment", default="01-graphs")
    t.add_argument("--port", type=int, default=8000)
    t.add_argument("--password", default="backprop")
    args = p.parse_args(argv)
    if args.step == "env":
        build_env()
    elif args.step == "course":
        make_exchange()
        make_course(args.instructor)
    elif args.step == "users":
        add_users(args.instructor, args.student)
    else:
        _trial(args)


if __name__ == "__main__":
    main()
