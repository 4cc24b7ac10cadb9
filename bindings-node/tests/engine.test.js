'use strict'
// `Engine` from Node: the same verbs and results as Rust and Python, heavy calls off the event
// loop, errors as classes with a code and the row and field.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { ot, SAMPLE, tempDir, sampleRows } = require('./helpers')

/** Profiles as sets of touchpoints, comparable across engines. */
async function groups(engine) {
  const byProfile = new Map()
  for (const { touchpointId, profileId } of await engine.assignments()) {
    byProfile.set(profileId, [...(byProfile.get(profileId) ?? []), touchpointId])
  }
  return [...byProfile.values()].map((g) => g.sort().join(' ')).sort()
}

test('rows, a file and the one-shot resolve give the same profiles', async () => {
  const fromFile = new ot.Engine()
  const report = await fromFile.ingest(SAMPLE)
  assert.equal(report.accepted, 3226)
  assert.deepEqual(report.rejected, [])

  const fromRows = new ot.Engine()
  await fromRows.ingest(sampleRows())
  assert.deepEqual(await groups(fromRows), await groups(fromFile))

  const once = await ot.resolve(SAMPLE)
  assert.equal(once.length, 3226)
  assert.deepEqual(Object.keys(once[0]).sort(), ['profileId', 'touchpointId'])
  const ids = new Map(once.map((a) => [a.touchpointId, a.profileId]))
  for (const a of await fromFile.assignments()) assert.equal(ids.get(a.touchpointId), a.profileId)

  const resolved = await fromFile.resolve()
  assert.equal(resolved.touchpoints, 3226)
  assert.equal((await fromFile.profiles()).length, resolved.profiles)
  assert.equal(fromFile.len(), 3226)
  assert.equal(fromFile.isEmpty(), false)
})

test('heavy calls run off the event loop: a timer keeps ticking while they work', async () => {
  const rows = sampleRows()
  const ticks = []
  const timer = setInterval(() => ticks.push(performance.now()), 1)
  const started = performance.now()
  // Three engines ingesting, resolving and listing profiles at once, on libuv's worker threads.
  const engines = [new ot.Engine(), new ot.Engine(), new ot.Engine()]
  await Promise.all(engines.map(async (e) => { await e.ingest(rows); await e.resolve(); await e.profiles() }))
  const finished = performance.now()
  clearInterval(timer)
  // Had the work blocked the loop, the timer could not have run while it went on: it would
  // tick only before and after. Ask for ticks spread through the work, with no gap longer than
  // half of it (a loaded machine may delay single ticks).
  const during = [started, ...ticks.filter((t) => t < finished), finished]
  const longestGap = Math.max(...during.slice(1).map((t, i) => t - during[i]))
  assert.ok(during.length >= 5, `the timer ran ${during.length - 2} times in ${(finished - started).toFixed(0)} ms`)
  assert.ok(longestGap < (finished - started) / 2, `the loop was blocked for ${longestGap.toFixed(0)} of ${(finished - started).toFixed(0)} ms`)
})

test('a bad row is an InvalidInputError with the row and column; skip mode reports it instead', async () => {
  const rows = [
    { touchpointId: 't1', email: 'an@x.vn' },
    { touchpointId: 't2', email: 'binh@x.vn' },
    { touchpointId: 't3', email: 'chau@x.vn', timestamp: 'yesterday' },
  ]
  const engine = new ot.Engine()
  await assert.rejects(engine.ingest(rows), (err) => {
    assert.ok(err instanceof ot.InvalidInputError)
    assert.ok(err instanceof ot.OmnitwinError)
    assert.equal(err.code, 'OMNITWIN_INVALID_INPUT')
    assert.equal(err.row, 3)
    assert.equal(err.column, 'timestamp')
    assert.match(err.message, /yesterday/)
    return true
  })
  assert.equal(engine.len(), 0, 'all or nothing')
  const report = await engine.ingest(rows, { onError: 'skip' })
  assert.equal(report.accepted, 2)
  assert.equal(report.rejected.length, 1)
  assert.equal(report.rejected[0].row, 3)
  assert.equal(report.rejected[0].touchpointId, 't3')
})

