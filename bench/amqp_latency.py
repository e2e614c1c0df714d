#!/usr/bin/python3
"""The broker's own floor under enqueue-to-start latency (issue 12, point 1).

A persistent message published (with confirms) to a quorum queue, as the
platform's work queues are (docs/architecture.md), and to a classic one, as
Celery's default queue is, and the time until a consumer in another
process has it: one message at a time, SAMPLES of each, paced 30 ms apart
like the one-job-at-a-time latency run of bench/jobs.mjs.  The exchange and
queues are the benchmark's own (rap.bench.latency*), deleted afterwards.

Usage: bench/amqp_latency.py [--url amqp://rap:rap@127.0.0.1:5679/] [--samples 200]
Prints one JSON line.  Needs Debian's python3-amqp (comes with python3-celery).
"""
import argparse
import json
import multiprocessing as mp
import time
from urllib.parse import urlparse

import amqp

EXCHANGE = 'rap.bench.latency'


def connect(url):
    u = urlparse(url)
    conn = amqp.Connection(f'{u.hostname}:{u.port or 5672}', userid=u.username or 'guest',
                           password=u.password or 'guest',
                           virtual_host=(u.path[1:] or '/') if u.path else '/')
    conn.connect()
    return conn


def consume(url, queue, n, ready, out):
    conn = connect(url)
    ch = conn.channel()
    ch.basic_qos(0, 64, False)
    got = []

    def on_message(m):
        got.append(time.time())
        m.channel.basic_ack(m.delivery_tag)

    ch.basic_consume(queue, callback=on_message)
    ready.set()
    deadline = time.time() + 60 + n
    while len(got) < n and time.time() < deadline:
        try:
            conn.drain_events(timeout=1)
        except TimeoutError:
            pass
    out.put(got)
    conn.close()


def measure(url, kind, samples):
    queue = f'{EXCHANGE}.{kind}'
    conn = connect(url)
    ch = conn.channel()
    ch.exchange_declare(EXCHANGE, 'direct', durable=False, auto_delete=False)
    ch.queue_declare(queue, durable=True, auto_delete=False,
                     arguments={'x-queue-type': kind})
    ch.queue_bind(queue, EXCHANGE, kind)
    ch.confirm_select()
    ready, out = mp.Event(), mp.Queue()
    p = mp.Process(target=consume, args=(url, queue, samples, ready, out))
    p.start()
    if not ready.wait(30):
        raise SystemExit('the consumer did not start in 30 s')
    time.sleep(0.5)  # its basic.consume is on the wire, not yet answered
    sent = []
    for i in range(samples):
        sent.append(time.time())
        ch.basic_publish(amqp.Message(b'{"v":1}', delivery_mode=2, message_id=str(i)),
                         exchange=EXCHANGE, routing_key=kind, mandatory=True)
        time.sleep(0.03)
    got = out.get(timeout=120)
    p.join(30)
    ch.queue_delete(queue)
    conn.close()
    if len(got) != samples:
        raise SystemExit(f'{kind}: {len(got)} of {samples} messages arrived')
    lat = sorted((g - s) * 1000 for s, g in zip(sent, got))
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2)
    return {'p50': pct(0.5), 'p99': pct(0.99), 'max': round(lat[-1], 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--url', default='amqp://rap:rap@127.0.0.1:5679/')
    ap.add_argument('--samples', type=int, default=200)
    a = ap.parse_args()
    result = {'what': 'amqp_publish_to_consume_ms', 'samples': a.samples}
    for kind in ('quorum', 'classic'):
        result[kind] = measure(a.url, kind, a.samples)
    conn = connect(a.url)
    conn.channel().exchange_delete(EXCHANGE)
    conn.close()
    print(json.dumps(result))


if __name__ == '__main__':
    main()
