// kafkajs against samsa: admin createTopics/listTopics, a producer with acks=-1 on one
// partition, and a consumer of that partition (kafkajs consumers always join a group) that reads
// every record back in offset order.
const { Kafka, logLevel } = require('kafkajs')
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const kafka = new Kafka({ clientId: 'kjs', brokers: [process.env.BOOTSTRAP], logLevel: logLevel.WARN })
;(async () => {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'kjs-topic', numPartitions: 1 }] })
  if (!(await admin.listTopics()).includes('kjs-topic')) throw new Error('topic not listed')
  const producer = kafka.producer()
  await producer.connect()
  let next = 0
  for (let i = 0; i < 5; i++) {
    const r = await producer.send({ topic: 'kjs-topic', acks: -1, messages: [{ key: 'k' + i, value: 'v' + i }, { value: 'w' + i }] })
    if (r[0].errorCode !== 0 || Number(r[0].baseOffset) !== next) throw new Error('bad ack ' + JSON.stringify(r))
    next += 2
  }
  const offsets = await admin.fetchTopicOffsets('kjs-topic')
  if (offsets[0].high !== '10') throw new Error('high watermark ' + JSON.stringify(offsets))
  const consumer = kafka.consumer({ groupId: 'kjs-one-partition' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'kjs-topic', fromBeginning: true })
  const got = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('consumed only ' + got.length)), 30000)
    consumer.run({ eachMessage: async ({ partition, message }) => {
      got.push([partition, Number(message.offset), message.value.toString()])
      if (got.length === 10) { clearTimeout(timer); resolve() }
    } })
  })
  for (let i = 0; i < 10; i++) {
    const want = [0, i, (i % 2 === 0 ? 'v' : 'w') + Math.floor(i / 2)]
    if (JSON.stringify(got[i]) !== JSON.stringify(want)) throw new Error('record ' + i + ': ' + JSON.stringify(got[i]))
  }
  await consumer.disconnect()
  await producer.disconnect()
  await admin.disconnect()
  console.log('kafkajs OK')
})().catch(e => { console.error('FAIL:', e); process.exit(1) })
