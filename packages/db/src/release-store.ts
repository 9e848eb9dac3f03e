import {
  type Approval,
  type ApprovalRepository,
  activeReleaseStates,
  type Deployment,
  type DeploymentChange,
  type DeploymentRepository,
  type FreezeWindow,
  type FreezeWindowRepository,
  type Halt,
  type HaltRepository,
  type HealthReport,
  type HealthReportRepository,
  type InstalledVersionRepository,
  type NewApproval,
  type NewDeployment,
  type NewFreezeWindow,
  type NewHalt,
  type NewHealthReport,
  type NewRelease,
  type NewStage,
  openDeploymentStates,
  type ReadOptions,
  type Release,
  type ReleaseChange,
  type ReleaseFilter,
  type ReleaseRepository,
  type ReleaseStoreTransaction,
  type Stage,
  type StageChange,
  type StageRepository,
  type StageState,
  storedRingPolicy,
} from '@ringmaster/domain'
import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  inArray,
  isNull,
  lt,
  lte,
  ne,
  or,
  type SQL,
  sql,
} from 'drizzle-orm'
import type { RingmasterDatabase } from './database.js'
import {
  approvals,
  deployments,
  freezeWindows,
  halts,
  healthReports,
  incidents,
  installedVersions,
  releaseStages,
  releases,
  services,
} from './schema/index.js'
import { dateChange, dateOrNull, iso, isoOrNull } from './timestamps.js'

// Stopping the line (HaltRepository.lockLine): halts are created under this transaction-scoped
// advisory lock taken exclusively, waves start under it taken shared. Any constant works as long
// as every replica uses the same one and no other lock does (the audit log uses 0x41554454).
const lineLockKey = 0x48414c54

// PostgreSQL takes at most 65,535 parameters per statement; a deployment row binds 10.
const deploymentInsertChunk = 1_000

/** The release engine's repositories on one connection or transaction. */
export function releaseRepositories(db: RingmasterDatabase): ReleaseStoreTransaction {
  return {
    releases: new DrizzleReleaseRepository(db),
    stages: new DrizzleStageRepository(db),
    deployments: new DrizzleDeploymentRepository(db),
    approvals: new DrizzleApprovalRepository(db),
    halts: new DrizzleHaltRepository(db),
    freezeWindows: new DrizzleFreezeWindowRepository(db),
    healthReports: new DrizzleHealthReportRepository(db),
    installedVersions: new DrizzleInstalledVersionRepository(db),
  }
}

/** Drops the fields a change leaves out, so `set` never sees an empty object by accident. */
function definedFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>
}