test('wrong arguments are TypeErrors; bad configs are ConfigErrors naming the field', async () => {
  assert.throws(() => new ot.Engine({ timezone: 'ICT' }), (err) => {
    assert.ok(err instanceof ot.ConfigError)
    assert.equal(err.code, 'OMNITWIN_CONFIG')
    assert.match(err.message, /timezone/)
    return true
  })
  assert.throws(() => new ot.Engine({ noSuchField: 1 }), ot.ConfigError)
  const engine = new ot.Engine()
  assert.throws(() => engine.lookup({}), (err) => err instanceof TypeError && err.code === 'OMNITWIN_INVALID_ARGUMENT')
  assert.throws(() => engine.lookup({ email: 'a@x.vn', phone: '0912345678' }), TypeError)
  assert.equal(engine.lookup({ fax: '123' }), null, 'a kind nobody declared holds nobody')
  await assert.rejects(async () => engine.ingest(42), TypeError)
  await assert.rejects(async () => engine.ingest([1, 2]), TypeError)
  await assert.rejects(engine.ingest('/no/such/file.csv'), ot.IoError)
  await assert.rejects(engine.ingest('notes.txt.unknown'), ot.OmnitwinError)
})

test('a panic while writing never leaves a broken engine', async () => {
  // A durable engine is reopened from its store: everything acknowledged, nothing half-done.
  const file = path.join(tempDir(), 'cdp.db')
  const engine = await ot.Engine.open(file, null, { create: true })
  engine.ingestOne({ touchpointId: 'a', email: 'an@x.vn' })
  assert.throws(() => engine._panicWhileWritingForTests(), (e) => e instanceof ot.InternalError && /on purpose/.test(e.message))
  assert.equal(engine.len(), 1)
  engine.ingestOne({ touchpointId: 'b', email: 'an@x.vn' })
  assert.equal(engine.profileOf('b').profileId, engine.profileOf('a').profileId)
  await engine.close()
  // An engine in memory may be half-changed: every later call says so and names what to do.
  const memory = new ot.Engine()
  memory.ingestOne({ touchpointId: 'a', email: 'an@x.vn' })
  assert.throws(() => memory._panicWhileWritingForTests(), ot.InternalError)
  for (const call of [() => memory.len(), () => memory.profileOf('a'), () => memory.ingestOne({ touchpointId: 'c' })]) {
    assert.throws(call, (e) => e instanceof ot.InternalError && /create a new Engine/.test(e.message))
  }
  await assert.rejects(memory.assignments(), ot.InternalError)
})

test('reopen shows a reader what was committed since', async () => {
  const file = path.join(tempDir(), 'cdp.db')
  const writer = await ot.Engine.open(file, null, { create: true })
  const reader = await ot.Engine.openReadOnly(file)
  writer.ingestOne({ touchpointId: 'a', email: 'an@x.vn' })
  assert.equal(reader.len(), 0)
  await reader.reopen()
  assert.equal(reader.len(), 1)
  assert.ok(reader.isReadOnly())
  await assert.rejects(new ot.Engine().reopen(), (e) => e instanceof ot.IoError && /nothing to reopen/.test(e.message))
  await writer.close()
})

test('a panic in the core is an InternalError, never a crashed process', async () => {
  assert.throws(() => ot._panicForTests(), (err) => err instanceof ot.InternalError && err.code === 'OMNITWIN_INTERNAL')
  await assert.rejects(ot._panicInJobForTests(), ot.InternalError)
  // The process goes on working.
  assert.equal(ot.normalizeGender('Nữ'), 'female')
})

