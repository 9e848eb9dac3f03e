import { type Static, Type } from 'typebox'

export const FieldProblem = Type.Object(
  {
    path: Type.String({
      description: 'Where in the request: body/policy/maxParallel, query/limit, …',
    }),
    message: Type.String({ description: 'What is wrong there' }),
  },
  { additionalProperties: false },
)

/** RFC 9457 problem details: every error this API returns has this shape. */
export const Problem = Type.Object(
  {
    type: Type.String({
      description:
        'A stable URI reference naming the kind of problem (for example /problems/validation-failed); branch on this, not on the title',
    }),
    title: Type.String({ description: 'A short summary of the kind of problem' }),
    status: Type.Integer({ description: 'The HTTP status code' }),
    detail: Type.String({ description: 'What went wrong this time, and what to do about it' }),
    instance: Type.String({ description: 'The request path that produced the problem' }),
    requestId: Type.String({ description: 'Quote this when asking for help; it is in the logs' }),
    errors: Type.Optional(
      Type.Array(FieldProblem, { description: 'Every invalid field, for validation problems' }),
    ),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description: 'RFC 9457 problem details (media type application/problem+json)',
  },
)
export type Problem = Static<typeof Problem>

export const problemRef = Type.Unsafe<Problem>(Type.Ref('Problem'))

export const problemResponse = {
  description: 'A problem (RFC 9457)',
  content: { 'application/problem+json': { schema: problemRef } },
}

/** The error responses a route can produce, to spread into its `response` schema. */
export function problemResponses<const Code extends number>(...codes: Code[]) {
  return Object.fromEntries(codes.map((code) => [code, problemResponse])) as Record<
    Code,
    typeof problemResponse
  >
}
