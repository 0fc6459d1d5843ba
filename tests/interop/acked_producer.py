"""Usage: acked_producer.py BOOTSTRAP TOPIC COUNT OUT_FILE

kafka-python, unmodified, produces COUNT records "v<i>" with acks=all (retries through a leader
failover, as a real client's defaults allow) one every 50 ms, and writes each acknowledged one as
"<offset> <value>" to OUT_FILE. Records whose delivery failed are counted, not written: only what
the broker acknowledged is checked afterwards."""
import sys
import time

from kafka import KafkaProducer


def main():
    bootstrap, topic, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", retries=1000,
                             retry_backoff_ms=200, request_timeout_ms=30000, max_in_flight_requests_per_connection=1,
                             linger_ms=0)
    acked, failed = [], 0
    futures = []
    for i in range(count):
        futures.append((f"v{i}", producer.send(topic, value=f"v{i}".encode(), partition=0)))
        time.sleep(0.05)
    for value, f in futures:
        try:
            md = f.get(timeout=120)
            acked.append((md.offset, value))
        except Exception as e:  # noqa: BLE001 - any delivery failure is only counted
            failed += 1
            print(f"not acknowledged: {value}: {e}", file=sys.stderr)
    producer.close()
    with open(out, "w") as f:
        for offset, value in acked:
            f.write(f"{offset} {value}\n")
    print(f"{len(acked)} acknowledged, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