test('ingestOne resolves at once, merges keep the older id, lookup normalizes like any input', () => {
  const engine = new ot.Engine({ defaultRegion: 'VN', timezone: '+07:00', matching: { enabled: false } })
  const first = engine.ingestOne({ touchpointId: 't1', channel: 'web', email: 'An@Gmail.com', timestamp: new Date('2024-01-01T00:00:00Z') })
  assert.equal(first.changes[0].change, 'created')
  const second = engine.ingestOne({ touchpointId: 't2', channel: 'store', phone: '0912 345 678', timestamp: '2024-01-02 08:00' })
  const third = engine.ingestOne({ touchpointId: 't3', email: 'an@gmail.com', phone: '+84912345678', timestamp: 1704240000000, attributes: { tier: 'gold' } })
  assert.equal(third.profileId, first.profileId)
  assert.deepEqual(third.changes.map((c) => [c.change, c.profileId, c.into]), [['merged', second.profileId, first.profileId]])
  // Timestamps as a Date, text in the config's timezone and epoch milliseconds.
  assert.equal(engine.touchpoint('t1').timestamp, 1704067200000)
  assert.equal(engine.touchpoint('t2').timestamp, Date.parse('2024-01-02T01:00:00Z'))
  assert.equal(engine.profile(second.profileId).profileId, first.profileId, 'a merged-away id leads to the survivor')
  const profile = engine.lookup({ phone: '0912.345.678' })
  assert.equal(profile.touchpointCount, 3)
  assert.equal(profile.attributes.tier.value, 'gold')
  assert.equal(engine.lookup({ email: 'nobody@x.vn' }), null)
  assert.equal(engine.profileOf('t2').profileId, first.profileId)
  assert.equal(engine.profileOf('nope'), null)
  assert.equal(engine.touchpoint('nope'), null)
  assert.deepEqual(engine.changes().map((c) => c.seq), [1, 2, 3])
  const why = engine.explain('t1', 't2')
  assert.equal(why.sameProfile, true)
  assert.equal(why.path.length, 2)
  assert.throws(() => engine.explain('t1', 'nope'), ot.NotFoundError)
  assert.match(engine.profileHtml(profile), /<[a-z]/)
  assert.match(ot.profileHtml(profile), /0912/)
  assert.match(ot.explanationHtml(why), /t1/)
})

test('history: profile and profileOf as of a Date, ISO text or milliseconds', () => {
  const engine = new ot.Engine({ matching: { enabled: false }, timezone: '+07:00' })
  const a = engine.ingestOne({ touchpointId: 'a', email: 'an@x.vn' })
  const b = engine.ingestOne({ touchpointId: 'b', phone: '0912 345 678' })
  const before = engine.acknowledgedAt('b')
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3)
  engine.ingestOne({ touchpointId: 'c', email: 'an@x.vn', phone: '0912345678' })
  assert.equal(engine.profile(b.profileId).profileId, a.profileId, 'merged now')
  for (const asOf of [before, new Date(before), new Date(before).toISOString()]) {
    const then = engine.profile(b.profileId, { asOf })
    assert.equal(then.profileId, b.profileId, String(asOf))
    assert.deepEqual(then.touchpointIds, ['b'])
    assert.equal(engine.profileOf('c', { asOf }), null)
    assert.deepEqual(engine.profileOf('b', { asOf }).touchpointIds, ['b'])
  }
  assert.equal(engine.profileOf('a', { asOf: before - 10000 }), null)
  assert.equal(engine.profileOf('a', {}).profileId, a.profileId, 'no asOf: now')
  assert.equal(engine.acknowledgedAt('nobody'), null)
  assert.throws(() => engine.profile('P0', { asOf: 'last tuesday' }), (e) => e instanceof ot.InvalidInputError && e.column === 'asOf')
  assert.throws(() => engine.profile('P0', { asOf: [1] }), (e) => e instanceof TypeError && e.code === 'OMNITWIN_INVALID_ARGUMENT')
  assert.throws(() => engine.profile('P0', { asof: 1 }), (e) => e instanceof TypeError && /unknown option/.test(e.message))
})

