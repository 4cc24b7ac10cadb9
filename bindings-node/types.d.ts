/* The omnitwin package's types. `napi build` writes this header, then the declarations it
 * generates from the Rust source (classes, methods, functions), into `native.d.ts`.
 *
 * Data types mirror the core's serde types with struct field names in camelCase; keys of maps
 * (attribute names, identifier kinds, column names) and enum values (`'merged'`,
 * `'most_recent'`, `{ jaro_winkler: 0.9 }`) are data and stay as the core writes them. The
 * test suite type-checks real outputs against these declarations (tests/types-drift), so a
 * field the core adds or renames fails the suite until it is declared here. */

/** Epoch milliseconds (UTC). */
export type Millis = number

/** One interaction with a (not yet known) customer; every field but `touchpointId` optional. */
export interface Touchpoint {
  touchpointId: string
  channel?: 'store' | 'web' | 'email' | 'social' | 'marketplace' | 'call_center' | 'app' | (string & {})
  source?: string
  /** A `Date`, epoch milliseconds, or text (ISO 8601; without an offset read in the config's timezone). */
  timestamp?: Date | Millis | string
  eventType?: string
  email?: string
  phone?: string
  cookieId?: string
  deviceId?: string
  socialId?: string
  loyaltyId?: string
  customerId?: string
  fullName?: string
  dateOfBirth?: string
  gender?: string
  address?: string
  city?: string
  amount?: number
  currency?: string
  /** Identifiers of kinds declared in the config, by kind name. */
  identifiers?: Record<string, string>
  /** Custom attributes, by name. In a batch (`ingest`), keys outside the standard fields are custom attributes too. */
  attributes?: Record<string, string>
}

/** A stored touchpoint, as `Engine.touchpoint` returns it (the timestamp in epoch milliseconds). */
export interface StoredTouchpoint extends Omit<Touchpoint, 'timestamp'> {
  timestamp?: Millis
}

/** One identifier for `lookup` and `forget`: `{ email }`, `{ phone }`, `{ customerId, scope }`. */
export type IdentifierQuery = { scope?: string } & Record<string, string>

/** What `forget` erases: a profile, or the profile(s) holding one identifier. */
export type ForgetTarget = { profileId: string } | IdentifierQuery

/** Options of the history reads `profile` and `profileOf`. */
export interface HistoryOptions {
  /** The time asked about: a `Date`, ISO 8601 text (the config's timezone without an offset) or epoch milliseconds. */
  asOf?: Date | string | Millis
}

export interface RejectedRow {
  /** 1-based row (or line) of the input. */
  row: number
  touchpointId?: string | null
  reasons: Array<string>
}

export interface IngestReport {
  accepted: number
  rejected: Array<RejectedRow>
}

/** One entry of the change feed. */
export interface Change {
  seq: number
  change: 'created' | 'merged' | 'split' | 'forgotten' | 'segment_entered' | 'segment_exited'
  profileId: string
  /** The surviving profile (merged), or the profiles the touchpoints are in now (split). */
  into?: string | Array<string>
  /** The segment entered or left. */
  segment?: string
}

/** What `ingestOne` did. */
export interface IngestOutcome {
  touchpointId: string
  profileId: string
  changes: Array<Change>
  refused: Array<string>
}

export interface ForgetReport {
  profiles: Array<string>
  touchpoints: Array<string>
  changes: Array<Change>
}

/** What `check` (and `rebuild`) found. */
export interface StoreCheck {
  /** The store's file (`null` for an engine without one). */
  path: string | null
  touchpoints: number
  changes: number
  profiles: number
  /** What is wrong, one sentence each; empty when every check holds. */
  problems: Array<string>
  /** What opening the store found wrong with derived state and rebuilt. */
  rebuiltOnOpen: Array<string>
}

export interface Assignment {
  touchpointId: string
  profileId: string
}

