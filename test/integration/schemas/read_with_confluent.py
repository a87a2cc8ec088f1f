"""Reads Avro records from Kafka with confluent-kafka's own consumer and AvroDeserializer.

The schema of each key and value is fetched from the registry by the id in the message (the
Confluent wire format), so nothing here knows the connector's schemas: if this decodes what
the connector produced, any Confluent-compatible consumer can.

usage: read_with_confluent.py BROKERS REGISTRY_URL TOPIC[,TOPIC...] COUNT TIMEOUT_SECONDS
prints one JSON object per message: {"topic", "key", "value", "key_schema_id", "value_schema_id"};
timestamp-millis values (datetimes in fastavro) are printed as epoch milliseconds.
"""
import datetime
import faulthandler
import json
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(value):
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return int(aware.timestamp() * 1000)
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def topic_ready(t):
    known = t is not None and t.error is None and t.partitions
    return known and all(p.leader >= 0 for p in t.partitions.values())


def main():
    brokers, registry_url = sys.argv[1], sys.argv[2]
    topics, count, timeout = sys.argv[3].split(","), int(sys.argv[4]), float(sys.argv[5])
    # The deadline below is checked between calls; a call that blocks past it (a registry
    # request, the consumer's close) still ends the process, with every thread's stack on
    # stderr so the caller sees where it stuck.
    faulthandler.dump_traceback_later(timeout + 5, exit=True)
    registry = SchemaRegistryClient({"url": registry_url, "timeout": 10})
    deserialize = AvroDeserializer(registry)
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": f"py-interop-{uuid.uuid4()}",
        "enable.auto.commit": False,
        # topics created a moment ago: look again soon, not after the default five minutes
        "topic.metadata.refresh.interval.ms": 1000,
    })
    deadline = time.time() + timeout
    # Partitions are assigned explicitly from the beginning: no consumer-group join, so the
    # read depends on nothing but the brokers' metadata (a busy broker can take long to
    # coordinate a new group).
    partitions = []
    while not partitions:
        if time.time() > deadline:
            sys.exit(f"timed out after {timeout}s waiting for the metadata of {topics}")
        meta = consumer.list_topics(timeout=5)
        found = [meta.topics.get(t) for t in topics]
        if all(topic_ready(t) for t in found):
            partitions = [TopicPartition(t.topic, p, OFFSET_BEGINNING) for t in found for p in t.partitions]
        else:
            time.sleep(0.2)
    consumer.assign(partitions)
    progress(f"assigned {len(partitions)} partitions")
    seen = 0
    try:
        while seen < count:
            if time.time() > deadline:
                sys.exit(f"timed out after {timeout}s with {seen} of {count} messages from {topics}")
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                sys.exit(f"consumer error: {msg.error()}")
            topic = msg.topic()
            key = deserialize(msg.key(), SerializationContext(topic, MessageField.KEY))
            value = deserialize(msg.value(), SerializationContext(topic, MessageField.VALUE))
            print(json.dumps({
                "topic": topic,
                "key": plain(key),
                "value": plain(value),
                "key_schema_id": int.from_bytes(msg.key()[1:5], "big"),
                "value_schema_id": int.from_bytes(msg.value()[1:5], "big"),
            }), flush=True)
            seen += 1
            progress(f"decoded {seen} of {count} (last from {topic})")
    finally:
        progress("closing the consumer")
        consumer.close()
        progress("closed")


def progress(message):
    print(f"[read_with_confluent {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