test('ingestOne errors name the field and change nothing', () => {
  const engine = new ot.Engine()
  engine.ingestOne({ touchpointId: 't1', email: 'an@x.vn' })
  assert.throws(() => engine.ingestOne({ touchpointId: 't2', amount: 'lots' }), (err) => {
    assert.ok(err instanceof ot.InvalidInputError)
    assert.equal(err.column, 'amount')
    return true
  })
  assert.throws(() => engine.ingestOne({ touchpointId: 't1', email: 'again@x.vn' }), ot.InvalidInputError)
  assert.throws(() => engine.ingestOne({ touchpointId: 't3', loyaltyTier: 'gold' }), /attributes|loyaltyTier/)
  assert.equal(engine.len(), 1)
  assert.equal(engine.changes().length, 1)
})

test('config and model round-trip; a saved model gives the same profiles', async () => {
  const dir = tempDir()
  const engine = new ot.Engine({ defaultRegion: 'VN' })
  const config = engine.config()
  assert.equal(config.defaultRegion, 'VN')
  assert.ok(config.matching.blockingRules.length > 0)
  assert.deepEqual(new ot.Engine(config).config(), config)
  const file = path.join(dir, 'config.json')
  fs.writeFileSync(file, JSON.stringify(config))
  assert.deepEqual(ot.Engine.fromJson(file).config(), config)
  assert.deepEqual(engine.identifierKinds().slice(0, 2), ['customer_id', 'loyalty_id'])

  await engine.ingest(SAMPLE)
  const model = engine.model()
  assert.ok(model.prior > 0 && model.prior < 1)
  const again = new ot.Engine({ defaultRegion: 'VN' })
  again.setModel(JSON.parse(JSON.stringify(model)))
  await again.ingest(SAMPLE)
  assert.equal((await again.resolve()).matching.model, 'given')
  assert.deepEqual(await groups(again), await groups(engine))
  assert.throws(() => again.setModel({ ...model, prior: 2 }), ot.OmnitwinError)
})

test('writeProfiles writes Parquet and CSV files', async () => {
  const dir = tempDir()
  const engine = new ot.Engine()
  await engine.ingest(SAMPLE)
  await engine.writeProfiles(path.join(dir, 'profiles.parquet'))
  await engine.writeProfiles(path.join(dir, 'profiles.csv'), 'csv')
  assert.equal(fs.readFileSync(path.join(dir, 'profiles.parquet')).subarray(0, 4).toString(), 'PAR1')
  const csv = fs.readFileSync(path.join(dir, 'profiles.csv'), 'utf8').split('\n')
  assert.match(csv[0], /profile_id/)
  assert.equal(csv.filter(Boolean).length - 1, (await engine.resolve()).profiles)
  await assert.rejects(engine.writeProfiles(path.join(dir, 'x.xlsx'), 'xlsx'), ot.ConfigError)
})

test('a durable store reopens where it stopped', async () => {
  const file = path.join(tempDir(), 'cdp.db')
  const engine = await ot.Engine.open(file, { matching: { enabled: false } }, { create: true })
  assert.ok(engine instanceof ot.Engine)
  const a = engine.ingestOne({ touchpointId: 't1', email: 'an@x.vn' })
  engine.ingestOne({ touchpointId: 't2', email: 'an@x.vn', phone: '0912345678' })
  await engine.ingest([{ touchpointId: 't3', phone: '0912 345 678' }])
  const feed = engine.changes()
  // One writer at a time: a second engine on the store is refused until the first closes.
  await assert.rejects(ot.Engine.open(file), /in use by another process/)
  await engine.close()
  assert.throws(() => engine.ingestOne({ touchpointId: 't4', email: 'x@x.vn' }), /closed/)
  assert.equal(engine.len(), 3, 'a closed engine still reads')
  const reopened = await ot.Engine.open(file)
  assert.equal(reopened.len(), 3)
  assert.equal(reopened.profileOf('t3').profileId, a.profileId)
  assert.deepEqual(reopened.changes(), feed)
  await assert.rejects(ot.Engine.open(file, { matching: { enabled: true } }), ot.OmnitwinError)
  await assert.rejects(ot.Engine.open(path.join(tempDir(), 'no', 'such', 'dir', 'x.db'), null, { create: true }), ot.IoError)
})

