#!/usr/bin/python3
"""systemd readiness of `vigie run` (Type=notify, deploy/vigie.service).

The test plays systemd's part: it binds an AF_UNIX datagram socket, passes it
as NOTIFY_SOCKET and starts `vigie run` in monitor mode on the loopback of a
network namespace of its own (unshare --net), dropping to user nobody. It
must receive, from vigie's own pid (SO_PASSCRED, as NotifyAccess=main
checks):
  * READY=1 with a STATUS=, once the capture is open and the privileges
    dropped (/proc/PID/status then shows nobody's uid);
  * on SIGHUP: RELOADING=1 with MONOTONIC_USEC= (now, CLOCK_MONOTONIC), then
    READY=1; on a SIGHUP whose config is broken, the same, with a STATUS
    saying the previous policy was kept;
  * on SIGTERM: STOPPING=1, then a clean exit.
Root only (namespaces, capture, the user switch): skipped (77) otherwise.
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# How long vigie may take to start or to answer a signal before the test
# gives up (a bound on waiting, not a speed assertion).
WAIT_S = 30

failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def receive(sock, want, pid):
    """Messages until one holding `want` (KEY=VALUE lines); returns it as a dict, or None."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        sender = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = struct.unpack("iII", cdata[:12])[0]
        msg = dict(l.split("=", 1) for l in data.decode().splitlines() if "=" in l)
        print(f"  notify from pid {sender}: {data.decode()!r}")
        if sender != pid:
            failures.append(f"notification from pid {sender}, not vigie's {pid}")
        if want in data.decode().splitlines():
            return msg
    return None


def uid_of(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespace, capture, user switch)")
        return 77
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        print("SKIP: needs unshare and ip")
        return 77
    if subprocess.run(["unshare", "--net", "true"]).returncode != 0:
        print("SKIP: cannot create a network namespace")
        return 77
    nobody = pwd.getpwnam("nobody").pw_uid

    tmp = tempfile.mkdtemp(prefix="vigie_notify_")
    os.chmod(tmp, 0o755)  # vigie notifies as nobody: it must reach the socket
    lists = os.path.join(tmp, "lists")
    os.mkdir(lists)
    shutil.copy(os.path.join(args.source_dir, "lists", "apps", "tiktok.list"), lists)
    cfg = os.path.join(tmp, "vigie.toml")
    good = f"""[gateway]
mode = "monitor"
interfaces = ["lo"]
enforce = "log"
user = "nobody"

[scope]
managed = ["127.0.0.0/8"]

[lists]
dir = "{lists}"

[[policy]]
apps = ["tiktok"]
action = "block"

[log]
path = "{tmp}/decisions.jsonl"
"""
    with open(cfg, "w") as f:
        f.write(good)

    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o777)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    env = dict(os.environ, NOTIFY_SOCKET=path)
    err = open(os.path.join(tmp, "vigie.err"), "w+")
    # unshare and sh exec: the process started is vigie itself (its main pid).
    p = subprocess.Popen(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" run --config "$1"',
                          args.vigie, cfg], env=env, stderr=err, stdout=subprocess.DEVNULL)
    try:
        ready = receive(sock, "READY=1", p.pid)
        check(ready is not None and ready.get("STATUS", "").startswith("monitor on lo"),
              f"READY=1 with STATUS after start ({ready})")
        check(p.poll() is None and uid_of(p.pid) == nobody,
              f"at READY=1 vigie runs as nobody (uid {nobody}): privileges dropped before readiness")

        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        p.send_signal(signal.SIGHUP)
        rel = receive(sock, "RELOADING=1", p.pid)
        after = time.clock_gettime(time.CLOCK_MONOTONIC)
        usec = int(rel.get("MONOTONIC_USEC", "0")) if rel else 0
        check(rel is not None and before * 1e6 <= usec <= after * 1e6,
              f"SIGHUP: RELOADING=1 with MONOTONIC_USEC in the signal's interval ({rel})")
        ready = receive(sock, "READY=1", p.pid)
        check(ready is not None and "reloaded" in ready.get("STATUS", ""), f"after the reload: READY=1 ({ready})")

        with open(cfg, "w") as f:
            f.write(good.replace('action = "block"', 'action = "forbid"'))
        p.send_signal(signal.SIGHUP)
        rel = receive(sock, "RELOADING=1", p.pid)
        ready = receive(sock, "READY=1", p.pid)
        check(rel is not None and ready is not None and "previous policy kept" in ready.get("STATUS", ""),
              f"a failed reload: RELOADING=1, then READY=1 saying the previous policy is kept ({ready})")

        p.send_signal(signal.SIGTERM)
        stop = receive(sock, "STOPPING=1", p.pid)
        check(stop is not None, f"SIGTERM: STOPPING=1 ({stop})")
        rc = p.wait(timeout=WAIT_S)
        check(rc == 0, f"vigie exited {rc}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.seek(0)
        log = err.read()
        if failures:
            print("vigie stderr:\n" + log[-2000:])
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