export interface LinkStats {
  identifiers: number
  linksMade: number
  matchesMade: number
  blockedIdentifiers: number
  sharedIdentifiers: number
  refusedBlockedValue: number
  refusedSharedIdentifier: number
  refusedLimit: number
  refusedMatchLimit: number
  maskedPhones: number
  invalidValues: Record<string, number>
}

export interface SharedIdentifierReport {
  identifier: string
  reason: string
  touchpoints: number
}

export interface QuarantineReport {
  profileId: string
  touchpoints: number
  reasons: Array<string>
}

export interface TrainingReport {
  uSamplePairs: number
  uCounted: Array<string>
  candidatePairs: Array<number>
  emIterations: Array<number>
  ruleMatchShares: Array<number>
  untrained: Array<string>
}

export interface MatchingReport {
  model: 'trained' | 'given'
  training: TrainingReport | null
  threshold: number
  pairsAboveThreshold: number
  matchesMade: number
  refusedLimit: number
  skipped: string | null
  /** Per blocking rule: [blocks left out, records in them]. */
  oversizeBlocks: Array<[number, number]>
}

export interface ResolveReport {
  touchpoints: number
  profiles: number
  mergedProfiles: number
  largestProfile: number
  quarantinedProfiles: number
  links: LinkStats
  sharedIdentifiers: Array<SharedIdentifierReport>
  quarantined: Array<QuarantineReport>
  matching: MatchingReport | null
}

export interface ProfileIdentifier {
  kind: string
  scope?: string
  value: string
  rawValues: Array<string>
  touchpointCount: number
  status: 'linked' | 'blocked' | 'shared' | 'partly_refused'
}

export interface ObservedValue {
  value: string
  count: number
  firstSeen?: Millis
  lastSeen?: Millis
  sources: Array<string>
  touchpointId: string
}

export interface Attribute {
  value: string
  source?: string
  touchpointId: string
  timestamp?: Millis
  rule: string
  observed: Array<ObservedValue>
}

/** One person: every identifier, attribute (by name, with provenance) and touchpoint. */
export interface Profile {
  profileId: string
  status: 'active' | 'quarantined'
  quarantineReasons?: Array<string>
  touchpointCount: number
  touchpointIds: Array<string>
  firstSeen?: Millis
  lastSeen?: Millis
  channels: Array<string>
  sources: Array<string>
  identifiers: Array<ProfileIdentifier>
  attributes: Record<string, Attribute>
  /** Computed traits: orders, RFM, channel mix, devices, journey, carts, user-defined traits. */
  traits: Traits
  /** The latest consent event per purpose and contact channel. */
  consent: Array<Consent>
  /** The configured segments the profile is a member of, sorted. */
  segments: Array<string>
}

export type JourneyStage = 'exposure' | 'exploration' | 'evaluation' | 'purchase' | 'repeat' | 'loyal' | 'lapsed'

/** Recency, frequency, monetary value, with scores 1–5 by quintile over all buyers. */
export interface Rfm {
  recencyDays: number
  frequency: number
  monetary: number
  recencyScore: number
  frequencyScore: number
  monetaryScore: number
}

/** When a profile reached a stage, and the touchpoint that took it there. */
export interface StageTransition {
  stage: JourneyStage
  at?: Millis
  touchpointId: string
}

export interface Journey {
  stage: JourneyStage
  transitions: Array<StageTransition>
}

/** An item in a cart, across devices and channels. */
export interface CartItem {
  sku: string
  quantity: number
  addedAt?: Millis
  channel?: string
  touchpointId: string
}

/** The latest `add_to_cart` no purchase followed within the window. */
export interface AbandonedCart {
  touchpointId: string
  at: Millis
  channel?: string
  items: Array<CartItem>
}