test('open never creates a store unless asked', async () => {
  // A mistyped path is an error naming how to create a store, not a new empty store.
  const file = path.join(tempDir(), 'cdp.db')
  const missing = [
    () => ot.Engine.open(file),
    () => ot.Engine.open(file, { timezone: '+07:00' }),
    () => ot.Engine.open(file, null, { create: false }),
    () => ot.Engine.openExisting(file),
    () => ot.Engine.openReadOnly(file),
  ]
  for (const open of missing) {
    await assert.rejects(open(), (e) => e instanceof ot.IoError && /no such store.*\{ create: true \}/.test(e.message))
    assert.equal(fs.existsSync(file), false)
  }
  const created = await ot.Engine.openOrCreate(file, { timezone: '+07:00' })
  created.ingestOne({ touchpointId: 'a', email: 'an@x.vn' })
  await created.close()
  const existing = await ot.Engine.openExisting(file)
  assert.equal(existing.config().timezone, '+07:00')
  await existing.close()
  const again = await ot.Engine.open(file, null, { create: true }) // opens an existing store as it is
  assert.equal(again.len(), 1)
  await again.close()
})

test('forget a person by identifier or profile, with suppression', async () => {
  const engine = new ot.Engine({ matching: { enabled: false } })
  engine.ingestOne({ touchpointId: 't1', email: 'an@x.vn', phone: '0912345678' })
  engine.ingestOne({ touchpointId: 't2', phone: '0912345678' })
  const binh = engine.ingestOne({ touchpointId: 't3', email: 'binh@x.vn' })
  const report = await engine.forget({ email: 'An@X.vn' }, { suppress: true })
  assert.deepEqual(report.touchpoints.sort(), ['t1', 't2'])
  assert.equal(report.changes[0].change, 'forgotten')
  assert.equal(engine.lookup({ phone: '0912345678' }), null)
  assert.throws(() => engine.ingestOne({ touchpointId: 't4', email: 'an@x.vn' }), ot.OmnitwinError)
  const byProfile = await engine.forget({ profileId: binh.profileId })
  assert.deepEqual(byProfile.touchpoints, ['t3'])
  assert.equal(engine.len(), 0)
  await assert.rejects(async () => engine.forget({ profileId: 'P1', email: 'x@y.vn' }), TypeError)
})

test('goLive starts the change feed with every profile created', async () => {
  const engine = new ot.Engine({ matching: { enabled: false } })
  await engine.ingest([{ touchpointId: 't1', email: 'an@x.vn' }, { touchpointId: 't2', email: 'binh@x.vn' }])
  assert.deepEqual(engine.changes(), [])
  await engine.goLive()
  assert.deepEqual(engine.changes().map((c) => c.change), ['created', 'created'])
})

test('results larger than napi’s one-million-value JSON budget still convert', async () => {
  // 350,000 assignments are 1,050,000 values: napi's own conversion refuses that many at once.
  const rows = Array.from({ length: 350000 }, (_, i) => ({ touchpointId: `t${i}`, email: `u${i % 1000}@x.vn` }))
  const engine = new ot.Engine({ matching: { enabled: false } })
  await engine.ingest(rows)
  const assignments = await engine.assignments()
  assert.equal(assignments.length, 350000)
  assert.equal(assignments[1000].profileId, assignments[0].profileId)
  // In test builds assignments cross in texts of about 64 characters: every one, in order.
  assignments.forEach((a, i) => assert.equal(a.touchpointId, `t${i}`))
  assert.deepEqual(Object.keys(assignments[349999]), ['touchpointId', 'profileId'])
})

