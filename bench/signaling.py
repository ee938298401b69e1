"""Signaling load: R rooms × P peers of real Socket.IO clients relaying offer/answer/candidate-sized signals.

    .venv/bin/python bench/signaling.py [--sizes 50x4 100x4] [--targets minimal memory redis redis2]
        [--rate 2] [--seconds 25] [--repeat 3] [--generators 1] [--json results.json]

Targets, each started fresh on free loopback ports for each run:
  minimal   bench/minimal_relay.py: Flask-SocketIO with gevent and no checks
  minimal-redis  the same with python-socketio's stock Redis message queue
  memory    one `python server.py`, rooms in memory
  redis     redis-server and one `python server.py` with REDIS_URL
  redis2    redis-server and two `python server.py` with REDIS_URL; peer j of a
            room talks to process j % 2, so every room spans both
  limits    one `python server.py` as `memory`, with every limit at its default
            (config/defaults.env) behind one trusted proxy hop: each peer comes
            from an address of its own (X-Forwarded-For), as on a real site
The other Ensemble targets raise the per-address limits out of the way (every peer
here comes from 127.0.0.1); their per-connection limits are at their defaults.
A target may name another checkout of Ensemble to run from: `memory@/tmp/other`.

Every peer joins (timed), then sends `signal` events to the others of its room in
turn, `--rate` a second, two in ten of them SDP of about 4 KB and the rest ICE
candidates of about 300 B, acknowledged as the browser asks. After `--warmup`
seconds the window of `--seconds` is measured: relay latency of the signals sent
in it (send to delivery, one monotonic clock), signals delivered a second, and the
CPU (% of one core) and resident memory of the server processes, of redis and of
the generator processes themselves, from /proc. Losses are signals sent and never
delivered once a drain of `--drain` seconds is over. With `--repeat` the targets
take turns (order rotated each round) and the table gives medians, each run's p99
in brackets.
"""

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import Usage, machine_busy_seconds, python_server, redis_server  # noqa: E402
from bench.signaling_peers import LoadPlan, run_worker  # noqa: E402

TARGETS = ("minimal", "minimal-redis", "memory", "redis", "redis2", "limits")
SERVER_SETTINGS = {"ASYNC_MODE": "gevent", "LOG_LEVEL": "WARNING"}
# Every peer of the generator comes from 127.0.0.1: per-address limits out of the way.
LOOPBACK_LIMITS = {"CONNECTIONS_PER_IP": "100000", "JOINS_PER_IP_PER_MINUTE": "100000", "UPLOADS_PER_IP_PER_MINUTE": "100000"}
READY_TIMEOUT = 120.0


