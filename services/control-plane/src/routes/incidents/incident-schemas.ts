import { incidentSeverities } from '@ringmaster/domain'
import { Type } from 'typebox'
import { Name, Nullable, StringEnum, Timestamp } from '../../schemas/common.js'

const Severity = StringEnum(incidentSeverities, 'How bad: sev1 (worst) to sev4')
const Title = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'What users see, in a line',
})
const ReviewUrl = Nullable(
  Type.String({
    format: 'uri',
    maxLength: 2000,
    description: 'Link to the post-incident review; null removes it',
  }),
)
const Notes = Type.String({
  maxLength: 20000,
  description: 'Blameless notes: what happened, what helped, what to change',
})

export const Incident = Type.Object(
  {
    id: Type.Integer({ description: 'The incident id' }),
    service: Type.String({ description: 'The service affected' }),
    severity: Severity,
    title: Type.String({ description: 'What users see' }),
    ring: Nullable(Type.String({ description: 'The ring affected; null for the whole fleet' })),
    scaleUnits: Type.Array(Type.String({ description: 'A scale unit name' }), {
      description: 'The scale units affected; empty when it is the whole ring or fleet',
    }),
    trafficShare: Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'Share of the fleet traffic weight on the scale units affected, fixed when the incident was declared (1 = the whole fleet); it weighs the traffic-weighted figures',
    }),
    releaseId: Nullable(Type.Integer({ description: 'The release suspected of causing it' })),
    haltId: Nullable(
      Type.Integer({ description: 'The halt declared with it (halt: true); lift it with DELETE' }),
    ),
    startedAt: Timestamp('When users started to be affected'),
    detectedAt: Timestamp('When someone noticed; time to restore starts here'),
    mitigatedAt: Nullable(Timestamp('When the impact stopped growing (null until then)')),
    resolvedAt: Nullable(Timestamp('When service was restored; null while the incident is open')),
    reviewUrl: Nullable(Type.String({ description: 'Link to the post-incident review' })),
    notes: Type.String({ description: 'Blameless notes' }),
    createdBy: Type.String({ description: 'Who declared it' }),
    traceId: Type.String({
      pattern: '^[0-9a-f]{32}$',
      description:
        'The OpenTelemetry trace of the incident, recorded when it is resolved and linked to the release it blames',
    }),
    createdAt: Timestamp('When it was declared here'),
    updatedAt: Timestamp('When it last changed'),
  },
  {
    $id: 'Incident',
    description: 'An incident: when it was detected, mitigated and resolved, and what it blames',
    additionalProperties: false,
  },
)

export const CreateIncidentBody = Type.Object(
  {
    service: Name('The service affected; it must exist'),
    severity: Severity,
    title: Title,
    ring: Type.Optional(
      Name(
        'The ring affected; omit for the whole fleet (or to take the ring the scale units share)',
      ),
    ),
    scaleUnits: Type.Optional(
      Type.Array(Name('A scale unit affected'), {
        uniqueItems: true,
        maxItems: 1000,
        description: 'The scale units affected; omit when it is the whole ring or fleet',
      }),
    ),
    releaseId: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The release suspected of causing it; a release of the same service',
      }),
    ),
    startedAt: Type.Optional(
      Timestamp('When users started to be affected; default detectedAt, never after it'),
    ),
    detectedAt: Type.Optional(Timestamp('When someone noticed; default now, not in the future')),
    halt: Type.Optional(
      Type.Boolean({
        description:
          'Also stop the line for the service, in the same transaction (a service halt; its id is haltId)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const UpdateIncidentBody = Type.Object(
  {
    severity: Type.Optional(Severity),
    title: Type.Optional(Title),
    reviewUrl: Type.Optional(ReviewUrl),
    notes: Type.Optional(Notes),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const IncidentTimeBody = (what: string) =>
  Type.Object(
    {
      at: Type.Optional(
        Timestamp(`When it was ${what}; default now. Not before detection, not in the future`),
      ),
    },
    { additionalProperties: false },
  )

export const IncidentParams = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'The incident id' }) },
  { additionalProperties: false },
)

export const IncidentQuery = Type.Object(
  {
    service: Type.Optional(Name('Only incidents of this service')),
    open: Type.Optional(
      Type.Boolean({ description: 'true: only open (unresolved) incidents; false: only resolved' }),
    ),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Only incidents with a smaller id (the next page)' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size' }),
    ),
  },
  { additionalProperties: false },
)

export const IncidentList = Type.Object(
  {
    incidents: Type.Array(Incident, { description: 'Newest first' }),
    nextBefore: Nullable(
      Type.Integer({ description: 'Pass as `before` for the next page; null on the last page' }),
    ),
  },
  { $id: 'IncidentList', description: 'Incidents', additionalProperties: false },
)
