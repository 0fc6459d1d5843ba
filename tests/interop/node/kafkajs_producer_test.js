// kafkajs against samsa: admin createTopics/listTopics and a producer with acks=-1 on one
// partition. (kafkajs's consumer always uses consumer groups: its test comes with groups.)
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
  await producer.disconnect()
  await admin.disconnect()
  console.log('kafkajs OK')
})().catch(e => { console.error('FAIL:', e); process.exit(1) })
