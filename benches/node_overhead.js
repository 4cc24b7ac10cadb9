'use strict'
// What the Node binding adds, on one large generated input (release build of the addon):
//   node --max-old-space-size=8192 benches/node_overhead.js FILE.csv [ARRIVALS]
// FILE.csv from `cargo run --release --example generate -- 310000 DIR` (about a million
// touchpoints). Prints, for the batch path, ingest + resolve + assignments from a file path and
// from JavaScript row objects (compare with `cargo bench --bench frame_ingest -- FILE`, the
// core alone); then `ingestOne` latency for ARRIVALS (default 100,000) held-back touchpoints
// arriving one at a time on an engine holding the rest, and `lookup` latency.
const path = require('node:path')

const ot = require('../bindings-node')
const { readCsv } = require('../examples/node/csv')

const file = process.argv[2]
const arrivals = Number(process.argv[3] ?? 100000)
if (!file) {
  console.error('usage: node --max-old-space-size=8192 benches/node_overhead.js FILE.csv [ARRIVALS]')
  process.exit(2)
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9
const percentile = (sorted, p) => sorted[Math.round((sorted.length - 1) * p)]

async function batch(label, data) {
  const start = process.hrtime.bigint()
  const engine = new ot.Engine()
  await engine.ingest(data)
  const ingested = seconds(start)
  const report = await engine.resolve()
  const resolved = seconds(start)
  const assignments = await engine.assignments()
  const total = seconds(start)
  console.log(`node ${label}: ${report.touchpoints} touchpoints -> ${report.profiles} profiles, ${assignments.length} assignments: ${total.toFixed(2)} s (ingest ${ingested.toFixed(2)}, resolve ${(resolved - ingested).toFixed(2)}, assignments ${(total - resolved).toFixed(2)})`)
}

async function main() {
  await batch('from a file path  ', path.resolve(file))
  const started = process.hrtime.bigint()
  const rows = readCsv(file)
  console.log(`(reading ${rows.length} rows into JavaScript objects: ${seconds(started).toFixed(2)} s, not counted)`)
  await batch('from row objects  ', rows)

  // Live: hold back an evenly spread sample, which arrives later one at a time.
  const step = Math.max(1, Math.floor(rows.length / Math.max(1, arrivals)))
  const held = []
  const later = []
  rows.forEach((row, i) => (i % step === step - 1 && later.length < arrivals ? later : held).push(row))
  const engine = new ot.Engine()
  await engine.ingest(held)
  let start = process.hrtime.bigint()
  await engine.goLive()
  console.log(`went live on ${held.length} touchpoints: ${seconds(start).toFixed(1)} s`)
  // ingestOne takes typed values (a CSV gives text): amounts as numbers.
  for (const row of later) if (row.amount !== undefined) row.amount = Number(row.amount)
  const times = new Float64Array(later.length)
  later.forEach((row, i) => {
    const t = process.hrtime.bigint()
    engine.ingestOne(row)
    times[i] = Number(process.hrtime.bigint() - t) / 1e3
  })
  times.sort()
  const us = (p) => percentile(times, p).toFixed(0)
  console.log(`ingestOne x ${later.length}: p50 ${us(0.5)} µs, p90 ${us(0.9)} µs, p99 ${us(0.99)} µs, max ${us(1)} µs`)

  const phones = later.filter((r) => r.phone).map((r) => r.phone)
  engine.lookup({ phone: phones[0] })
  const lookups = new Float64Array(phones.length)
  phones.forEach((phone, i) => {
    const t = process.hrtime.bigint()
    engine.lookup({ phone })
    lookups[i] = Number(process.hrtime.bigint() - t) / 1e3
  })
  lookups.sort()
  console.log(`lookup x ${lookups.length}: p50 ${percentile(lookups, 0.5).toFixed(1)} µs, p99 ${percentile(lookups, 0.99).toFixed(1)} µs`)

  // The binding's own share of an ingestOne: the same touchpoint converted and refused as a
  // duplicate id (the core checks the id first), i.e. conversion in and error out.
  start = process.hrtime.bigint()
  let refused = 0
  for (const row of later.slice(0, 10000)) {
    try {
      engine.ingestOne(row)
    } catch {
      refused++
    }
  }
  console.log(`conversion round trip (duplicate refused) x ${refused}: ${((seconds(start) * 1e6) / refused).toFixed(1)} µs each`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
