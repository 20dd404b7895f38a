#!/usr/bin/env python3
"""CipherChat's relay benchmark beside the original design's, in one invocation.

Runs `cipherchat-bench relay --json` (latency and throughput sections, the relay being the
`cipherchat` built beside it), then the original
design rebuilt in Python (seedchat's `loadtest.py`, latency and throughput tests, same pair
counts and 200-byte payloads), its results written to a temporary directory, and prints
each figure of ours beside theirs with the ratio and the load average around each part.
docs/BENCHMARKS-RELAY.md explains the figures; quote the ratios, not the absolute times.

    python3 scripts/bench-side-by-side.py --bench .build-release/release/cipherchat-bench
    python3 scripts/bench-side-by-side.py --quick        # a few seconds of load: does it run?

Without seedchat (../shared/peers/seedchat beside the repository, or --seedchat DIR), only our
figures are printed. Every run is bounded by --timeout seconds.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(HERE)


def default_seedchat():
    for candidate in (os.path.join(REPOSITORY, "..", "shared", "peers", "seedchat"),
                      os.path.join(REPOSITORY, "..", "..", "shared", "peers", "seedchat")):
        if os.path.isfile(os.path.join(candidate, "loadtest.py")):
            return os.path.abspath(candidate)
    return None


def load():
    return "%.1f" % os.getloadavg()[0]


def run(command, cwd, timeout, label, environment=None):
    print("side-by-side: %s (load %s)..." % (label, load()), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=timeout, env=environment)
    if result.returncode != 0:
        sys.exit("%s failed (exit %d):\n%s" % (label, result.returncode, result.stderr[-4000:]))
    return result.stdout


def run_json(command, cwd, timeout, label):
    """Runs `command`; returns its standard output, one JSON object."""
    output = run(command, cwd, timeout, label)
    try:
        return json.loads(output)
    except json.JSONDecodeError:
        sys.exit("%s printed no JSON object:\n%s" % (label, output[-4000:]))


def ours(arguments):
    command = [arguments.bench, "relay", "--json", "--sections", "latency", "throughput",
               "--pairs"] + [str(p) for p in arguments.pairs]
    if arguments.quick:
        command.append("--quick")
    return run_json(command, REPOSITORY, arguments.timeout, "cipherchat-bench relay")


def theirs(arguments, seedchat):
    """seedchat's latency and throughput; its results go to a temporary directory
    (SEEDCHAT_OUT), so its own folder stays as it was."""
    scratch = tempfile.mkdtemp(prefix="seedchat-")
    try:
        environment = dict(os.environ, SEEDCHAT_OUT=scratch)
        base = [sys.executable, "loadtest.py", "--server", arguments.seed_server]
        results = {}
        for test, options in (
            ("latency", ["--messages", "200" if arguments.quick else "1000",
                         "--first-trials", "5" if arguments.quick else "20"]),
            ("throughput", ["--pairs", ",".join(str(p) for p in arguments.pairs),
                            "--duration", "2" if arguments.quick else "6"]),
        ):
            run(base + ["--test", test] + options, seedchat, arguments.timeout,
                "seedchat %s (%s server)" % (test, arguments.seed_server), environment)
            name = "%s_%s_full.json" % (arguments.seed_server, test)
            with open(os.path.join(scratch, "results", name)) as file:
                results[test] = json.load(file)["runs"]
        return results["latency"][0], {"runs": results["throughput"]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def row(name, our, their, unit, lower_is_better):
    def show(value):
        return "%10.3f %-5s" % (value, unit) if value is not None else "%16s" % "—"
    ratio = ""
    if our is not None and their:
        factor = our / their
        better = factor < 1 if lower_is_better else factor > 1
        ratio = "%6.2f×  (%s)" % (factor, "ours better" if better else "theirs better")
    print("  %-44s %s %s   %s" % (name, show(our), show(their), ratio))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=os.path.join(REPOSITORY, ".build-release", "release", "cipherchat-bench"),
                        help="the cipherchat-bench executable, with cipherchat beside it "
                             "(a release build for figures worth quoting)")
    parser.add_argument("--seedchat", default=default_seedchat(), help="seedchat's folder")
    parser.add_argument("--seed-server", choices=["threaded", "asyncio"], default="threaded",
                        help="which of seedchat's servers (threaded is the original design's)")
    parser.add_argument("--pairs", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--quick", action="store_true", help="a few seconds of load each")
    parser.add_argument("--timeout", type=int, default=900, help="seconds each run may take")
    arguments = parser.parse_args()
    relay = os.path.join(os.path.dirname(arguments.bench), "cipherchat")
    for executable in (arguments.bench, relay):
        if not os.access(executable, os.X_OK):
            sys.exit("no executable at %s: build both (swift build -c release --scratch-path .build-release "
                     "--product cipherchat, then --product cipherchat-bench) or give --bench" % executable)

    before = load()
    our = ours(arguments)
    seed = theirs(arguments, arguments.seedchat) if arguments.seedchat else None
    after = load()

    machine = our.get("machine", {})
    print("Side by side: CipherChat (%s build) and the original design (%s)"
          % (machine.get("buildConfiguration", "?"),
             "seedchat, %s server" % arguments.seed_server if seed else "not run"))
    print("  load average %s before, %s after; %s; %s logical cores; %s"
          % (before, after, machine.get("cpuModel", "?"), machine.get("logicalCores", "?"),
             "quick profile" if arguments.quick else "full profile"))
    if not seed:
        print("  seedchat not found (give --seedchat DIR): our figures only")
    print()
    print("  %-44s %16s %16s   %s" % ("figure", "CipherChat", "original", "ratio ours/original"))
    latency = our.get("latency", {})
    seed_latency, seed_throughput = seed if seed else ({}, {})
    first = seed_latency.get("first_message_oneway", {})
    round_trip = seed_latency.get("subsequent_rtt", {})
    row("first message to a new contact, p50", latency.get("firstMessageMedianMilliseconds"), first.get("p50_ms"), "ms", True)
    row("round trip of 200 B, p50", latency.get("roundTripMedianMilliseconds"), round_trip.get("p50_ms"), "ms", True)
    row("round trip of 200 B, p99", latency.get("roundTripP99Milliseconds"), round_trip.get("p99_ms"), "ms", True)
    seed_runs = {run["pairs"]: run for run in seed_throughput.get("runs", [])}
    for run in our.get("throughput", []):
        pairs = run["pairs"]
        other = seed_runs.get(pairs, {})
        rate = other.get("delivered_msgs_per_s")
        cpu = other.get("server_cpu_pct_of_one_core")
        row("delivered msgs/s, %d pairs" % pairs, run.get("messagesPerSecond"), rate, "msg/s", False)
        row("relay CPU per message, %d pairs" % pairs, run.get("relayCPUMicrosecondsPerMessage"),
            cpu / 100 * 1e6 / rate if cpu is not None and rate else None, "µs", True)
    print()
    print("  Our run keeps TLS 1.3, a durable queue (fsync before each acknowledgement), forward")
    print("  secrecy and post-quantum session setup; the original has none of them.")


if __name__ == "__main__":
    main()