class DrizzleReleaseRepository implements ReleaseRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(release: NewRelease): Promise<Release> {
    const [row] = await this.db
      .insert(releases)
      .values({
        serviceId: sql`(select ${services.id} from ${services} where ${services.name} = ${release.service})`,
        version: release.version,
        commit: release.commit,
        commitTime: dateOrNull(release.commitTime),
        buildUrl: release.buildUrl,
        notes: release.notes,
        kind: release.kind,
        reason: release.reason,
        requester: release.requester,
        ringFrom: release.ringFrom,
        ringTo: release.ringTo,
        incidentId: release.incidentId,
        state: 'queued',
        createdAt: new Date(release.createdAt),
        updatedAt: new Date(release.createdAt),
      })
      .returning()
    return toRelease({ release: row!, service: release.service })
  }

  async findById(id: number, options: ReadOptions = {}): Promise<Release | null> {
    const query = this.select().where(eq(releases.id, id))
    // Only the release row: the service row is locked by services.findByName when it must be.
    const [row] = await (options.forUpdate
      ? query.for('update', { of: releases })
      : options.forShare
        ? query.for('share', { of: releases })
        : query)
    return row ? toRelease(row) : null
  }

  async list(filter: ReleaseFilter): Promise<Release[]> {
    const rows = await this.select()
      .where(
        and(
          filter.service === undefined ? undefined : eq(services.name, filter.service),
          filter.version === undefined ? undefined : eq(releases.version, filter.version),
          filter.states === undefined ? undefined : inArray(releases.state, [...filter.states]),
          filter.currentStageStates === undefined
            ? undefined
            : currentStageIn(filter.currentStageStates),
          filter.beforeId === undefined ? undefined : lt(releases.id, filter.beforeId),
        ),
      )
      .orderBy(desc(releases.id))
      .limit(filter.limit)
    return rows.map(toRelease)
  }

  async update(id: number, change: ReleaseChange): Promise<Release> {
    await this.db
      .update(releases)
      .set({
        ...definedFields({
          state: change.state,
          halt: change.halt,
          outcome: change.outcome,
          finishedAt: dateChange(change.finishedAt),
          nextCheckAt: dateChange(change.nextCheckAt),
        }),
        // Saying when to look again is how the engine finishes with a release: free its lease.
        ...(change.nextCheckAt !== undefined && { leaseOwner: null, leaseUntil: null }),
        updatedAt: sql`now()`,
      })
      .where(eq(releases.id, id))
    return (await this.findById(id))!
  }

  async leaseDue(owner: string, now: string, leaseUntil: string, limit: number): Promise<number[]> {
    const at = new Date(now)
    const due = this.db
      .select({ id: releases.id })
      .from(releases)
      .where(
        and(
          inArray(releases.state, ['queued', 'in_progress']),
          or(isNull(releases.nextCheckAt), lte(releases.nextCheckAt, at)),
          or(
            isNull(releases.leaseUntil),
            lt(releases.leaseUntil, at),
            eq(releases.leaseOwner, owner),
          ),
        ),
      )
      .orderBy(asc(releases.id))
      .limit(limit)
      .for('update', { skipLocked: true })
    const rows = await this.db
      .update(releases)
      .set({ leaseOwner: owner, leaseUntil: new Date(leaseUntil) })
      .where(inArray(releases.id, due))
      .returning({ id: releases.id })
    return rows.map((row) => row.id).sort((a, b) => a - b)
  }

  private select() {
    return this.db
      .select({ release: releases, service: services.name })
      .from(releases)
      .innerJoin(services, eq(services.id, releases.serviceId))
      .$dynamic()
  }
}

/**
 * The release's current stage (its first not succeeded) is in one of `states`: a stage in one
 * of them with no earlier stage that has not succeeded.
 */
function currentStageIn(states: readonly StageState[]): SQL {
  return sql`exists (
    select 1 from ${releaseStages} as current_stage
    where current_stage.release_id = ${releases.id}
      and current_stage.state in (${sql.join(
        states.map((state) => sql`${state}`),
        sql`, `,
      )})
      and not exists (
        select 1 from ${releaseStages} as earlier_stage
        where earlier_stage.release_id = ${releases.id}
          and earlier_stage.position < current_stage.position
          and earlier_stage.state <> 'succeeded'))`
}

function toRelease(row: { release: typeof releases.$inferSelect; service: string }): Release {
  const { release } = row
  return {
    id: release.id,
    service: row.service,
    version: release.version,
    commit: release.commit,
    commitTime: isoOrNull(release.commitTime),
    buildUrl: release.buildUrl,
    notes: release.notes,
    kind: release.kind,
    reason: release.reason,
    requester: release.requester,
    ringFrom: release.ringFrom,
    ringTo: release.ringTo,
    state: release.state,
    halt: release.halt,
    outcome: release.outcome,
    traceId: release.traceId,
    incidentId: release.incidentId,
    createdAt: iso(release.createdAt),
    updatedAt: iso(release.updatedAt),
    finishedAt: isoOrNull(release.finishedAt),
  }
}