test('a big array of rows crosses in slices, the event loop turning between them', async () => {
  const rows = Array.from({ length: 35000 }, (_, i) => ({ touchpointId: `t${i}`, email: `u${i % 100}@x.vn` }))
  // Rows are converted as JSON.stringify reaches them: note how often the loop had turned.
  let turns = 0
  let ticking = true
  const tick = () => {
    if (ticking) {
      turns++
      setImmediate(tick)
    }
  }
  const seen = {}
  const noted = (i, label) => ({ toJSON: () => ((seen[label] = turns), { touchpointId: `t${i}`, email: `u${i % 100}@x.vn` }) })
  rows[0] = noted(0, 'first')
  rows[34999] = noted(34999, 'last')
  setImmediate(tick)
  const engine = new ot.Engine({ matching: { enabled: false } })
  const report = await engine.ingest(rows)
  ticking = false
  assert.equal(report.accepted, 35000)
  assert.equal(seen.first, 0, 'the first slice is converted at once')
  assert.ok(seen.last >= 3, `four slices, the loop turning between them (it turned ${seen.last} times)`)
  assert.equal((await engine.assignments()).length, 35000)
  // Rows are numbered across slices; the one-shot resolve slices too.
  const bad = rows.map((_, i) => ({ touchpointId: `b${i}` }))
  bad[25000] = 'not an object'
  await assert.rejects(new ot.Engine().ingest(bad), /row 25001: expected a plain object/)
  await assert.rejects(ot.resolve(bad), /row 25001: expected a plain object/)
})

test('assignments keep ids in any script, cut where JavaScript counts characters', async () => {
  // Vietnamese (one UTF-16 unit each), an emoji (two) and ASCII, in texts that are ASCII only
  // and texts that are not.
  const ids = ['tp-1', 'Nguyễn-Văn-Ấn', 'đơn-hàng-😀-42', 'x', 'tp-2', '😀', 'ascii-only-id', 'tp-3', 'Trần-Thị-Bé']
  const rows = ids.map((touchpointId, i) => ({ touchpointId, email: `u${i % 2}@x.vn` }))
  const engine = new ot.Engine({ matching: { enabled: false } })
  await engine.ingest(rows)
  const assignments = await engine.assignments()
  assert.deepEqual(assignments.map((a) => a.touchpointId), ids)
  const profileOf = new Map(assignments.map((a) => [a.touchpointId, a.profileId]))
  ids.forEach((id, i) => assert.equal(profileOf.get(id), profileOf.get(ids[i % 2])))
  assert.notEqual(profileOf.get(ids[0]), profileOf.get(ids[1]))
  for (const a of assignments) assert.deepEqual(engine.profileOf(a.touchpointId)?.profileId, a.profileId)
  assert.deepEqual(await ot.resolve(rows, { matching: { enabled: false } }), assignments)
})

test('traits, segments and the RFM scale from JavaScript', async () => {
  const engine = new ot.Engine({ segments: { buyers: { where: 'orders >= 1' } } })
  await engine.ingest([
    { touchpointId: 'a1', email: 'a@x.vn', eventType: 'purchase', amount: 300, channel: 'store', timestamp: '2024-01-01T00:00:00Z' },
    { touchpointId: 'a2', email: 'a@x.vn', eventType: 'purchase', amount: 200, channel: 'web', timestamp: new Date('2024-01-05T00:00:00Z') },
    { touchpointId: 'b1', email: 'b@x.vn', eventType: 'purchase', amount: 50, channel: 'web', timestamp: '2024-01-02T00:00:00Z' },
  ])
  const a = engine.profileOf('a1')
  assert.equal(a.traits.orders, 2)
  assert.equal(a.traits.omnichannelBuyer, true)
  assert.equal(a.traits.rfm.monetaryScore, 5)
  assert.deepEqual(a.segments, ['buyers'])
  const scale = engine.rfmScale()
  assert.equal(scale.buyers, 2)
  engine.setRfmScale({ ...scale, monetary: [1000, 2000, 3000, 4000] })
  assert.equal(engine.profileOf('a1').traits.rfm.monetaryScore, 1)
  assert.throws(() => engine.setRfmScale({ buyers: 'many' }), ot.ConfigError)
  const both = [a.profileId, engine.profileOf('b1').profileId].sort()
  assert.deepEqual(await engine.segment('orders >= 1'), both)
  assert.deepEqual(await engine.segment('orders >= 1', { channel: 'email' }), [])
  assert.deepEqual(await engine.segmentMembers('buyers'), both)
  await assert.rejects(engine.segmentMembers('vip'), ot.ConfigError)
  await assert.rejects(engine.segment('orders >= 1 and (city = "x"'), (err) => err.position === 28)

  // Live: the feed carries segment entries; a refresh re-evaluates everyone.
  await engine.goLive()
  const entered = engine.changes().filter((c) => c.change === 'segment_entered')
  assert.deepEqual(entered.map((c) => c.profileId).sort(), both)
  const outcome = engine.ingestOne({ touchpointId: 'c1', email: 'c@x.vn', eventType: 'purchase', timestamp: '2024-01-06T00:00:00Z' })
  assert.deepEqual(outcome.changes.slice(-1), [{ seq: outcome.changes.at(-1).seq, change: 'segment_entered', profileId: outcome.profileId, segment: 'buyers' }])
  assert.equal(await engine.refreshSegments(), 0)
})

