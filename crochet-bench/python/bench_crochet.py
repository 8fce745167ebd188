#!/usr/bin/env python3
"""Python crochet's round trip and throughput, for crochet-bench.

The same workloads as the Rust harness: an empty ``@run_in_reactor``
function called and ``wait()``-ed for, one call at a time (latency), and from
several threads until a deadline (throughput). Prints one JSON object on
stdout; the harness computes medians over the repeats.

Run by ``cargo run --release -p crochet-bench``, which makes a virtualenv
under target/ from requirements.txt; to run it by hand:

    python3 bench_crochet.py --cpus 0 --calls 2000 --seconds 0.5
"""

import argparse
import json
import os
import platform
import sys
import threading
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", default=None,
                        help="comma-separated CPUs to run on (e.g. 0 to pin)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="counted window of each throughput run")
    parser.add_argument("--warmup-seconds", type=float, default=0.05)
    parser.add_argument("--threads", default="1,4,32")
    parser.add_argument("--repeats", type=int, default=1)
    return parser.parse_args()


def nearest_rank(sorted_values, percent):
    rank = -(-percent * len(sorted_values) // 100)  # ceil
    return sorted_values[max(1, min(int(rank), len(sorted_values))) - 1]


def latency_run(call, warmup, calls):
    for _ in range(warmup):
        call()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(calls):
        start = clock()
        call()
        samples.append(clock() - start)
    samples.sort()
    return {"median_ns": nearest_rank(samples, 50), "p99_ns": nearest_rank(samples, 99),
            "samples": len(samples)}


def throughput_run(call, threads, warmup_seconds, seconds):
    barrier = threading.Barrier(threads + 1)
    schedule = {}
    counts = [0] * threads

    def worker(index):
        barrier.wait()
        counting_from, until = schedule["counting_from"], schedule["until"]
        clock = time.perf_counter
        while clock() < counting_from:
            call()
        calls = 0
        while clock() < until:
            call()
            calls += 1
        counts[index] = calls

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    schedule["counting_from"] = time.perf_counter() + warmup_seconds
    schedule["until"] = schedule["counting_from"] + seconds
    barrier.wait()
    for thread in workers:
        thread.join()
    return sum(counts) / seconds


def main():
    args = parse_args()
    # Before any thread exists (crochet's reactor thread included), so that
    # every thread inherits the mask.
    if args.cpus is not None:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})

    import crochet
    import twisted

    crochet.setup()

    @crochet.run_in_reactor
    def noop():
        return None

    def call():
        noop().wait(10)

    thread_counts = [int(n) for n in args.threads.split(",")]
    latency = []
    throughput = {str(n): [] for n in thread_counts}
    for _ in range(args.repeats):
        latency.append(latency_run(call, args.warmup, args.calls))
        for n in thread_counts:
            throughput[str(n)].append(
                throughput_run(call, n, args.warmup_seconds, args.seconds))

    json.dump({
        "python": platform.python_version(),
        "crochet": crochet.__version__,
        "twisted": twisted.__version__,
        "cpus": sorted(os.sched_getaffinity(0)),
        "latency_runs": latency,
        "throughput_runs": throughput,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