class DrizzleStageRepository implements StageRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insertMany(stages: readonly NewStage[]): Promise<Stage[]> {
    if (stages.length === 0) return []
    const rows = await this.db
      .insert(releaseStages)
      .values(
        stages.map((stage) => ({
          releaseId: stage.releaseId,
          position: stage.position,
          ring: stage.ring,
          ringOrder: stage.ringOrder,
          policy: stage.policy,
          waves: stage.waves,
          state: 'pending' as const,
        })),
      )
      .returning()
    return rows.map(toStage).sort((a, b) => a.id - b.id)
  }

  async listByRelease(releaseId: number): Promise<Stage[]> {
    const rows = await this.db
      .select()
      .from(releaseStages)
      .where(eq(releaseStages.releaseId, releaseId))
      .orderBy(asc(releaseStages.position))
    return rows.map(toStage)
  }

  async listCurrent(releaseIds: readonly number[]): Promise<Stage[]> {
    if (releaseIds.length === 0) return []
    const rows = await this.db
      .selectDistinctOn([releaseStages.releaseId])
      .from(releaseStages)
      .where(
        and(
          inArray(releaseStages.releaseId, [...releaseIds]),
          ne(releaseStages.state, 'succeeded'),
        ),
      )
      .orderBy(asc(releaseStages.releaseId), asc(releaseStages.position))
    return rows.map(toStage)
  }

  async update(id: number, change: StageChange): Promise<Stage> {
    const set = definedFields({
      state: change.state,
      currentWave: change.currentWave,
      gate: change.gate,
      stateSince: dateChange(change.stateSince),
      waveStartedAt: dateChange(change.waveStartedAt),
      startedAt: dateChange(change.startedAt),
      deployedAt: dateChange(change.deployedAt),
      bakeUntil: dateChange(change.bakeUntil),
      approvalExpiresAt: dateChange(change.approvalExpiresAt),
      finishedAt: dateChange(change.finishedAt),
      freezeOverride: change.freezeOverride,
    })
    const [row] =
      Object.keys(set).length === 0
        ? await this.db.select().from(releaseStages).where(eq(releaseStages.id, id))
        : await this.db.update(releaseStages).set(set).where(eq(releaseStages.id, id)).returning()
    return toStage(row!)
  }

  async findRingHolders(
    service: string,
    ring: string,
    states: readonly StageState[],
    excludeReleaseId: number,
  ): Promise<Array<{ releaseId: number; state: StageState }>> {
    if (states.length === 0) return []
    return this.db
      .select({ releaseId: releases.id, state: releaseStages.state })
      .from(releaseStages)
      .innerJoin(releases, eq(releases.id, releaseStages.releaseId))
      .innerJoin(services, eq(services.id, releases.serviceId))
      .where(
        and(
          eq(services.name, service),
          eq(releaseStages.ring, ring),
          inArray(releaseStages.state, [...states]),
          inArray(releases.state, [...activeReleaseStates]),
          ne(releases.id, excludeReleaseId),
        ),
      )
      .orderBy(asc(releases.id), asc(releaseStages.position))
  }
}

function toStage(row: typeof releaseStages.$inferSelect): Stage {
  return {
    id: row.id,
    releaseId: row.releaseId,
    position: row.position,
    ring: row.ring,
    ringOrder: row.ringOrder,
    policy: storedRingPolicy(row.policy),
    waves: row.waves,
    state: row.state,
    currentWave: row.currentWave,
    gate: row.gate,
    stateSince: isoOrNull(row.stateSince),
    waveStartedAt: isoOrNull(row.waveStartedAt),
    startedAt: isoOrNull(row.startedAt),
    deployedAt: isoOrNull(row.deployedAt),
    bakeUntil: isoOrNull(row.bakeUntil),
    approvalExpiresAt: isoOrNull(row.approvalExpiresAt),
    finishedAt: isoOrNull(row.finishedAt),
    freezeOverride: row.freezeOverride,
  }
}

