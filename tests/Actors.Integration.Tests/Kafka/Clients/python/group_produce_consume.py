#!/usr/bin/env python3
"""Produces keyed records gzip-compressed with confluent_kafka's Producer, then reads them with a Consumer in a group
(subscribe, manual commit) and prints what it saw.

Usage: group_produce_consume.py <bootstrap servers> <topic> <group> <records> <keys>
Record i has key "key-<i % keys>" and value "value-<i>". Prints one JSON object on stdout: the delivery reports
(partition and offset of each record, or its error), the records consumed (partition, offset, key, value) and the
offsets committed by the group. Exits 0 when every step ran (the caller asserts on the values), 1 with
{"error": ...} when a step failed or a deadline passed.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

DEADLINE_S = 40


def main():
    bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
    records, keys = int(sys.argv[4]), int(sys.argv[5])
    out = {"client": confluent_version()}

    delivered = {}
    errors = []

    def on_delivery(err, msg):
        number = int(msg.value().decode("utf-8").split("-")[1])
        if err is not None:
            errors.append({"number": number, "error": str(err)})
        else:
            delivered[number] = [msg.partition(), msg.offset()]

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": "gzip",
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 20,
        "message.timeout.ms": DEADLINE_S * 1000,
    })
    for i in range(records):
        producer.produce(topic, key="key-%d" % (i % keys), value="value-%d" % i, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(DEADLINE_S)
    out["unflushed"] = remaining
    out["delivered"] = {str(k): v for k, v in sorted(delivered.items())}
    out["delivery_errors"] = errors

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": "python-group-member",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    })
    consumer.subscribe([topic])
    consumed = []
    end = time.monotonic() + DEADLINE_S
    while len(consumed) < len(delivered):
        if time.monotonic() > end:
            raise TimeoutError("timed out after %d s having consumed %d of %d records" % (DEADLINE_S, len(consumed), len(delivered)))
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            raise KafkaException(msg.error())
        consumed.append([msg.partition(), msg.offset(), msg.key().decode("utf-8"), msg.value().decode("utf-8")])
    out["consumed"] = consumed

    # Commit the position of every assigned partition, synchronously, then ask the coordinator what it holds.
    assignment = consumer.assignment()
    out["assignment"] = sorted(tp.partition for tp in assignment)
    committed = consumer.commit(asynchronous=False)
    out["commit_answer"] = {str(tp.partition): tp.offset for tp in committed if tp.error is None}
    out["commit_errors"] = [str(tp.error) for tp in committed if tp.error is not None]
    fetched = consumer.committed([TopicPartition(topic, tp.partition) for tp in assignment], timeout=DEADLINE_S)
    out["committed"] = {str(tp.partition): tp.offset for tp in fetched}
    consumer.close()
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
