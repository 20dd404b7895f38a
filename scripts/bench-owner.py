#!/usr/bin/env python3
"""What the home's owner saves each command, measured on the real binaries in one run.

Starts `cipherchat server` on loopback and two users, then times, as a user runs them:

- `cipherchat send bob TEXT` with no owner running (each run unlocks the store: scrypt at the
  default cost, then a TLS login) and then through alice's `cipherchat daemon`;
- `cipherchat history bob --limit 1` the same two ways;
- `cipherchat recv` of one waiting message the same two ways;
- through the local API (docs/API.md): from alice's `send` request to the `receive`
  notification on bob's owner, both daemons subscribed over their sockets;

beside two baselines of the same run: starting the process (`cipherchat --version`), which no
command through an owner can go below, and one 4 KiB write with `fdatasync`, which a send pays
at least once (the sender's state is durable before its ciphertext leaves).

Prints medians and 90th percentiles, with the ratio of each command's time through the owner
to its time alone (the baseline of the same run). docs/BENCHMARKS-RELAY.md quotes the figures.

    python3 scripts/bench-owner.py --binary .build-release/release/cipherchat

Every wait is bounded; the relay and daemons are stopped whatever happens.
"""

import argparse
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(HERE)
PASSPHRASE = "bench owner passphrase"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def read_line(stream, timeout):
    """One line from a child's pipe, or None when none comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break
        if byte == b"\n":
            return line.decode("utf-8", "replace")
        line += byte
    return None


class Run:
    def __init__(self, binary, scratch):
        self.binary = binary
        self.scratch = scratch
        self.children = []
        self.environment = dict(os.environ, CIPHERCHAT_PASSPHRASE=PASSPHRASE, NO_COLOR="1")
        self.environment.pop("CIPHERCHAT_SCRYPT_LOG_N", None)  # the default cost, as users have it

    def home(self, user):
        return os.path.join(self.scratch, user)

    def command(self, user, arguments, timeout=60):
        started = time.monotonic()
        result = subprocess.run([self.binary] + arguments[:1] + ["--home", self.home(user)] + arguments[1:],
                                env=self.environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=timeout)
        elapsed = (time.monotonic() - started) * 1000
        if result.returncode != 0:
            sys.exit("%s %s failed (exit %d): %s" % (user, " ".join(arguments), result.returncode,
                                                     result.stderr.decode("utf-8", "replace")[-2000:]))
        return elapsed

    def start(self, arguments, ready_prefix, timeout):
        child = subprocess.Popen([self.binary] + arguments, env=self.environment,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.children.append(child)
        for _ in range(50):
            line = read_line(child.stdout, timeout)
            if line is None:
                break
            if line.startswith(ready_prefix):
                return line
        sys.exit("%s printed no line starting %r within %d s" % (arguments[0], ready_prefix, timeout))

    def stop(self):
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


class APIConnection:
    """JSON-RPC 2.0 over a home's socket, one object a line."""

    def __init__(self, path, timeout):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(timeout)
        self.socket.connect(path)
        self.buffer = b""
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.socket.sendall((json.dumps(message) + "\n").encode("utf-8"))
        return self.next_id

    def message(self):
        while b"\n" not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                sys.exit("the owner closed its API connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def answer(self, request_id):
        for _ in range(1000):
            message = self.message()
            if message.get("id") == request_id:
                if "error" in message:
                    sys.exit("API error: %s" % message["error"])
                return message
        sys.exit("no answer to request %d" % request_id)


def synced_write_milliseconds(directory, count):
    """What one durable commit costs at least here: 4 KiB written and fdatasync'd."""
    path = os.path.join(directory, "sync-probe")
    times = []
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(count):
            started = time.monotonic()
            os.pwrite(descriptor, b"\0" * 4096, 0)
            os.fdatasync(descriptor)
            times.append((time.monotonic() - started) * 1000)
    finally:
        os.close(descriptor)
        os.unlink(path)
    return times


def summary(label, values, baseline=None):
    median = statistics.median(values)
    line = "  %-60s %9.2f ms   p90 %9.2f ms   n=%d" % (label, median, percentile(values, 0.9), len(values))
    if baseline:
        line += "   %.3f× alone" % (median / statistics.median(baseline))
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(REPOSITORY, ".build-release", "release", "cipherchat"))
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    parser.add_argument("--api-messages", type=int, default=200, help="API round trips (default 200)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds any one wait may take")
    arguments = parser.parse_args()
    if not os.access(arguments.binary, os.X_OK):
        sys.exit("no executable at %s (swift build -c release --product cipherchat --scratch-path .build-release)"
                 % arguments.binary)

    scratch = tempfile.mkdtemp(prefix="bench-owner-")
    run = Run(arguments.binary, scratch)
    try:
        ready = run.start(["server", "--host", "127.0.0.1", "--port", "0", "--data", os.path.join(scratch, "relay"),
                           "--metrics-port", "0", "--log-level", "error",
                           "--messages-per-second", "100000", "--message-burst", "100000"],
                          "listening on ", arguments.timeout)
        words = ready.split(" ")
        address, fingerprint = words[2], words[3][len("tls-sha256="):]
        print("bench-owner: relay at %s; load %.1f" % (address, os.getloadavg()[0]), file=sys.stderr)
        for user in ("alice", "bob"):
            run.command(user, ["init", "--server", address, "--user", user, "--server-fingerprint", fingerprint],
                        timeout=arguments.timeout)
        load_before = os.getloadavg()[0]

        floor = []
        for _ in range(arguments.runs):
            started = time.monotonic()
            subprocess.run([run.binary, "--version"], stdout=subprocess.DEVNULL, check=True, timeout=arguments.timeout)
            floor.append((time.monotonic() - started) * 1000)
        synced = synced_write_milliseconds(scratch, 50)
        alone_send = [run.command("alice", ["send", "bob", "alone %d" % index]) for index in range(arguments.runs)]
        alone_history = [run.command("alice", ["history", "bob", "--limit", "1"]) for _ in range(arguments.runs)]
        alone_recv = []
        for index in range(arguments.runs):
            run.command("alice", ["send", "bob", "waiting %d" % index])
            alone_recv.append(run.command("bob", ["recv"]))

        for user in ("alice", "bob"):
            child = subprocess.Popen([run.binary, "daemon", "--home", run.home(user)], env=run.environment,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            run.children.append(child)
        sockets = {user: os.path.join(run.home(user), "cipherchat.sock") for user in ("alice", "bob")}
        deadline = time.monotonic() + arguments.timeout
        connections = {}
        while len(connections) < 2 and time.monotonic() < deadline:
            for user, path in sockets.items():
                if user not in connections:
                    try:
                        connections[user] = APIConnection(path, arguments.timeout)
                    except OSError:
                        pass
            time.sleep(0.05)
        if len(connections) < 2:
            sys.exit("the daemons did not open their sockets within %d s" % arguments.timeout)
        alice, bob = connections["alice"], connections["bob"]
        bob.answer(bob.request("subscribe"))

        owner_send = [run.command("alice", ["send", "bob", "owner %d" % index]) for index in range(arguments.runs)]
        owner_history = [run.command("alice", ["history", "bob", "--limit", "1"]) for _ in range(arguments.runs)]

        # Bob's owner has taken the last message sent through alice's before the round trips
        # start; notifications of earlier ones are passed over by text below.
        last = "owner %d" % (arguments.runs - 1)
        for _ in range(10 * arguments.runs):
            message = bob.message()
            if message.get("method") == "receive" and message["params"].get("text") == last:
                break
        owner_recv = []
        for index in range(arguments.runs):
            text = "waiting for the owner %d" % index
            alice.request("send", {"recipient": "bob", "message": text})
            for _ in range(100):
                message = bob.message()
                if message.get("method") == "receive" and message["params"].get("text") == text:
                    break
            alice.answer(alice.next_id)
            owner_recv.append(run.command("bob", ["recv"]))
        api = []
        for index in range(arguments.api_messages):
            text = "api %d" % index
            started = time.monotonic()
            alice.request("send", {"recipient": "bob", "message": text})
            for _ in range(100):
                message = bob.message()
                if message.get("method") == "receive" and message["params"].get("text") == text:
                    break
            else:
                sys.exit("bob's owner never notified %r" % text)
            api.append((time.monotonic() - started) * 1000)
            # Alice's answer to the send, so that her connection's buffer stays empty.
            alice.answer(alice.next_id)
        load_after = os.getloadavg()[0]

        print("What the home's owner saves (%s; load average %.1f before, %.1f after)"
              % (arguments.binary, load_before, load_after))
        summary("baseline: cipherchat --version (starting the process)", floor)
        summary("baseline: 4 KiB write + fdatasync in the scratch directory", synced)
        summary("cipherchat send, no owner running", alone_send)
        summary("cipherchat send, through alice's daemon", owner_send, alone_send)
        summary("cipherchat history bob --limit 1, no owner", alone_history)
        summary("cipherchat history bob --limit 1, through the daemon", owner_history, alone_history)
        summary("cipherchat recv of one waiting message, no owner", alone_recv)
        summary("cipherchat recv of one waiting message, through bob's daemon", owner_recv, alone_recv)
        summary("API send -> bob's owner notified (loopback relay)", api)
    finally:
        run.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