class DrizzleDeploymentRepository implements DeploymentRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insertMany(list: readonly NewDeployment[]): Promise<Deployment[]> {
    const created: Deployment[] = []
    for (let start = 0; start < list.length; start += deploymentInsertChunk) {
      // A row another transaction is inserting makes this wait for it, then skip the row:
      // the unique index, not a read first, is what keeps two replicas from both creating it.
      const rows = await this.db
        .insert(deployments)
        .values(
          list.slice(start, start + deploymentInsertChunk).map((deployment) => ({
            releaseId: deployment.releaseId,
            stageId: deployment.stageId,
            ring: deployment.ring,
            service: deployment.service,
            scaleUnit: deployment.scaleUnit,
            wave: deployment.wave,
            kind: deployment.kind,
            version: deployment.version,
            previousVersion: deployment.previousVersion,
            requestedAt: new Date(deployment.requestedAt),
            state: 'pending' as const,
          })),
        )
        .onConflictDoNothing({
          target: [deployments.stageId, deployments.scaleUnit, deployments.kind],
        })
        .returning()
      created.push(...rows.map(toDeployment))
    }
    return created.sort((a, b) => a.id - b.id)
  }

  async findById(id: number, options: ReadOptions = {}): Promise<Deployment | null> {
    const query = this.db.select().from(deployments).where(eq(deployments.id, id)).$dynamic()
    const [row] = await (options.forUpdate ? query.for('update') : query)
    return row ? toDeployment(row) : null
  }

  async listByRelease(releaseId: number): Promise<Deployment[]> {
    return this.list(eq(deployments.releaseId, releaseId))
  }

  async listByStageWave(stageId: number, wave: number): Promise<Deployment[]> {
    return this.list(
      and(
        eq(deployments.stageId, stageId),
        eq(deployments.wave, wave),
        eq(deployments.kind, 'deploy'),
      ),
    )
  }

  async listOpenForScaleUnit(scaleUnit: string): Promise<Deployment[]> {
    return this.list(
      and(
        eq(deployments.scaleUnit, scaleUnit),
        inArray(deployments.state, [...openDeploymentStates]),
      ),
    )
  }

  async listHealthGated(service: string, scaleUnit: string): Promise<Deployment[]> {
    const rows = await this.db
      .select({ deployment: deployments })
      .from(deployments)
      .innerJoin(releaseStages, eq(releaseStages.id, deployments.stageId))
      .innerJoin(releases, eq(releases.id, deployments.releaseId))
      .where(
        and(
          eq(deployments.service, service),
          eq(deployments.scaleUnit, scaleUnit),
          eq(deployments.kind, 'deploy'),
          eq(deployments.state, 'succeeded'),
          inArray(releaseStages.state, ['deploying', 'baking']),
          eq(releases.state, 'in_progress'),
        ),
      )
      .orderBy(asc(deployments.id))
    return rows.map((row) => toDeployment(row.deployment))
  }

  async update(id: number, change: DeploymentChange): Promise<Deployment> {
    const set = definedFields({
      state: change.state,
      attempt: change.attempt,
      message: change.message,
      logsUrl: change.logsUrl,
      requestedAt: change.requestedAt === undefined ? undefined : new Date(change.requestedAt),
      startedAt: dateChange(change.startedAt),
      finishedAt: dateChange(change.finishedAt),
    })
    const [row] =
      Object.keys(set).length === 0
        ? await this.db.select().from(deployments).where(eq(deployments.id, id))
        : await this.db.update(deployments).set(set).where(eq(deployments.id, id)).returning()
    return toDeployment(row!)
  }

  async withdrawPending(releaseId: number, message: string, at: string): Promise<number> {
    const rows = await this.db
      .update(deployments)
      .set({ state: 'rolled_back', message, finishedAt: new Date(at) })
      .where(and(eq(deployments.releaseId, releaseId), eq(deployments.state, 'pending')))
      .returning({ id: deployments.id })
    return rows.length
  }

  private async list(condition: SQL | undefined): Promise<Deployment[]> {
    const rows = await this.db
      .select()
      .from(deployments)
      .where(condition)
      .orderBy(asc(deployments.id))
    return rows.map(toDeployment)
  }
}

