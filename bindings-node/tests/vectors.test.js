'use strict'
// The shared test vectors in tests/vectors/ (the same files the Rust and Python suites run):
// every language must give exactly the same results.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { ot, VECTORS, load, vectorFiles, camelKeys, camelTwin, touchpointInJs } = require('./helpers')

const NORMALIZE = load(path.join(VECTORS, 'normalize.json'))
const RESOLVE = vectorFiles('resolve')
const LIVE = vectorFiles('live')
const TWIN = vectorFiles('twin')
const WHAT_IF = vectorFiles('what_if')
const STORE = vectorFiles('store')
const ROWS = vectorFiles('rows')

test('every vector file is run', () => {
  assert.ok(RESOLVE.length >= 3)
  assert.ok(LIVE.length >= 1)
  assert.ok(TWIN.length >= 1)
  assert.ok(STORE.length >= 1)
  assert.ok(ROWS.length >= 1)
  const cases = Object.values(NORMALIZE).filter(Array.isArray).reduce((n, list) => n + list.length, 0)
  assert.ok(cases >= 30)
})

test('normalizers', async (t) => {
  const run = {
    email: (c) => ot.normalizeEmail(c.input),
    phone: (c) => ot.normalizePhone(c.input, c.region),
    name: (c) => ot.normalizeName(c.input),
    address: (c) => ot.normalizeAddress(c.input),
    date_of_birth: (c) => ot.normalizeDateOfBirth(c.input),
    gender: (c) => ot.normalizeGender(c.input),
  }
  for (const [kind, normalize] of Object.entries(run)) {
    assert.ok(NORMALIZE[kind].length > 0, kind)
    for (const c of NORMALIZE[kind]) {
      await t.test(`${kind}: ${c.input}`, () => {
        assert.deepEqual(normalize(c), camelKeys(c.expected))
      })
    }
  }
})

for (const file of RESOLVE) {
  test(`resolve vector ${path.basename(file, '.json')}`, async () => {
    const vector = load(file)
    const engine = new ot.Engine(vector.config)
    if (vector.model != null) engine.setModel(vector.model)
    // Touchpoints as a JavaScript user writes them: camelCase fields.
    await engine.ingest(vector.touchpoints.map(touchpointInJs))
    const expected = vector.expected

    const groups = new Map()
    for (const { touchpointId, profileId } of await engine.assignments()) {
      groups.set(profileId, [...(groups.get(profileId) ?? []), touchpointId])
    }
    const sortGroups = (gs) => gs.map((g) => [...g].sort()).sort((a, b) => a.join().localeCompare(b.join()))
    assert.deepEqual(sortGroups([...groups.values()]), sortGroups(expected.groups))

    const report = await engine.resolve()
    for (const [field, value] of Object.entries(camelKeys(expected.report))) {
      assert.deepEqual(report[field], value, `report.${field}`)
    }
    for (const [field, value] of Object.entries(camelKeys(expected.links))) {
      assert.deepEqual(report.links[field], value, `report.links.${field}`)
    }
    for (const [tp, attributes] of Object.entries(expected.attributes)) {
      const profile = engine.profileOf(tp)
      for (const [name, value] of Object.entries(attributes)) {
        assert.equal(profile.attributes[name].value, value, `${tp}.${name}`)
      }
    }
    for (const c of expected.explain) {
      const why = engine.explain(c.a, c.b)
      assert.equal(why.sameProfile, c.same_profile, JSON.stringify(c))
      assert.equal(why.path.length, c.path_length, JSON.stringify(c))
    }
  })
}

for (const file of LIVE) {
  test(`live vector ${path.basename(file, '.json')}`, () => {
    const vector = load(file)
    const engine = new ot.Engine(vector.config)
    if (vector.model != null) engine.setModel(vector.model)
    const times = [] // with history questions: the time after each step, before the first at 0
    vector.steps.forEach((step, i) => {
      assert.deepEqual(engine.ingestOne(touchpointInJs(step.touchpoint)), camelKeys(step.expected), `step ${i + 1}`)
      if (vector.history) {
        const at = engine.acknowledgedAt(step.touchpoint.touchpoint_id)
        if (times.length === 0) times.push(at - 1)
        times.push(at)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2) // the next step a later millisecond
      }
    })
    const feed = camelKeys(vector.expected_feed)
    assert.deepEqual(engine.changes(), feed)
    assert.deepEqual(engine.changes(feed.length - 1), feed.slice(-1))
    for (const query of vector.history ?? []) {
      const asOf = times[query.after_step]
      const profile = query.profile_of != null
        ? engine.profileOf(query.profile_of, { asOf })
        : engine.profile(query.profile, { asOf })
      const got = profile && { profileId: profile.profileId, touchpointIds: profile.touchpointIds }
      assert.deepEqual(got, query.expected && camelKeys(query.expected), JSON.stringify(query))
    }
  })
}

