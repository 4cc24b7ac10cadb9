'use strict'
// `Linker` from Node: probabilistic linkage of any table, as the Rust `Linker` does it.
const test = require('node:test')
const assert = require('node:assert/strict')

const { ot } = require('./helpers')

const SETTINGS = {
  comparisons: [
    { column: 'given_name', levels: ['exact', { jaro_winkler: 0.85 }] },
    { column: 'dob', levels: ['exact', { within_years: 1 }] },
  ],
  blockingRules: [['surname']],
  training: { uSamplePairs: 3000 },
}

/** 40 people, each written twice: the second time with the given name misspelt. */
function people() {
  const given = ['an', 'binh', 'chau', 'dung', 'giang', 'hoa', 'khanh', 'linh']
  const surnames = ['nguyen', 'tran', 'le', 'pham', 'vu']
  const rows = []
  for (let p = 0; p < 40; p++) {
    for (let copy = 0; copy < 2; copy++) {
      const name = given[p % 8]
      rows.push({
        unique_id: `${p}-${copy}`,
        given_name: copy === 0 ? name : `${name}h`,
        surname: surnames[p % 5],
        dob: `19${50 + p}-0${1 + (p % 9)}-1${p % 10}`,
      })
    }
  }
  return rows
}

test('dedupe trains, predicts, clusters and explains', async () => {
  const linker = await ot.Linker.create(SETTINGS, [people()])
  assert.ok(linker instanceof ot.Linker)
  assert.equal(linker.len(), 80)
  const report = await linker.train()
  assert.ok(report.uSamplePairs > 0 || report.uCounted.length > 0)
  const pairs = await linker.predict()
  assert.deepEqual(Object.keys(pairs[0]).sort(), ['blockingRule', 'left', 'matchProbability', 'matchWeight', 'right'])
  assert.ok(pairs.every((p) => p.matchProbability >= 0.9))
  const clusters = await linker.cluster()
  assert.equal(clusters.length, 80)
  const byRecord = Object.fromEntries(clusters.map((c) => [c.recordId, c.clusterId]))
  assert.equal(byRecord['0-0'], byRecord['0-1'], "a person's two records join")
  assert.notEqual(byRecord['0-0'], byRecord['1-0'], 'two people stay apart')
  assert.deepEqual(await linker.cluster(pairs), clusters, 'the pairs given back cluster the same')
  assert.deepEqual(linker.candidatePairs().length, 1)
  const why = linker.explain('0-0', '0-1')
  assert.ok(why.linked && why.matchProbability >= 0.9)
  assert.deepEqual(why.parts.map((p) => p.comparison), ['given_name', 'dob'])
  assert.match(ot.pairExplanationHtml(why), /<svg/)
})

test('models round-trip and labels train', async () => {
  const trained = await ot.Linker.create(SETTINGS, [people()])
  await trained.train()
  const model = JSON.parse(JSON.stringify(trained.model()))
  const reused = await ot.Linker.create(SETTINGS, [people()])
  assert.equal(reused.model(), null)
  reused.setModel(model)
  const [got, want] = [await reused.predict(), await trained.predict()]
  assert.deepEqual(got.map((p) => [p.left, p.right]), want.map((p) => [p.left, p.right]))
  got.forEach((p, i) => assert.ok(Math.abs(p.matchWeight - want[i].matchWeight) < 1e-9))
  const labelled = await ot.Linker.create(SETTINGS, [people()])
  const labels = []
  for (let p = 0; p < 40; p += 2) labels.push([`${p}-0`, `${p}-1`])
  await labelled.trainFromLabels(labels)
  assert.ok((await labelled.predict()).length > 0)
})

test('link-only needs two tables, and errors name the field', async () => {
  const settings = { ...SETTINGS, linkType: 'link_only' }
  const rows = people()
  const left = rows.filter((r) => r.unique_id.endsWith('-0'))
  const right = rows.filter((r) => r.unique_id.endsWith('-1'))
  const linker = await ot.Linker.create(settings, [left, right])
  await linker.train()
  assert.equal((await linker.cluster()).length, 80)
  await assert.rejects(ot.Linker.create(settings, [left]), (e) => e instanceof ot.ConfigError && /link_type/.test(e.message))
  await assert.rejects(ot.Linker.create({ ...SETTINGS, blockingRules: [['no_such_column']] }, [rows]), (e) => e instanceof ot.SchemaError && /no column `no_such_column`/.test(e.message))
  await assert.rejects(ot.Linker.create({ ...SETTINGS, comparisons: [] }, [rows]), ot.ConfigError)
  await assert.rejects(ot.Linker.create(SETTINGS, [42]), TypeError)
  assert.throws(() => linker.explain('0-0', 'zz'), (e) => e instanceof ot.NotFoundError && /unknown record `zz`/.test(e.message))
  await assert.rejects(linker.cluster([{ left: 'zz', right: '0-0', matchWeight: 1, matchProbability: 0.99, blockingRule: 0 }]), ot.NotFoundError)
})
