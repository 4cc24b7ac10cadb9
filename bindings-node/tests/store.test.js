// The durable store from Node as users live with it: opened again and again with the default
// config (matching on), two real processes on one store, readers, closing, checking and
// rebuilding.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const readline = require('node:readline')

const { ot, SAMPLE, tempDir } = require('./helpers')

const emailAndCookie = (i) => ({ touchpointId: `t${i}`, email: `buyer${i % 7}@shop.vn`, cookieId: `ck-${i}` })

test('a default store fed identifiers only opens again and again', async () => {
  const file = path.join(tempDir(), 'cdp.db')
  let expected = null
  for (let round = 0; round < 6; round++) {
    const engine = await ot.Engine.open(file, null, { create: true })
    assert.deepEqual(engine.warnings(), [], `open number ${round + 1}`)
    if (expected) assert.deepEqual(engine.changes(), expected.feed)
    for (let i = round * 2; i < round * 2 + 2; i++) engine.ingestOne(emailAndCookie(i))
    expected = { feed: engine.changes() }
    await engine.close()
  }
  const reader = await ot.Engine.openReadOnly(file)
  assert.equal(reader.len(), 12)
  assert.ok(reader.isReadOnly())
  const check = await reader.check()
  assert.deepEqual(check.problems, [])
  assert.equal(check.touchpoints, 12)
})

// A writer in another process: opens the store, then ingests `n` touchpoints for each line `n`.
const WRITER = `
const ot = require(${JSON.stringify(path.resolve(__dirname, '..'))})
const readline = require('node:readline')
ot.Engine.open(process.argv[1], null, { create: true }).then((engine) => {
  console.log('open')
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const start = engine.len()
    for (let i = start; i < start + Number(line); i++) engine.ingestOne({ touchpointId: 'w' + i, email: 'w' + (i % 5) + '@x.vn' })
    console.log('held ' + engine.len())
  })
})
`

test('two processes, one store', async () => {
  const file = path.join(tempDir(), 'cdp.db')
  const writer = spawn(process.execPath, ['-e', WRITER, file], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: writer.stdout })[Symbol.asyncIterator]()
  const next = async () => (await lines.next()).value
  try {
    assert.equal(await next(), 'open')
    writer.stdin.write('20\n')
    assert.equal(await next(), 'held 20')
    await assert.rejects(ot.Engine.open(file), (e) => e instanceof ot.IoError && e.message.includes(`in use by another process (process ${writer.pid}`))
    const reader = await ot.Engine.openReadOnly(file)
    assert.equal(reader.len(), 20)
    assert.throws(() => reader.ingestOne({ touchpointId: 'r1', email: 'r@x.vn' }), /opened read-only/)
    writer.stdin.write('5\n')
    assert.equal(await next(), 'held 25')
    assert.equal(reader.len(), 20)
    assert.equal((await ot.Engine.openReadOnly(file)).len(), 25)
  } finally {
    writer.stdin.end()
  }
  const code = await new Promise((resolve) => writer.on('exit', resolve))
  assert.equal(code, 0)
  const engine = await ot.Engine.open(file)
  assert.equal(engine.len(), 25)
  assert.deepEqual((await engine.check()).problems, [])
  await engine.close()
})

test('close, check, rebuild, retrain, compact', async () => {
  const file = path.join(tempDir(), 'cdp.db')
  const engine = await ot.Engine.open(file, null, { create: true })
  assert.equal(engine.storePath(), file)
  assert.equal(engine.isReadOnly(), false)
  await engine.ingest(SAMPLE)
  assert.ok(engine.model())
  await engine.retrain()
  await engine.compact()
  const rebuilt = await engine.rebuild()
  assert.deepEqual(rebuilt.problems, [])
  assert.deepEqual(rebuilt.rebuiltOnOpen, [])
  await engine.close()
  assert.throws(() => engine.ingestOne(emailAndCookie(99)), ot.IoError)
  assert.ok(engine.len() > 3000, 'a closed engine still reads')
  assert.equal(new ot.Engine().storePath(), null)
})
