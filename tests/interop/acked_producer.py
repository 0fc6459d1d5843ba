"""Usage: acked_producer.py CLIENT BOOTSTRAP TOPIC PARTITION STOP_FILE OUT_FILE

An unmodified Kafka client (CLIENT: kafka-python or confluent-kafka) produces a record "v<i>" every
50 ms until STOP_FILE exists (at most 300 s) with acks=all to one partition, retrying through
leader failovers as the client's own settings allow, and writes each acknowledged record as
"<offset> <value> <ack_ms> <sent_ms>" (wall-clock milliseconds when the client reported the
acknowledgement, and when the record was handed to it) to OUT_FILE. Records whose
delivery failed are counted, not written: only what the broker acknowledged is checked afterwards."""
import os
import sys
import time


def now_ms():
    return int(time.time() * 1000)


def kafka_python(bootstrap, topic, partition, stop, acked):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", retries=1000,
                             retry_backoff_ms=200, request_timeout_ms=30000,
                             max_in_flight_requests_per_connection=1, linger_ms=0)
    failed = [0]

    def on_ok(value, sent):
        return lambda md: acked.append((md.offset, value, now_ms(), sent))

    def on_err(value):
        def f(e):
            failed[0] += 1
            print(f"not acknowledged: {value}: {e}", file=sys.stderr)
        return f

    i = 0
    while not stop():
        value = f"v{i}"
        future = producer.send(topic, value=value.encode(), partition=partition)
        future.add_callback(on_ok(value, now_ms())).add_errback(on_err(value))
        i += 1
        time.sleep(0.05)
    producer.flush(120)
    producer.close()
    return failed[0]


def confluent(bootstrap, topic, partition, stop, acked):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0,
                         "max.in.flight.requests.per.connection": 1, "message.timeout.ms": 120000})
    failed = [0]

    sent = {}

    def report(err, msg):
        if err is None:
            acked.append((msg.offset(), msg.value().decode(), now_ms(), sent[msg.value()]))
        else:
            failed[0] += 1
            print(f"not acknowledged: {msg.value()}: {err}", file=sys.stderr)

    i = 0
    while not stop():
        sent[f"v{i}".encode()] = now_ms()
        producer.produce(topic, value=f"v{i}".encode(), partition=partition, on_delivery=report)
        producer.poll(0)
        i += 1
        time.sleep(0.05)
    left = producer.flush(120)
    return failed[0] + left


def main():
    client, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    partition, stop_file, out = int(sys.argv[4]), sys.argv[5], sys.argv[6]
    end = time.time() + 300
    acked = []
    run = {"kafka-python": kafka_python, "confluent-kafka": confluent}[client]
    failed = run(bootstrap, topic, partition, lambda: os.path.exists(stop_file) or time.time() > end, acked)
    with open(out, "w") as f:
        for offset, value, at, sent in acked:
            f.write(f"{offset} {value} {at} {sent}\n")
    print(f"{client}: {len(acked)} acknowledged, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