@dataclass(frozen=True)
class Target:
    kind: str
    root: Path  # the Ensemble checkout its servers run from

    @classmethod
    def parse(cls, text):
        kind, _, root = text.partition("@")
        if kind not in TARGETS:
            raise argparse.ArgumentTypeError(f"unknown target {kind!r}: one of {', '.join(TARGETS)}")
        return cls(kind, Path(root).resolve() if root else ROOT)

    @property
    def label(self):
        return self.kind if self.root == ROOT else f"{self.kind}@{self.root}"

    def start(self, stack, python, extra_env):
        """Start redis (if any) and the servers under `stack`; returns (servers, redis or None)."""
        limits = {"TRUSTED_PROXY_HOPS": "1"} if self.kind == "limits" else LOOPBACK_LIMITS
        settings = dict(SERVER_SETTINGS, REDIS_URL="", **limits, **extra_env)
        redis = None
        if self.kind in ("minimal-redis", "redis", "redis2"):
            redis = stack.enter_context(redis_server())
            settings["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        if self.kind.startswith("minimal"):
            relay = python_server("bench/minimal_relay.py", python, root=ROOT, settings=settings)
            return [stack.enter_context(relay)], redis
        count = 2 if self.kind == "redis2" else 1
        servers = [python_server("server.py", python, root=self.root, settings=settings) for _ in range(count)]
        return [stack.enter_context(server) for server in servers], redis


def parse_size(text):
    rooms, _, peers = text.partition("x")
    try:
        return int(rooms), int(peers)
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes look like 50x4, not {text!r}") from None


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_share(before, after, seconds):
    return sum(b.cpu_seconds - a.cpu_seconds for a, b in zip(before, after)) / seconds * 100


def wait_for_quiet(limit, longest, probe=2.0):
    """Wait (at most `longest` s) until the rest of the machine uses under `limit` % of one core;
    returns what it used over the last probe."""
    deadline = time.monotonic() + longest
    while True:
        before = machine_busy_seconds()
        time.sleep(probe)
        busy = (machine_busy_seconds() - before) / probe * 100
        if busy < limit or time.monotonic() > deadline:
            return busy
        time.sleep(3.0)


def quietest_run(target, rooms, peers, options, round_number):
    """Run once after waiting for a quiet machine; again (up to --retries times) while other
    processes used over twice --quiet during the window; keep the quietest run."""
    runs = []
    for _ in range(1 + options.retries):
        if options.quiet_wait:
            wait_for_quiet(options.quiet, options.quiet_wait)
        runs.append(run_once(target, rooms, peers, options, round_number))
        if runs[-1]["others_cpu"] <= 2 * options.quiet:
            break
    quietest = min(runs, key=lambda run: run["others_cpu"])
    quietest["attempts"] = len(runs)
    return quietest


def run_once(target, rooms, peers, options, round_number):
    """One target at one size: start it, drive it, stop it; returns a dict of figures."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    start_time = context.Value("d", 0.0)
    with ExitStack() as stack:
        servers, redis = target.start(stack, options.python, dict(options.server_env))
        urls = tuple(f"http://127.0.0.1:{server.port}" for server in servers)
        names = [f"r{round_number}-{i}" for i in range(rooms)]
        workers = []
        for w in range(options.generators):
            plan = LoadPlan(urls, tuple(names[w::options.generators]), peers, options.rate, options.warmup,
                            options.seconds, options.drain, options.join_rate / options.generators, seed=w + 1,
                            samples=options.samples, forwarded=target.kind == "limits")
            workers.append(context.Process(target=run_worker, args=(plan, ready, go, start_time, results)))
        for worker in workers:
            worker.start()
        stack.callback(_reap, workers)
        for _ in workers:
            message = ready.get(timeout=READY_TIMEOUT)
            if message[0] == "failed":
                raise RuntimeError(f"{target.label}: a generator failed: {message[1]}")
        start = time.monotonic() + 0.2
        start_time.value = start
        go.set()
        watched = {"servers": servers, "redis": [redis] if redis else [], "generators": workers}
        before = _sleep_until_and_measure(start + options.warmup, watched)
        if options.py_spy:
            _profile(stack, servers, options, f"{target.kind}-{rooms}x{peers}-{round_number}")
        after = _sleep_until_and_measure(start + options.warmup + options.seconds, watched)
        tallies = [results.get(timeout=options.drain + 60) for _ in workers]
    failures = [tally for status, tally in tallies if status == "failed"]
    if failures:
        raise RuntimeError(f"{target.label}: a generator failed: {failures[0]}")
    figures = _figures(target, rooms, peers, [tally for _, tally in tallies], before, after, options.seconds)
    figures["logs"] = [str(server.log_path) for server in servers]
    if options.samples:
        figures["samples"] = sorted(sample for _, tally in tallies for sample in tally.samples)
    return figures


def _sleep_until_and_measure(moment, watched):
    time.sleep(max(0.0, moment - time.monotonic()))
    usage = {group: [Usage.of(process.pid) for process in processes] for group, processes in watched.items()}
    usage["machine"] = [Usage(machine_busy_seconds(), 0)]
    return usage


def _profile(stack, servers, options, name):
    """Sample each server's stacks with py-spy over the window (collapsed stacks, 100 a second, busy only)."""
    options.py_spy.mkdir(parents=True, exist_ok=True)
    for i, server in enumerate(servers):
        command = [str(Path(options.python).parent / "py-spy"), "record", "--pid", str(server.pid), "--rate", "100",
                   "--nonblocking", "--format", "raw", "--duration", str(int(options.seconds)),
                   "--output", str(options.py_spy / f"{name}-{i}.txt"), *(["--native"] if options.native else [])]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(spy.wait, options.seconds + 30)


def _reap(workers):
    for worker in workers:
        worker.join(10)
        if worker.is_alive():
            worker.terminate()
            worker.join(5)


def _figures(target, rooms, peers, tallies, before, after, seconds):
    def merged(name):
        return [value for tally in tallies for value in getattr(tally, name)]

    errors = {}
    for tally in tallies:
        for code, count in tally.errors.items():
            errors[code] = errors.get(code, 0) + count
    relay = merged("relay_ms")
    sent, received = sum(t.sent for t in tallies), sum(t.received for t in tallies)
    result = {
        "target": target.label, "size": f"{rooms}x{peers}",
        "join_p50": percentile(merged("join_ms"), 0.5), "join_p95": percentile(merged("join_ms"), 0.95),
        "relay_p50": percentile(relay, 0.5), "relay_p95": percentile(relay, 0.95),
        "relay_p99": percentile(relay, 0.99), "relay_max": max(relay, default=float("nan")),
        "delivered_per_s": sum(t.received_in_window for t in tallies) / seconds,
        "sent": sent, "received": received, "lost": sent - received,
        "unacked": sent - sum(t.acked for t in tallies), "errors": errors,
        "out_of_order": sum(t.out_of_order for t in tallies),
        "incomplete_rosters": sum(t.incomplete_rosters for t in tallies),
        "send_lag_p99": percentile(merged("send_lag_ms"), 0.99),
        "generator_lag_p99": percentile(merged("loop_lag_ms"), 0.99),
        "generator_lag_max": max(merged("loop_lag_ms"), default=float("nan")),
        "server_cpu": cpu_share(before["servers"], after["servers"], seconds),
        "server_cpu_each": [cpu_share([b], [a], seconds) for b, a in zip(before["servers"], after["servers"])],
        "server_rss_mb": sum(u.rss_bytes for u in after["servers"]) / 2**20,
        "redis_cpu": cpu_share(before["redis"], after["redis"], seconds) if after["redis"] else None,
        "generator_cpu": cpu_share(before["generators"], after["generators"], seconds),
        "generator_rss_mb": sum(u.rss_bytes for u in after["generators"]) / 2**20,
        "machine_cpu": cpu_share(before["machine"], after["machine"], seconds),
    }
    ours = result["server_cpu"] + (result["redis_cpu"] or 0) + result["generator_cpu"]
    result["others_cpu"] = result["machine_cpu"] - ours
    return result


def _median(runs, key):
    return statistics.median(run[key] for run in runs)


def table(results, targets, sizes):
    header = ("| peers | target | join p50 / p95 | relay p50 / p95 / p99 (each run's p99) | delivered a second "
              "| lost | server CPU | server RSS | redis CPU | generator CPU | rest of the machine |")
    lines = [header, "| --- " * header.count(" | ") + "| --- |"]
    for rooms, peers in sizes:
        for target in targets:
            runs = [r for r in results if r["target"] == target.label and r["size"] == f"{rooms}x{peers}"]
            if not runs:
                continue
            each = ", ".join(f"{r['relay_p99']:.0f}" for r in runs)
            redis = f"{_median(runs, 'redis_cpu'):.0f} %" if runs[0]["redis_cpu"] is not None else "–"
            lines.append(
                f"| {rooms}×{peers} | {target.label} "
                f"| {_median(runs, 'join_p50'):.1f} / {_median(runs, 'join_p95'):.1f} ms "
                f"| {_median(runs, 'relay_p50'):.1f} / {_median(runs, 'relay_p95'):.1f} / "
                f"{_median(runs, 'relay_p99'):.1f} ms ({each}) "
                f"| {_median(runs, 'delivered_per_s'):.0f} | {sum(r['lost'] for r in runs)} "
                f"| {_median(runs, 'server_cpu'):.0f} % | {_median(runs, 'server_rss_mb'):.0f} MB "
                f"| {redis} | {_median(runs, 'generator_cpu'):.0f} % | {_median(runs, 'others_cpu'):.0f} % |"
            )
    return "\n".join(lines)


def ratios(results, targets, sizes, base="memory"):
    """Each target's p99 over the `base` target's in the same round and size, median over rounds."""
    lines = []
    for rooms, peers in sizes:
        size = f"{rooms}x{peers}"
        baseline = {r["round"]: r["relay_p99"] for r in results if r["size"] == size and r["target"] == base}
        for target in targets:
            pairs = [r["relay_p99"] / baseline[r["round"]] for r in results
                     if r["size"] == size and r["target"] == target.label and r["round"] in baseline]
            if pairs and target.label != base:
                each = ", ".join(f"{p:.2f}" for p in pairs)
                lines.append(f"- {rooms}×{peers}: {target.label} p99 / {base} p99 = "
                             f"{statistics.median(pairs):.2f} ({each})")
    return "\n".join(lines)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=[(50, 4), (100, 4)], help="ROOMSxPEERS")
    parser.add_argument("--targets", nargs="+", type=Target.parse,
                        default=[Target.parse(t) for t in TARGETS if t != "minimal-redis"])
    parser.add_argument("--rate", type=float, default=2.0, help="signals a second per peer")
    parser.add_argument("--seconds", type=float, default=25.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--drain", type=float, default=5.0, help="longest wait for late deliveries")
    parser.add_argument("--join-rate", type=float, default=100.0, help="joins a second over all rooms")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; targets take turns")
    parser.add_argument("--generators", type=int, default=1, help="generator processes (rooms split over them)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--quiet", type=float, default=30.0,
                        help="before each run, wait until other processes use under this %% of one core")
    parser.add_argument("--quiet-wait", type=float, default=90.0, help="but no longer than this (s); 0: never wait")
    parser.add_argument("--retries", type=int, default=2, help="runs again while the machine was busy")
    parser.add_argument("--server-env", nargs="+", type=lambda text: tuple(text.split("=", 1)), default=[],
                        metavar="KEY=VALUE", help="more environment for every server process")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="profile the servers over the window into DIR")
    parser.add_argument("--native", action="store_true", help="with --py-spy: native frames too")
    parser.add_argument("--samples", action="store_true", help="with --json: every signal's send time, latency, kind")
    parser.add_argument("--baseline", default="memory", help="target whose p99 the ratios divide by")
    return parser.parse_args()


def main():
    options = arguments()
    results = []
    for round_number in range(options.repeat):
        shift = round_number % len(options.targets)
        order = options.targets[shift:] + options.targets[:shift]
        for rooms, peers in options.sizes:
            for target in order:
                figures = quietest_run(target, rooms, peers, options, round_number)
                figures["round"] = round_number
                results.append(figures)
                print(json.dumps({k: v for k, v in figures.items() if k != "samples"}), file=sys.stderr, flush=True)
    if options.json:
        options.json.write_text(json.dumps({"options": _printable(options), "runs": results}, indent=1))
    print(table(results, options.targets, options.sizes))
    print()
    print(ratios(results, options.targets, options.sizes, options.baseline))


def _printable(options):
    return {key: (str(value) if isinstance(value, Path) else
                  [v.label if isinstance(v, Target) else v for v in value] if isinstance(value, list) else value)
            for key, value in vars(options).items()}


if __name__ == "__main__":
    main()
