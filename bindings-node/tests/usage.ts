// The README's usage, type-checked against the package's declarations (tsc -p tests): a
// signature or type that drifts from what the docs show fails the suite.
import { Engine, InvalidInputError, OmnitwinError, resolve, normalizePhone, Linker } from '..'
import type { Change, IngestOutcome, Profile, Touchpoint, Explanation, ResolveReport } from '..'

async function main(rows: Array<Touchpoint>): Promise<void> {
  const engine = new Engine({ defaultRegion: 'VN', timezone: '+07:00' })
  const { profileId, changes }: IngestOutcome = engine.ingestOne({ touchpointId: 't1', channel: 'web', email: 'An@Gmail.com', timestamp: new Date() })
  const merged: Array<Change> = changes.filter((c) => c.change === 'merged')
  await engine.ingest(rows) // big batches off the main thread
  await engine.ingest('touchpoints.csv', { onError: 'skip' })
  const report: ResolveReport = await engine.resolve()
  const profile: Profile | null = engine.lookup({ phone: '0912 345 678' })
  const byCustomerId = engine.lookup({ customerId: 'C-17', scope: 'eshop' })
  const then: Profile | null = engine.profileOf('t1', { asOf: new Date(Date.now() - 86_400_000) })
  const ackedAt: number | null = engine.acknowledgedAt('t1')
  void then; void ackedAt
  const why: Explanation = engine.explain('t1', 't2')
  const email: string | undefined = profile?.attributes['email']?.value
  const feed = engine.changes(merged.length ? merged[0].seq : 0)
  const stored = await Engine.open('cdp.db')
  const erased = await stored.forget({ email: 'an@gmail.com' }, { suppress: true })
  const assignments = await resolve(rows, { matching: { enabled: false } })
  const phone = normalizePhone('0912 345 678', 'VN')
  const e164 = phone && phone.status === 'valid' ? phone.e164 : null
  const linker = await Linker.create({ comparisons: [{ column: 'name', levels: ['exact', { jaro_winkler: 0.9 }] }], blockingRules: [['city']] }, [[{ unique_id: '1', name: 'An', city: 'HN' }]])
  const trained = await linker.train()
  try {
    engine.ingestOne({ touchpointId: 't9', timestamp: 'yesterday' })
  } catch (err) {
    if (err instanceof InvalidInputError) console.log(err.code, err.row, err.column)
    else if (err instanceof OmnitwinError) console.log(err.kind)
  }
  console.log(profileId, report.profiles, byCustomerId?.profileId, why.sameProfile, email, feed.length, erased.touchpoints, assignments[0]?.profileId, e164, trained.emIterations)
}

void main
