// Drives kafkajs against a silo's Kafka listener; prints one JSON line with what it saw.
// Usage: node kafkajs-client.js <mode> <brokers> <topic> [group]
//   produce-consume: keyed gzip produce, then a consumer group reads everything back.
//   group-rebalance: two consumers in one group share the topic; one leaves; the other takes every partition.
//   sasl-produce-consume: as SASL_USERNAME over SASL (SASL_MECHANISM, TLS when SSL_CA names the CA file): five
//     records produced, then read back by a consumer group.
//   sasl-connect: connects as SASL_USERNAME; prints the error's name when authentication fails.
'use strict';
const path = require('path');
const modules = process.env.KAFKAJS_MODULES;
const { Kafka, CompressionTypes, logLevel } = require(modules ? path.join(modules, 'kafkajs') : 'kafkajs');

const [mode, brokers, topic, group] = process.argv.slice(2);
const fs = require('fs');
const security = process.env.SASL_MECHANISM
  ? {
    sasl: { mechanism: process.env.SASL_MECHANISM, username: process.env.SASL_USERNAME, password: process.env.SASL_PASSWORD },
    ssl: process.env.SSL_CA ? { ca: [fs.readFileSync(process.env.SSL_CA, 'utf8')] } : false,
  }
  : {};
const kafka = new Kafka({
  clientId: 'kafkajs-test', brokers: brokers.split(','), logLevel: mode === 'sasl-connect' ? logLevel.NOTHING : logLevel.ERROR,
  retry: { retries: mode === 'sasl-connect' ? 0 : 10 }, ...security,
});
const deadline = Date.now() + 60_000;

async function until(what, check) {
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function produceConsume() {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = [];
  for (let i = 0; i < 200; i++) sent.push({ key: `key-${i % 10}`, value: `value-${i}`, headers: { n: `${i}` } });
  const results = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: sent });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = [];
  await consumer.run({ eachMessage: async ({ partition, message }) => {
    received.push({ partition, offset: message.offset, key: message.key.toString(), value: message.value.toString(), n: message.headers.n.toString() });
  } });
  await until('every record consumed', () => received.length >= sent.length);
  await consumer.commitOffsets(received.map((r) => ({ topic, partition: r.partition, offset: `${Number(r.offset) + 1}` })));
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  await admin.disconnect();
  return { produced: results.length, received, committed };
}

async function groupRebalance() {
  const assignments = { a: [], b: [] };
  const consumers = {};
  for (const name of ['a', 'b']) {
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 300, rebalanceTimeout: 10_000 });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assignments[name] = (e.payload.memberAssignment[topic] || []).slice().sort();
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    consumers[name] = consumer;
  }
  await until('both members assigned', () => assignments.a.length > 0 && assignments.b.length > 0
    && assignments.a.length + assignments.b.length === Number(process.env.PARTITIONS || 3));
  const both = { a: assignments.a, b: assignments.b };
  assignments.a = [];
  await consumers.b.disconnect();
  await until('the remaining member owns every partition', () => assignments.a.length === Number(process.env.PARTITIONS || 3));
  const after = assignments.a;
  await consumers.a.disconnect();
  return { both, after };
}

async function saslProduceConsume() {
  const producer = kafka.producer();
  await producer.connect();
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push({ key: 'k', value: `secret-${i}` });
  await producer.send({ topic, acks: -1, messages: sent });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = [];
  await consumer.run({ eachMessage: async ({ message }) => { received.push(message.value.toString()); } });
  await until('every record consumed', () => received.length >= sent.length);
  await consumer.disconnect();
  return { received };
}

async function saslConnect() {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    await admin.disconnect();
    return { error: null };
  } catch (e) {
    return { error: e.name };
  }
}

const modes = {
  'produce-consume': produceConsume,
  'group-rebalance': groupRebalance,
  'sasl-produce-consume': saslProduceConsume,
  'sasl-connect': saslConnect,
};

(async () => {
  const result = await modes[mode]();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
})().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
