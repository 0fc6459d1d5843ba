// A kafkajs consumer group receives every record of a topic exactly once when nothing fails.
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'kjs-group', brokers: [process.env.BOOTSTRAP], logLevel: logLevel.WARN })
const topic = 'kjs-group-topic'
const n = 60
;(async () => {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })
  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let i = 0; i < n; i++) messages.push({ value: 'r' + i })
  await producer.send({ topic, acks: -1, messages })
  const consumer = kafka.consumer({ groupId: 'kjs-group', sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const seen = new Map()
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('only ' + seen.size + ' of ' + n + ' records')), 60000)
    consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value.toString()
        seen.set(v, (seen.get(v) || 0) + 1)
        if (seen.size === n) { clearTimeout(timer); resolve() }
      },
    })
  })
  await done
  await new Promise(r => setTimeout(r, 1000))  // anything duplicated would arrive by now
  const dup = [...seen].filter(([, c]) => c !== 1)
  if (dup.length) throw new Error('received more than once: ' + JSON.stringify(dup))
  await consumer.disconnect(); await producer.disconnect(); await admin.disconnect()
  console.log('kafkajs group OK', seen.size)
})().catch(e => { console.error('FAIL:', e); process.exit(1) })
