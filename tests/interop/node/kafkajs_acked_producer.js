// Usage: node kafkajs_acked_producer.js BOOTSTRAP TOPIC PARTITION STOP_FILE OUT_FILE
// kafkajs, unmodified, produces a record "v<i>" every 50 ms until STOP_FILE exists (at most 300 s)
// with acks=-1 to
// one partition (one send at a time, kafkajs's own retries through a leader failover), and writes
// each acknowledged record as "<offset> <value> <ack_ms> <sent_ms>" to OUT_FILE. A send that fails after
// kafkajs's retries is counted, not written: only what the broker acknowledged is checked.
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const [bootstrap, topic, partitionArg, stopFile, out] = process.argv.slice(2)
const partition = Number(partitionArg)
const kafka = new Kafka({ clientId: 'kjs-acked', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING,
  retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } })
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
;(async () => {
  const producer = kafka.producer()
  await producer.connect()
  const end = Date.now() + 300 * 1000
  const lines = []
  let failed = 0
  for (let i = 0; Date.now() < end && !fs.existsSync(stopFile); i++) {
    const sent = Date.now()
    try {
      const r = await producer.send({ topic, acks: -1, timeout: 30000, messages: [{ value: 'v' + i, partition }] })
      lines.push(`${r[0].baseOffset} v${i} ${Date.now()} ${sent}`)
    } catch (e) {
      failed++
      console.error(`not acknowledged: v${i}: ${e.message}`)
    }
    await sleep(50)
  }
  await producer.disconnect()
  fs.writeFileSync(out, lines.map(l => l + '\n').join(''))
  console.log(`kafkajs: ${lines.length} acknowledged, ${failed} failed`)
})().catch(e => { console.error('FAIL:', e); process.exit(1) })