function toDeployment(row: typeof deployments.$inferSelect): Deployment {
  return {
    id: row.id,
    releaseId: row.releaseId,
    stageId: row.stageId,
    ring: row.ring,
    service: row.service,
    scaleUnit: row.scaleUnit,
    wave: row.wave,
    kind: row.kind,
    version: row.version,
    previousVersion: row.previousVersion,
    state: row.state,
    attempt: row.attempt,
    message: row.message,
    logsUrl: row.logsUrl,
    createdAt: iso(row.createdAt),
    requestedAt: iso(row.requestedAt),
    startedAt: isoOrNull(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
  }
}

class DrizzleApprovalRepository implements ApprovalRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(approval: NewApproval): Promise<Approval> {
    const [row] = await this.db
      .insert(approvals)
      .values({
        releaseId: approval.releaseId,
        stageId: approval.stageId,
        ring: approval.ring,
        gate: approval.gate,
        subject: approval.subject,
        role: approval.role,
        decision: approval.decision,
        comment: approval.comment,
      })
      .returning()
    return toApproval(row!)
  }

  async listByStage(stageId: number): Promise<Approval[]> {
    const rows = await this.db
      .select()
      .from(approvals)
      .where(eq(approvals.stageId, stageId))
      .orderBy(asc(approvals.id))
    return rows.map(toApproval)
  }

  async listByRelease(releaseId: number): Promise<Approval[]> {
    const rows = await this.db
      .select()
      .from(approvals)
      .where(eq(approvals.releaseId, releaseId))
      .orderBy(asc(approvals.id))
    return rows.map(toApproval)
  }
}

function toApproval(row: typeof approvals.$inferSelect): Approval {
  return { ...row, at: iso(row.at) }
}

class DrizzleHaltRepository implements HaltRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async lockLine(mode: 'shared' | 'exclusive'): Promise<void> {
    await this.db.execute(
      mode === 'shared'
        ? sql`select pg_advisory_xact_lock_shared(${lineLockKey})`
        : sql`select pg_advisory_xact_lock(${lineLockKey})`,
    )
  }

  async insert(halt: NewHalt): Promise<Halt> {
    const [row] = await this.db
      .insert(halts)
      .values({
        scope: halt.scope,
        target: halt.target,
        reason: halt.reason,
        createdBy: halt.createdBy,
        ...(halt.createdAt !== undefined && { createdAt: new Date(halt.createdAt) }),
      })
      .returning()
    return toHalt(row!)
  }

  async findById(id: number, options: ReadOptions = {}): Promise<Halt | null> {
    const query = this.db.select(haltColumns).from(halts).where(eq(halts.id, id)).$dynamic()
    const [row] = await (options.forUpdate ? query.for('update', { of: halts }) : query)
    return row ? toHalt(row) : null
  }

  async listActive(): Promise<Halt[]> {
    const rows = await this.db
      .select(haltColumns)
      .from(halts)
      .where(isNull(halts.liftedAt))
      .orderBy(asc(halts.id))
    return rows.map(toHalt)
  }

  async list(limit: number): Promise<Halt[]> {
    const rows = await this.db.select(haltColumns).from(halts).orderBy(desc(halts.id)).limit(limit)
    return rows.map(toHalt)
  }

  async lift(id: number, by: string, at: string): Promise<Halt> {
    await this.db
      .update(halts)
      .set({ liftedBy: by, liftedAt: new Date(at) })
      .where(eq(halts.id, id))
    return (await this.findById(id))!
  }
}

/** A halt and the incident that opened it (incidents point at their halt, not the other way). */
const haltColumns = {
  ...getTableColumns(halts),
  // Qualified by hand: drizzle leaves the columns of a one-table select unqualified.
  incidentId: sql<
    number | null
  >`(select min(opener.id) from ${incidents} as opener where opener.halt_id = ${halts}.id)`.mapWith(
    (value: unknown) => (value === null ? null : Number(value)),
  ),
}

function toHalt(row: typeof halts.$inferSelect & { incidentId?: number | null }): Halt {
  return {
    ...row,
    createdAt: iso(row.createdAt),
    liftedAt: isoOrNull(row.liftedAt),
    incidentId: row.incidentId ?? null,
  }
}

class DrizzleFreezeWindowRepository implements FreezeWindowRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(window: NewFreezeWindow): Promise<FreezeWindow> {
    const [row] = await this.db
      .insert(freezeWindows)
      .values({
        name: window.name,
        scope: window.scope,
        target: window.target,
        startsAt: dateOrNull(window.startsAt),
        endsAt: dateOrNull(window.endsAt),
        schedule: window.schedule,
        reason: window.reason,
        createdBy: window.createdBy,
      })
      .returning()
    return toFreezeWindow(row!)
  }

  async findById(id: number): Promise<FreezeWindow | null> {
    const [row] = await this.db.select().from(freezeWindows).where(eq(freezeWindows.id, id))
    return row ? toFreezeWindow(row) : null
  }

  async list(): Promise<FreezeWindow[]> {
    const rows = await this.db.select().from(freezeWindows).orderBy(asc(freezeWindows.id))
    return rows.map(toFreezeWindow)
  }

  async delete(id: number): Promise<void> {
    await this.db.delete(freezeWindows).where(eq(freezeWindows.id, id))
  }
}

