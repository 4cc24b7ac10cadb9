'use strict'
// The omnitwin package: the native addon (`native.js` loads the build for this platform), the
// error classes its errors are instances of, and big arrays of rows crossing in slices.
// Everything else is the addon's own.

/** The registry the addon looks its error classes up in (one per process, whichever copy of
 * the package loaded first, so `instanceof` holds across copies). */
const REGISTRY = Symbol.for('omnitwin.errors')

function errorClasses() {
  /** The base class of every error omnitwin throws: `code`, `kind`, and `row` (1-based) and
   * `column` when the error is about one row or field of the input. */
  class OmnitwinError extends Error {}
  /** A row or field of the input is invalid; `row` and `column` say where. */
  class InvalidInputError extends OmnitwinError {}
  /** The input's shape (columns, types, emptiness, encoding) does not fit the touchpoint schema. */
  class SchemaError extends OmnitwinError {}
  /** The configuration (or a settings or model object) is invalid. */
  class ConfigError extends OmnitwinError {}
  /** An id (touchpoint, profile, record) the engine does not hold. */
  class NotFoundError extends OmnitwinError {}
  /** Reading or writing a file (or the store) failed. */
  class IoError extends OmnitwinError {}
  /** A bug in omnitwin (a Rust panic, caught before it reached JavaScript); please report it. */
  class InternalError extends OmnitwinError {}
  const classes = { OmnitwinError, InvalidInputError, SchemaError, ConfigError, NotFoundError, IoError, InternalError }
  for (const [name, cls] of Object.entries(classes)) {
    Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true })
  }
  return Object.freeze(classes)
}

if (!globalThis[REGISTRY]) {
  Object.defineProperty(globalThis, REGISTRY, { value: errorClasses() })
}

const native = require('./native.js')

/** Row objects cross to the addon as JSON text, which only this thread can write. A big array
 * is stringified a slice at a time, letting the event loop turn between slices (a million rows
 * held it for about three seconds in one `JSON.stringify`); the addon reads the slices, in
 * order, under this registered symbol. */
const ROWS = Symbol.for('omnitwin.rows')
const SLICE = 10000

/** `data` as the addon takes it: a big array as stringified slices, anything else as is. */
async function sliced(data) {
  if (!Array.isArray(data) || data.length <= SLICE) return data
  const texts = []
  for (let i = 0; i < data.length; i += SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve))
    texts.push(JSON.stringify(data.slice(i, i + SLICE)))
  }
  return { [ROWS]: texts }
}

const nativeIngest = native.Engine.prototype.ingest
Object.defineProperty(native.Engine.prototype, 'ingest', {
  value: async function ingest(data, options) {
    return nativeIngest.call(this, await sliced(data), options)
  },
  writable: true,
  configurable: true,
})

/** Resolves touchpoints in one call (see the addon's `resolve`), a big array crossing in slices. */
async function resolve(data, config) {
  return native.resolve(await sliced(data), config)
}

module.exports = { ...native, resolve, ...globalThis[REGISTRY] }
