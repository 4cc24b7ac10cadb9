'use strict'
// Posts the bundled sample (examples/data/touchpoints.csv) to the example service one
// touchpoint at a time, as a shop's backend would, then asks who one customer is. Prints the
// request latencies. Usage: `node examples/node/post-sample.js [http://localhost:8080]`.
const http = require('node:http')
const path = require('node:path')

const { readCsv } = require('./csv')

const base = new URL(process.argv[2] ?? 'http://localhost:8080')
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One request with a JSON body (or none); resolves with the status and the parsed reply. */
function request(method, pathname, body) {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request(
      new URL(pathname, base),
      { method, agent, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {} },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

async function main() {
  const rows = readCsv(path.join(__dirname, '..', 'data', 'touchpoints.csv'))
  const times = []
  let merges = 0
  let failed = 0
  for (const row of rows) {
    const started = process.hrtime.bigint()
    const { status, body } = await request('POST', '/touchpoints', row)
    times.push(Number(process.hrtime.bigint() - started) / 1e3)
    if (status !== 200) failed++
    else merges += body.changes.filter((c) => c.change === 'merged').length
  }
  times.sort((a, b) => a - b)
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(0)
  console.log(`posted ${rows.length} touchpoints one at a time: ${failed} refused, ${merges} merges`)
  console.log(`round trip over HTTP: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`)
  const phone = rows.find((r) => r.phone)?.phone
  const { body: profile } = await request('GET', `/lookup?phone=${encodeURIComponent(phone)}`)
  console.log(`lookup phone ${phone}: ${profile.profileId}, ${profile.touchpointCount} touchpoints on ${profile.channels.join(', ')}`)
  const { body: feed } = await request('GET', '/changes?since=0')
  console.log(`change feed: ${feed.length} changes`)
  agent.destroy()
}

main().catch((err) => {
  console.error(`could not post to ${base.href}: ${err.message} (is the server running? node examples/node/server.js)`)
  process.exit(1)
})
