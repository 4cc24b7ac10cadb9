// The omnitwin package's types: the addon's classes and functions (generated from the Rust
// source into native.d.ts, with the data types of types.d.ts) and the error classes.
export * from './native'

/** The `code` of every error omnitwin throws. */
export type ErrorCode =
  | 'OMNITWIN_INVALID_INPUT'
  | 'OMNITWIN_SCHEMA'
  | 'OMNITWIN_CONFIG'
  | 'OMNITWIN_NOT_FOUND'
  | 'OMNITWIN_IO'
  | 'OMNITWIN_ERROR'
  | 'OMNITWIN_INTERNAL'
  | 'OMNITWIN_INVALID_ARGUMENT'

/** The base class of every error omnitwin throws (a wrong argument is a `TypeError` with
 * `code: 'OMNITWIN_INVALID_ARGUMENT'`). */
export declare class OmnitwinError extends Error {
  readonly code: ErrorCode
  readonly kind: string
  /** 1-based row (or line) of the input the error is about, when it is about one. */
  readonly row: number | null
  /** The field or column the error is about, when it is about one. */
  readonly column: string | null
  /** The 1-based character position in a segment expression the error is about. */
  readonly position: number | null
}
/** A row or field of the input is invalid; `row` and `column` say where. */
export declare class InvalidInputError extends OmnitwinError {}
/** The input's shape (columns, types, emptiness, encoding) does not fit the touchpoint schema. */
export declare class SchemaError extends OmnitwinError {}
/** The configuration (or a settings or model object) is invalid. */
export declare class ConfigError extends OmnitwinError {}
/** An id (touchpoint, profile, record) the engine does not hold. */
export declare class NotFoundError extends OmnitwinError {}
/** Reading or writing a file (or the store) failed. */
export declare class IoError extends OmnitwinError {}
/** A bug in omnitwin (a Rust panic, caught before it reached JavaScript); please report it. */
export declare class InternalError extends OmnitwinError {}
