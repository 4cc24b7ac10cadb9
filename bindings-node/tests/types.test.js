'use strict'
// The declarations against what the package really returns: real outputs are written as
// object literals typed with the declared types, and tsc checks them (with the README usage in
// usage.ts). An excess or missing field fails, so types.d.ts cannot drift from the core.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const { ot, SAMPLE, VECTORS, load, sampleRows } = require('./helpers')

/** Keeps arrays and maps short so the generated file stays small (types need one of each). */
function trim(value) {
  if (Array.isArray(value)) return value.slice(0, 3).map(trim)
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
    return Object.fromEntries(entries.slice(0, 40).map(([k, v]) => [k, trim(v)]))
  }
  return value
}

async function outputs() {
  const engine = new ot.Engine({ defaultRegion: 'VN' })
  const report = await engine.ingest([...sampleRows().slice(0, 50), { touchpointId: 'bad', timestamp: 'never' }], { onError: 'skip' })
  const full = new ot.Engine({ defaultRegion: 'VN' })
  await full.ingest(SAMPLE)
  const resolved = await full.resolve()
  const profiles = await full.profiles()
  const big = profiles.reduce((a, b) => (b.touchpointCount > a.touchpointCount ? b : a))
  const ids = big.touchpointIds
  const explanation = full.explain(ids[0], ids[ids.length - 1])
  const live = load(path.join(VECTORS, 'live', 'merge_and_split.json'))
  const liveEngine = new ot.Engine(live.config)
  const outcomes = live.steps.map((s) => liveEngine.ingestOne(s.touchpoint))
  const refusedStep = liveEngine.explain('zalo-1', 'crm-0')
  const forgotten = await liveEngine.forget({ email: 'an.nguyen@gmail.com' })
  const linker = await ot.Linker.create(
    { comparisons: [{ column: 'name', levels: ['exact', { jaro_winkler: 0.8 }] }], blockingRules: [['city']], training: { uSamplePairs: 100 } },
    [[1, 2, 3, 4, 5, 6].map((i) => ({ unique_id: String(i), name: i % 2 ? 'an' : 'anh', city: 'hn' }))],
  )
  const twin = load(path.join(VECTORS, 'twin', 'omnichannel_customers.json'))
  const twinEngine = new ot.Engine(twin.config)
  await twinEngine.ingest(twin.touchpoints)
  const training = await linker.train()
  const pairs = await linker.predict()
  return {
    IngestReport: [report],
    IngestOutcome: outcomes,
    'Array<Change>': [liveEngine.changes()],
    ForgetReport: [forgotten],
    ResolveReport: [resolved],
    'Array<Assignment>': [(await full.assignments()).slice(0, 3)],
    Profile: [big, full.lookup({ customerId: 'S1282', scope: 'shopee' }), twinEngine.profileOf('an-1'), twinEngine.profileOf('chi-1')].filter(Boolean),
    RfmScale: [twinEngine.rfmScale()],
    OmnichannelReport: [await twinEngine.report(), await full.report()],
    SimulationReport: [await full.simulate({ identifiers: { phone: { enabled: false } } })],
    Explanation: [explanation, refusedStep],
    StoredTouchpoint: [full.touchpoint(ids[0])],
    Model: [full.model()],
    Config: [full.config(), twinEngine.config()],
    TrainingReport: [training],
    'Array<ScoredPair>': [pairs],
    'Array<ClusterAssignment>': [await linker.cluster()],
    PairExplanation: [linker.explain('1', '3')],
    NormalizedEmail: [ot.normalizeEmail('An@Gmail.com')],
    NormalizedPhone: [ot.normalizePhone('0912 345 678'), ot.normalizePhone('84******123'), ot.normalizePhone('12')],
    NormalizedName: [ot.normalizeName('Nguyễn Văn An')],
  }
}

test('the declared types fit what the package returns, and the README usage compiles', async () => {
  const dir = path.join(__dirname, '.generated')
  fs.mkdirSync(dir, { recursive: true })
  const lines = ["import type * as ot from '../..'", '']
  let n = 0
  for (const [type, values] of Object.entries(await outputs())) {
    assert.ok(values.length > 0, type)
    const qualified = type.replace(/([A-Z]\w+)/g, 'ot.$1').replace('ot.Array', 'Array')
    for (const value of values) {
      assert.notEqual(value, null, type)
      lines.push(`export const output${n++}: ${qualified} = ${JSON.stringify(trim(value))}`)
    }
  }
  fs.writeFileSync(path.join(dir, 'outputs.ts'), lines.join('\n') + '\n')
  const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc')
  assert.ok(fs.existsSync(tsc), 'typescript is installed (npm ci in bindings-node)')
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(run.status, 0, `tsc found type errors:\n${run.stdout}${run.stderr}`)
})