test('the omnichannel report and its page', async () => {
  const engine = new ot.Engine()
  await engine.ingest(SAMPLE)
  const report = await engine.report()
  assert.equal(report.customersByChannelCount.reduce((n, r) => n + r.profiles, 0), report.profiles)
  assert.equal(report.identity.profiles, report.profiles)
  assert.ok(report.funnel.some((f) => f.stage === 'lapsed'))
  const page = ot.reportHtml(report)
  assert.ok(page.startsWith('<!DOCTYPE html>') && page.includes('Identity health') && page.includes('<svg'))
  assert.throws(() => ot.reportHtml({ profiles: 'many' }), ot.ConfigError)
})

test('simulate a rule change, then apply it', async () => {
  const engine = new ot.Engine({ matching: { enabled: false } })
  engine.ingestOne({ touchpointId: 'a', phone: '0912 345 678', timestamp: 1 })
  engine.ingestOne({ touchpointId: 'b', phone: '+84912345678', email: 'an@x.vn', timestamp: 2 })
  const stricter = { matching: { enabled: false }, identifiers: { phone: { enabled: false } } }
  const whatIf = await engine.simulate(stricter)
  assert.deepEqual([whatIf.profilesBefore, whatIf.profilesAfter, whatIf.touchpointsMoved], [1, 2, 1])
  assert.deepEqual(whatIf.changes.map((c) => c.change), ['created', 'split'])
  assert.equal((await engine.resolve()).profiles, 1)
  const feed = engine.changes().length
  await engine.applyConfig(stricter)
  assert.deepEqual(engine.changes(feed).map((c) => c.change), ['created', 'split'])
  await assert.rejects(engine.simulate({ timezone: 'ICT' }), ot.ConfigError)
})

test('worker threads convert with their own JSON functions, before and after another ends', async () => {
  const { Worker } = require('node:worker_threads')
  const pkg = path.resolve(__dirname, '..')
  const inWorker = () =>
    new Promise((resolve, reject) => {
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads')
         const ot = require(workerData)
         const engine = new ot.Engine({ matching: { enabled: false } })
         const a = engine.ingestOne({ touchpointId: 'w1', email: 'An@Gmail.com' })
         const b = engine.ingestOne({ touchpointId: 'w2', email: 'an@gmail.com', phone: '0912345678' })
         parentPort.postMessage({ same: a.profileId === b.profileId, count: engine.lookup({ email: 'AN@gmail.com' }).touchpointCount })`,
        { eval: true, workerData: pkg },
      )
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  const engine = new ot.Engine({ matching: { enabled: false } })
  engine.ingestOne({ touchpointId: 'm1', email: 'main@x.vn' })
  assert.deepEqual(await inWorker(), { same: true, count: 2 })
  // The first worker's environment is gone: the main thread and a new worker still convert.
  assert.equal(engine.ingestOne({ touchpointId: 'm2', email: 'MAIN@x.vn' }).profileId, engine.profileOf('m1').profileId)
  assert.equal(engine.lookup({ email: 'main@x.vn' }).touchpointCount, 2)
  assert.deepEqual(await inWorker(), { same: true, count: 2 })
})