function toFreezeWindow(row: typeof freezeWindows.$inferSelect): FreezeWindow {
  return {
    ...row,
    startsAt: isoOrNull(row.startsAt),
    endsAt: isoOrNull(row.endsAt),
    createdAt: iso(row.createdAt),
  }
}

class DrizzleHealthReportRepository implements HealthReportRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async insert(report: NewHealthReport): Promise<HealthReport> {
    const [row] = await this.db
      .insert(healthReports)
      .values({
        scaleUnit: report.scaleUnit,
        service: report.service,
        status: report.status,
        signals: report.signals,
        reportedBy: report.reportedBy,
        at: new Date(report.at),
      })
      .returning()
    return toHealthReport(row!)
  }

  async listRecent(filter: {
    service?: string
    scaleUnit?: string
    limit: number
  }): Promise<HealthReport[]> {
    const rows = await this.db
      .select()
      .from(healthReports)
      .where(
        and(
          filter.service === undefined ? undefined : eq(healthReports.service, filter.service),
          filter.scaleUnit === undefined
            ? undefined
            : eq(healthReports.scaleUnit, filter.scaleUnit),
        ),
      )
      .orderBy(desc(healthReports.at), desc(healthReports.id))
      .limit(filter.limit)
    return rows.map(toHealthReport)
  }

  async latestFor(service: string, scaleUnits: readonly string[]): Promise<HealthReport[]> {
    if (scaleUnits.length === 0) return []
    const rows = await this.db
      .selectDistinctOn([healthReports.scaleUnit])
      .from(healthReports)
      .where(
        and(eq(healthReports.service, service), inArray(healthReports.scaleUnit, [...scaleUnits])),
      )
      .orderBy(healthReports.scaleUnit, desc(healthReports.at), desc(healthReports.id))
    return rows.map(toHealthReport)
  }
}

function toHealthReport(row: typeof healthReports.$inferSelect): HealthReport {
  return { ...row, at: iso(row.at) }
}

class DrizzleInstalledVersionRepository implements InstalledVersionRepository {
  constructor(private readonly db: RingmasterDatabase) {}

  async getMany(service: string, scaleUnits: readonly string[]): Promise<Map<string, string>> {
    if (scaleUnits.length === 0) return new Map()
    const rows = await this.db
      .select({ scaleUnit: installedVersions.scaleUnit, version: installedVersions.version })
      .from(installedVersions)
      .where(
        and(
          eq(installedVersions.service, service),
          inArray(installedVersions.scaleUnit, [...scaleUnits]),
        ),
      )
    return new Map(rows.map((row) => [row.scaleUnit, row.version]))
  }

  async listForScaleUnit(scaleUnit: string): Promise<Record<string, string>> {
    const rows = await this.db
      .select({ service: installedVersions.service, version: installedVersions.version })
      .from(installedVersions)
      .where(eq(installedVersions.scaleUnit, scaleUnit))
      .orderBy(asc(installedVersions.service))
    return Object.fromEntries(rows.map((row) => [row.service, row.version]))
  }

  async set(service: string, scaleUnit: string, version: string | null): Promise<void> {
    if (version === null) {
      await this.db
        .delete(installedVersions)
        .where(
          and(eq(installedVersions.service, service), eq(installedVersions.scaleUnit, scaleUnit)),
        )
      return
    }
    await this.db
      .insert(installedVersions)
      .values({ service, scaleUnit, version })
      .onConflictDoUpdate({
        target: [installedVersions.service, installedVersions.scaleUnit],
        set: { version, updatedAt: sql`now()` },
      })
  }
}
