#!/usr/bin/python3
"""The yardstick of bench/quick.sh: Celery 5 (Debian's python3-celery) doing
what the platform's no-op jobs do, with Celery's defaults and durable
settings: persistent messages on durable queues, acks_late, a prefork pool
of 2 (one per core), the default prefetch.  Prints one JSON line.

  bench/celery_noop.py --broker AMQP_URL [--backend db+postgresql://...]
                       [--jobs N] [--producers P] [--samples S]

Throughput: P producer processes call noop.apply_async() once per job (one
publish per job, as the platform takes one POST per job); the clock stops
when the last task has run.  Latency: one task at a time, the time from just
before apply_async() to the task's first line (time.time() in both), as the
platform's enqueue-to-start is created_at -> started_at.  Each task appends
"sent started" to a file of its own run (the workers' only output), which
is how the producer sees completions without a result backend.
With --backend, Celery also stores every result in PostgreSQL through its
database backend (SQLAlchemy), the usual durable setup.
"""
import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def make_app(broker, backend, log_path):
    from celery import Celery

    app = Celery('rapbench', broker=broker, backend=backend or None)
    app.conf.update(
        task_acks_late=True,
        task_ignore_result=not backend,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )

    @app.task(name='noop')
    def noop(sent):
        started = time.time()
        with open(log_path, 'a') as f:
            f.write(f'{sent} {started}\n')
        return None

    return app, noop


def lines(path):
    try:
        with open(path, 'rb') as f:
            return f.read().count(b'\n')
    except FileNotFoundError:
        return 0


def produce(args, log_path, count):
    _, noop = make_app(args.broker, args.backend, log_path)
    for _ in range(count):
        noop.apply_async((0.0,))


def wait_lines(path, n, timeout, poll=0.01):
    deadline = time.monotonic() + timeout
    while lines(path) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f'celery: {lines(path)} of {n} tasks ran in {timeout} s')
        time.sleep(poll)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--broker', required=True)
    ap.add_argument('--backend', default='')
    ap.add_argument('--jobs', type=int, default=5000)
    ap.add_argument('--producers', type=int, default=4)
    ap.add_argument('--samples', type=int, default=200)
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--log', default='')
    args = ap.parse_args()

    if args.worker:
        app, _ = make_app(args.broker, args.backend, args.log)
        app.worker_main(['worker', '--pool', 'prefork', '--concurrency', '2',
                         '--loglevel', 'WARNING', '--without-heartbeat'])
        return

    tmp = tempfile.mkdtemp(prefix='rap-celery-')
    log_path = os.path.join(tmp, 'ran.log')
    worker = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), '--worker', '--broker', args.broker,
         '--backend', args.backend, '--log', log_path],
        cwd=HERE, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        # Ready when a task sent now has run (bounded).
        _, noop = make_app(args.broker, args.backend, log_path)
        noop.apply_async((time.time(),))
        wait_lines(log_path, 1, 60)

        base = lines(log_path)
        t0 = time.monotonic()
        per = [args.jobs // args.producers + (i < args.jobs % args.producers)
               for i in range(args.producers)]
        procs = [multiprocessing.Process(target=produce, args=(args, log_path, n)) for n in per]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        t_sent = time.monotonic()
        wait_lines(log_path, base + args.jobs, 600)
        t_done = time.monotonic()

        lat = []
        for _ in range(args.samples):
            have = lines(log_path)
            noop.apply_async((time.time(),))
            wait_lines(log_path, have + 1, 30, poll=0.0005)
            with open(log_path, 'rb') as f:
                sent, started = f.read().splitlines()[-1].split()
            lat.append((float(started) - float(sent)) * 1000)
        lat.sort()

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2)

        print(json.dumps({
            'what': 'celery', 'backend': 'postgresql' if args.backend else 'none',
            'jobs': args.jobs, 'producers': args.producers,
            'submit_per_s': round(args.jobs / (t_sent - t0)),
            'end_to_end_per_s': round(args.jobs / (t_done - t0)),
            'seconds': round(t_done - t0, 1),
            'enqueue_to_start_ms': {'samples': args.samples, 'p50': pct(50), 'p99': pct(99),
                                    'max': round(lat[-1], 2)},
        }))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


if __name__ == '__main__':
    main()