export interface Traits {
  asOf?: Millis
  orders: number
  revenue: number
  averageOrderValue?: number
  firstPurchase?: Millis
  lastPurchase?: Millis
  rfm?: Rfm
  /** Keyed by channel name. */
  purchasesByChannel: Record<string, number>
  /** Keyed by channel name. */
  interactionsByChannel: Record<string, number>
  preferredChannel?: string
  preferredPurchaseChannel?: string
  lastChannel?: string
  devices: Array<string>
  omnichannelBuyer: boolean
  journey: Journey
  abandonedCart?: AbandonedCart
  cart: Array<CartItem>
  /** User-defined traits by name: a number, a text, or null when no event matched. */
  custom: Record<string, number | string | null>
}

/** The latest consent event for one purpose on one contact channel (`all` applies to every one). */
export interface Consent {
  purpose: string
  channel: string
  granted: boolean
  eventType: string
  touchpointId: string
  source?: string
  timestamp?: Millis
}

/** What a config change would do (`Engine.simulate`). */
export interface SimulationReport {
  profilesBefore: number
  profilesAfter: number
  touchpointsMoved: number
  /** The changes as the feed would record them (without `seq`). */
  changes: Array<Omit<Change, 'seq'>>
}

/** Revenue credited to a channel. */
export interface RevenueRow {
  channel: string
  revenue: number
  orders: number
}

/** The omnichannel report's tables (`Engine.report()`; `reportHtml` draws them). */
export interface OmnichannelReport {
  asOf?: Millis
  profiles: number
  customersByChannelCount: Array<{ channels: number; profiles: number }>
  channelTransitions: Array<{ from: string; to: string; count: number }>
  funnel: Array<{ stage: JourneyStage; reached: number; current: number }>
  revenueByChannel: Array<RevenueRow>
  revenueByFirstTouch: Array<RevenueRow>
  revenueByLastTouch: Array<RevenueRow>
  identity: ResolveReport
}

/** Quintile breakpoints of RFM over buyers (`Engine.rfmScale()`, `setRfmScale`). */
export interface RfmScale {
  buyers: number
  recency: Array<number>
  frequency: Array<number>
  monetary: Array<number>
}

export type StepStatus =
  | { status: 'linked' }
  | { status: 'matched'; matchProbability: number }
  | { status: 'blocked' }
  | { status: 'shared'; reason: string }
  | { status: 'refused'; reason: string }

export interface LinkStep {
  from: string
  identifier: string
  to: string
  status: StepStatus
}

export interface ComparisonPart {
  comparison: string
  values: [string | null, string | null]
  level: string
  weight: number
  termFrequencyAdjustment: number
}

export interface ChainLink {
  left: string
  right: string
  matchProbability: number
}

/** A pair's match score: the waterfall of weights and the decision. */
export interface PairExplanation {
  left: string
  right: string
  blockingRule: number | null
  priorWeight: number
  parts: Array<ComparisonPart>
  matchWeight: number
  matchProbability: number
  threshold: number
  linked: boolean
  chain: Array<ChainLink>
}

/** Why two touchpoints are, or are not, in one profile. */
export interface Explanation {
  touchpointA: string
  touchpointB: string
  profileA: string
  profileB: string
  sameProfile: boolean
  path: Array<LinkStep>
  summary: string
  matchScore: PairExplanation | null
}

export interface LevelModel {
  label: string
  m: number
  u: number
}

export interface TermFrequencies {
  total: number
  counts: Record<string, number>
}

export interface ComparisonModel {
  name: string
  levels: Array<LevelModel>
  termFrequencies?: TermFrequencies
}

/** A trained matching model (save it with `JSON.stringify`, give it back with `setModel`). */
export interface Model {
  prior: number
  comparisons: Array<ComparisonModel>
}

/** A comparison level, as in the JSON config. */
export type LevelSpec =
  | 'exact'
  | 'day_month_swapped'
  | 'masked_match'
  | { jaro_winkler: number }
  | { levenshtein: number }
  | { damerau_levenshtein: number }
  | { jaccard: number }
  | { swapped_with: string }
  | { within_days: number }
  | { within_years: number }
  | { absolute_difference: number }
  | { relative_difference: number }

