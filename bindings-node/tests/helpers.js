'use strict'
// What the suites share: the package, the shared vectors and the bundled sample.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ot = require('..')
const { readCsv } = require('../../examples/node/csv')

const ROOT = path.resolve(__dirname, '..', '..')
const VECTORS = path.join(ROOT, 'tests', 'vectors')
const SAMPLE = path.join(ROOT, 'examples', 'data', 'touchpoints.csv')

/** A JSON file of the repository. */
function load(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

/** The `.json` files of a folder of vectors, sorted. */
function vectorFiles(folder) {
  const dir = path.join(VECTORS, folder)
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f))
}

/** `touchpoint_id` → `touchpointId`. */
function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
}

/** A vector's expected output (the core's snake_case JSON) as JavaScript sees it: every key
 * in camelCase. Only for outputs whose objects are all structs (no data-keyed maps). */
function camelKeys(value) {
  if (Array.isArray(value)) return value.map(camelKeys)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), camelKeys(v)]))
  }
  return value
}

/** `camelKeys` for a profile's twin parts (traits, consent): the maps keyed by data (channel
 * names, trait names) keep their keys. */
function camelTwin(value, dataKeyed = false) {
  if (Array.isArray(value)) return value.map((v) => camelTwin(v))
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        dataKeyed ? k : camel(k),
        dataKeyed ? v : camelTwin(v, ['purchases_by_channel', 'interactions_by_channel', 'custom'].includes(k)),
      ]),
    )
  }
  return value
}

/** The touchpoint fields of the standard schema (a row's other keys are custom attributes). */
const STANDARD = new Set([
  'touchpoint_id', 'channel', 'source', 'timestamp', 'event_type', 'email', 'phone', 'cookie_id', 'device_id',
  'social_id', 'loyalty_id', 'customer_id', 'full_name', 'date_of_birth', 'gender', 'address', 'city', 'amount',
  'currency', 'identifiers', 'attributes',
])

/** A touchpoint of a vector as a JavaScript user writes it: the standard fields in camelCase;
 * custom attributes (`sku`, `consent_channel`) and the contents of `attributes` and
 * `identifiers` are data and keep their names. */
function touchpointInJs(tp) {
  return Object.fromEntries(Object.entries(tp).map(([k, v]) => [STANDARD.has(k) ? camel(k) : k, v]))
}

/** A fresh temporary folder, removed when the process exits. */
function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnitwin-node-'))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The bundled sample CSV as plain row objects (every value as text, as a CSV is). */
function sampleRows() {
  return readCsv(SAMPLE)
}

module.exports = {
  ot,
  ROOT,
  VECTORS,
  SAMPLE,
  load,
  vectorFiles,
  camel,
  camelKeys,
  camelTwin,
  touchpointInJs,
  tempDir,
  sampleRows,
}