for (const file of TWIN) {
  test(`twin vector ${path.basename(file, '.json')}`, async () => {
    const vector = load(file)
    const engine = new ot.Engine(vector.config)
    // Rows as a backend writes them: camelCase fields, custom attributes (sku, consent_channel) beside them.
    await engine.ingest(vector.touchpoints.map(touchpointInJs))
    const expected = vector.expected
    for (const [tp, want] of Object.entries(expected.profiles)) {
      const { traits, consent, segments } = engine.profileOf(tp)
      assert.deepEqual({ traits, consent, segments }, camelTwin(want), tp)
    }
    const members = (tps) => tps.map((tp) => engine.profileOf(tp).profileId).sort()
    for (const c of expected.segments) {
      const got = await engine.segment(c.expression, c.channel ? { channel: c.channel, purpose: c.purpose } : undefined)
      assert.deepEqual(got, members(c.members_of), JSON.stringify(c))
    }
    for (const [name, membersOf] of Object.entries(expected.members)) {
      assert.deepEqual(await engine.segmentMembers(name), members(membersOf), name)
    }
    for (const c of expected.errors) {
      await assert.rejects(engine.segment(c.expression), (err) => {
        assert.ok(err instanceof ot.InvalidInputError, String(err))
        assert.equal(err.code, 'OMNITWIN_INVALID_INPUT')
        assert.equal(err.position, c.position, err.message)
        return true
      })
    }
  })
}

for (const file of WHAT_IF) {
  test(`what-if vector ${path.basename(file, '.json')}`, async () => {
    const vector = load(file)
    const engine = new ot.Engine(vector.config)
    for (const tp of vector.touchpoints) engine.ingestOne(touchpointInJs(tp))
    const before = await engine.assignments()
    const feed = engine.changes().length
    const expected = vector.expected
    assert.deepEqual(await engine.simulate(vector.new_config), camelKeys(expected.simulation))
    assert.deepEqual(await engine.assignments(), before, 'simulate changes nothing')
    assert.equal(engine.changes().length, feed, 'simulate records nothing')
    await engine.applyConfig(vector.new_config)
    assert.deepEqual(engine.changes(feed), camelKeys(expected.recorded))
    const after = Object.fromEntries((await engine.assignments()).map((a) => [a.touchpointId, a.profileId]))
    assert.deepEqual(after, expected.assignments)
  })
}

for (const file of ROWS) {
  test(`rows vector ${path.basename(file, '.json')}`, async () => {
    const vector = load(file)
    const engine = new ot.Engine(vector.config)
    await engine.ingest(vector.rows.map(touchpointInJs)) // objects, as a user writes them
    const groups = {}
    for (const a of await engine.assignments()) (groups[a.profileId] ??= []).push(a.touchpointId)
    const got = Object.values(groups).map((g) => g.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1))
    assert.deepEqual(got, vector.expected.groups)
    for (const [id, fields] of Object.entries(vector.expected.touchpoints)) {
      const held = engine.touchpoint(id)
      for (const [field, value] of Object.entries(camelKeys(fields))) assert.deepEqual(held[field], value, `${id}.${field}`)
    }
    for (const bad of vector.bad_batches) {
      const engine = new ot.Engine(vector.config)
      await assert.rejects(engine.ingest(bad.rows.map(touchpointInJs)), (e) => e instanceof ot.InvalidInputError && e.row === bad.row && e.column === bad.column)
      assert.equal(engine.len(), 0)
    }
  })
}

for (const file of STORE) {
  test(`store vector ${path.basename(file, '.json')}`, async () => {
    const vector = load(file)
    const expected = vector.expected
    const db = path.join(require('./helpers').tempDir(), 'cdp.db')
    await assert.rejects(ot.Engine.open(db, vector.config), (e) => e instanceof ot.IoError && e.message.includes(expected.missing_error))
    assert.equal(require('node:fs').existsSync(db), false)
    const got = []
    for (const [i, session] of vector.sessions.entries()) {
      const engine = i === 0 ? await ot.Engine.open(db, vector.config, { create: true }) : await ot.Engine.open(db)
      assert.deepEqual(engine.warnings(), [])
      for (const tp of session.touchpoints) engine.ingestOne(touchpointInJs(tp))
      const profiles = {}
      for (const a of await engine.assignments()) profiles[a.touchpointId] = a.profileId
      const sorted = Object.fromEntries(Object.entries(profiles).sort(([a], [b]) => (a < b ? -1 : 1)))
      got.push({ profiles: sorted, feed: engine.changes().length })
      await engine.close()
    }
    assert.deepEqual(got, expected.sessions)
    const reader = await ot.Engine.openReadOnly(db)
    assert.throws(() => reader.ingestOne({ touchpointId: 'r1' }), (e) => e instanceof ot.IoError && e.message.includes(expected.read_only_error))
    const writer = await ot.Engine.open(db, vector.config)
    await assert.rejects(ot.Engine.open(db, vector.config), (e) => e instanceof ot.IoError && e.message.includes(expected.second_writer_error))
    assert.deepEqual((await writer.check()).problems, expected.problems)
    await writer.close()
    assert.throws(() => writer.ingestOne({ touchpointId: 'w1' }), (e) => e.message.includes(expected.closed_error))
  })
}