export interface ComparisonSpec {
  name?: string | null
  column: string
  levels: Array<LevelSpec>
  termFrequency?: boolean
}

export interface TrainingSettings {
  uSamplePairs?: number
  maxIterations?: number
  tolerance?: number
  seed?: number
}

export interface MatchingConfig {
  enabled?: boolean
  threshold?: number
  comparisons?: Array<ComparisonSpec>
  blockingRules?: Array<Array<string>>
  training?: TrainingSettings
  maxBlockRecords?: number
}

export interface IdentifierSettings {
  column?: string
  enabled?: boolean
  maxPerProfile?: number
  scope?: 'none' | 'source' | 'prefix'
  detectShared?: boolean
  personLevel?: boolean
}

export interface Limits {
  maxNames?: number
  maxValuesPerKind?: number
}

export interface SurvivorshipConfig {
  default?: 'most_recent' | 'most_frequent' | 'source_priority' | 'first_seen'
  sourcePriority?: Array<string>
  attributes?: Record<string, 'most_recent' | 'most_frequent' | 'source_priority' | 'first_seen'>
}

/** The engine's config (every field optional; `Engine.config()` returns it with defaults filled in). */
export interface Config {
  defaultRegion?: string
  timezone?: string
  columns?: Record<string, string>
  identifiers?: Record<string, IdentifierSettings>
  blockedValues?: Record<string, Array<string>>
  defaultBlockedValues?: boolean
  sharedIdentifiers?: Limits
  quarantine?: Limits
  survivorship?: SurvivorshipConfig
  matching?: MatchingConfig
  maxFieldBytes?: number
  traits?: TraitSettings
  consent?: ConsentSettings
  segments?: Record<string, SegmentSettings>
}

/** A user-defined trait: `aggregate` of `field` over the events that pass the filter. */
export interface CustomTrait {
  aggregate: 'count' | 'sum' | 'min' | 'max' | 'first' | 'last' | 'distinct'
  field?: string
  events?: Array<string>
  channels?: Array<string>
  withinDays?: number
}

/** How computed traits read touchpoints. */
export interface TraitSettings {
  /** `latest` (the latest touchpoint held) or a timestamp. */
  asOf?: string
  lapsedAfterDays?: number
  abandonedCartHours?: number
  loyalAfterOrders?: number
  offlineChannels?: Array<string>
  events?: {
    purchase?: Array<string>
    addToCart?: Array<string>
    removeFromCart?: Array<string>
    evaluation?: Array<string>
    exploration?: Array<string>
  }
  cart?: { sku?: string; quantity?: string }
  custom?: Record<string, CustomTrait>
}

/** Which touchpoints grant or withdraw consent. */
export interface ConsentSettings {
  grantEvents?: Array<string>
  withdrawEvents?: Array<string>
  purposeAttribute?: string
  channelAttribute?: string
  defaultPurpose?: string
}

/** A named segment: `where` is an expression of the segment language. */
export interface SegmentSettings {
  where: string
  channel?: string
  purpose?: string
  requireConsent?: boolean
}

/** Settings of a `Linker` (Splink-style), camelCase or snake_case. */
export interface LinkSettings {
  linkType?: 'dedupe_only' | 'link_only' | 'link_and_dedupe'
  uniqueIdColumn?: string
  comparisons: Array<ComparisonSpec>
  blockingRules: Array<Array<string>>
  threshold?: number
  training?: TrainingSettings
  maxBlockRecords?: number
}

export interface ScoredPair {
  left: string
  right: string
  matchWeight: number
  matchProbability: number
  blockingRule: number
}

export interface ClusterAssignment {
  recordId: string
  clusterId: string
}

export interface NormalizedEmail {
  display: string
  canonical: string
}

export type NormalizedPhone =
  | { status: 'valid'; e164: string }
  | { status: 'masked'; visibleSuffix: string }
  | { status: 'invalid' }

export interface NormalizedName {
  display: string
  folded: string
  key: string
}
