'use strict'
// The example HTTP service (examples/node/server.js) answers as its header says.
const test = require('node:test')
const assert = require('node:assert/strict')

const { ot } = require('./helpers')
const { createServer } = require('../../examples/node/server')

test('the example service resolves posted touchpoints and serves profiles', async (t) => {
  const server = createServer(new ot.Engine({ matching: { enabled: false } }))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const base = `http://127.0.0.1:${server.address().port}`
  const post = (body) => fetch(`${base}/touchpoints`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })

  const first = await (await post({ touchpointId: 'web-1', email: 'An@Gmail.com', timestamp: '2024-01-01T09:00:00Z' })).json()
  const second = await (await post({ touchpointId: 'pos-1', email: 'an@gmail.com', phone: '0912 345 678', timestamp: '2024-01-02T09:00:00Z' })).json()
  assert.equal(second.profileId, first.profileId, 'the older profile id stays')
  const batch = await (await post([{ touchpointId: 'zalo-1', phone: '+84912345678', timestamp: '2024-01-03T09:00:00Z' }, { touchpointId: 'bad', timestamp: 'never' }])).json()
  assert.equal(batch.accepted, 1)
  assert.equal(batch.rejected[0].row, 2)

  const profile = await (await fetch(`${base}/lookup?phone=0912.345.678`)).json()
  assert.equal(profile.touchpointCount, 3)
  assert.equal((await (await fetch(`${base}/profiles/${first.profileId}`)).json()).profileId, first.profileId)
  assert.equal((await fetch(`${base}/profiles/P0`)).status, 404)
  assert.equal((await (await fetch(`${base}/explain?a=web-1&b=zalo-1`)).json()).sameProfile, true)
  assert.ok((await (await fetch(`${base}/changes?since=0`)).json()).length >= 1)

  const bad = await post({ touchpointId: 'x', timestamp: 'yesterday' })
  assert.equal(bad.status, 400)
  assert.deepEqual(Object.values(await bad.json()).slice(1), ['OMNITWIN_INVALID_INPUT', 1, 'timestamp'])
  assert.equal((await fetch(`${base}/touchpoints`, { method: 'POST', body: '{' })).status, 400)
})
