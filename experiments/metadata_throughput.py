#!/usr/bin/env python3
"""Creates topics through a samsa cluster as fast as one admin client can: TOPICS topics of
PARTITIONS partitions each, BATCH topics per CreateTopics request, requests one after another.
Prints elapsed wall seconds and the client's own CPU seconds (to show it is not the bottleneck).
Usage: metadata_throughput.py BOOTSTRAP PREFIX TOPICS PARTITIONS BATCH RF"""
import resource
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
topics, partitions, batch, rf = (int(x) for x in sys.argv[3:7])
admin = AdminClient({"bootstrap.servers": bootstrap})
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.monotonic()
for first in range(0, topics, batch):
    names = [f"{prefix}-{i}" for i in range(first, min(topics, first + batch))]
    futures = admin.create_topics([NewTopic(n, partitions, rf) for n in names], request_timeout=60)
    for name, f in futures.items():
        f.result()  # raises on any error: the measurement only counts a clean run
elapsed = time.monotonic() - start
after = resource.getrusage(resource.RUSAGE_SELF)  # the client's own threads (librdkafka's too)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(f"elapsed_s {elapsed:.3f} client_cpu_s {cpu:.3f}")
