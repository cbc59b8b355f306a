#!/usr/bin/env python3
"""Creates a topic with confluent_kafka's AdminClient, lists it, describes its configs and deletes it.

Usage: admin_roundtrip.py <bootstrap servers> <topic>
Prints one JSON object on stdout: what each step saw. Exits 0 when every step ran (the caller asserts on the
values), 1 with {"error": ...} when a step failed or a deadline passed.
"""
import json
import sys
import time

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

DEADLINE_S = 30


def until(what, check):
    """Polls check() until it returns a value that is not None, or fails after DEADLINE_S."""
    end = time.monotonic() + DEADLINE_S
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > end:
            raise TimeoutError("timed out after %d s waiting for %s" % (DEADLINE_S, what))
        time.sleep(0.1)


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 20000})
    out = {"client": confluent_version(), "topic": topic}

    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=2, config={"retention.ms": "3600000"})],
        operation_timeout=20)
    futures[topic].result(timeout=DEADLINE_S)
    out["created"] = True

    def listed():
        t = admin.list_topics(timeout=10).topics.get(topic)
        if t is None or t.error is not None or len(t.partitions) != 3:
            return None
        return t

    t = until("the topic to be listed with 3 partitions", listed)
    out["listed_partitions"] = len(t.partitions)
    out["replicas"] = sorted({len(p.replicas) for p in t.partitions.values()})

    resource = ConfigResource("topic", topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=DEADLINE_S)
    out["configs"] = {
        name: {"value": e.value, "source": int(e.source), "read_only": bool(e.is_read_only), "default": bool(e.is_default)}
        for name, e in entries.items()
    }

    admin.delete_topics([topic], operation_timeout=20)[topic].result(timeout=DEADLINE_S)
    out["deleted"] = True
    until("the topic to leave the listing", lambda: True if topic not in admin.list_topics(timeout=10).topics else None)
    out["gone"] = True
    print(json.dumps(out, sort_keys=True))


def confluent_version():
    import confluent_kafka
    return {"python": confluent_kafka.version()[0], "librdkafka": confluent_kafka.libversion()[0]}


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - every failure is reported as JSON for the test to show
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
