'use strict'
// The omnitwin package: the native addon (`native.js` loads the build for this platform) and
// the error classes its errors are instances of. Everything else is the addon's own.

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

module.exports = { ...require('./native.js'), ...globalThis[REGISTRY] }
