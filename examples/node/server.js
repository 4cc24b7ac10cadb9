'use strict'
// A small HTTP service that resolves touchpoints as they are posted and serves profiles, on
// Node's own `http` module. Run it with `node examples/node/server.js` (PORT, and STORE for a
// durable SQLite store that survives restarts), then post the sample with
// `node examples/node/post-sample.js`.
//
//   POST /touchpoints          one touchpoint (JSON object): resolved at once (ingestOne)
//                              an array of touchpoints: ingested as a batch, off the event loop
//   GET  /profiles/:id         a profile (a merged-away id leads to its survivor)
//   GET  /lookup?phone=…       the profile holding an identifier (email, phone, customerId…)
//   GET  /explain?a=…&b=…      why two touchpoints are, or are not, one person
//   GET  /changes?since=…      the change feed, for downstream systems
const http = require('node:http')

const ot = loadOmnitwin()

/** The package: `omnitwin` when installed, else the one built in this repository. */
function loadOmnitwin() {
  try {
    return require('omnitwin')
  } catch {
    return require('../../bindings-node')
  }
}

/** A JSON reply. */
function reply(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The reply for an error: the input's fault (400, with the row and field) or ours (500). */
function replyError(res, err) {
  const clientFault =
    err instanceof ot.InvalidInputError || err instanceof ot.SchemaError || err instanceof ot.ConfigError || err instanceof TypeError
  const status = err instanceof ot.NotFoundError ? 404 : clientFault ? 400 : 500
  reply(res, status, { error: err.message, code: err.code ?? 'INTERNAL', row: err.row ?? null, field: err.column ?? null })
}

/** The request body as JSON. */
async function readJson(req) {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (e) {
    const err = new TypeError(`the body is not JSON: ${e.message}`)
    err.code = 'BAD_JSON'
    throw err
  }
}

/** An HTTP server resolving into `engine`. */
function createServer(engine) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost')
    try {
      if (req.method === 'POST' && url.pathname === '/touchpoints') {
        const body = await readJson(req)
        if (Array.isArray(body)) return reply(res, 200, await engine.ingest(body, { onError: 'skip' }))
        return reply(res, 200, engine.ingestOne(body))
      }
      if (req.method === 'GET' && url.pathname.startsWith('/profiles/')) {
        const profile = engine.profile(decodeURIComponent(url.pathname.slice('/profiles/'.length)))
        return profile ? reply(res, 200, profile) : reply(res, 404, { error: 'no such profile' })
      }
      if (req.method === 'GET' && url.pathname === '/lookup') {
        const profile = engine.lookup(Object.fromEntries(url.searchParams))
        return profile ? reply(res, 200, profile) : reply(res, 404, { error: 'nobody has this identifier' })
      }
      if (req.method === 'GET' && url.pathname === '/explain') {
        return reply(res, 200, engine.explain(url.searchParams.get('a') ?? '', url.searchParams.get('b') ?? ''))
      }
      if (req.method === 'GET' && url.pathname === '/changes') {
        return reply(res, 200, engine.changes(Number(url.searchParams.get('since') ?? 0)))
      }
      reply(res, 404, { error: `no route ${req.method} ${url.pathname}` })
    } catch (err) {
      replyError(res, err)
    }
  })
}

async function main() {
  const port = Number(process.env.PORT ?? 8080)
  const config = { defaultRegion: 'VN', timezone: '+07:00' }
  const engine = process.env.STORE ? await ot.Engine.open(process.env.STORE, config, { create: true }) : new ot.Engine(config)
  createServer(engine).listen(port, () => {
    console.log(`omnitwin listening on http://localhost:${port} (${engine.len()} touchpoints${process.env.STORE ? `, store ${process.env.STORE}` : ''})`)
  })
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = { createServer }
