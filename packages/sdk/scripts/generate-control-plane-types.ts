/**
 * Writes src/generated/control-plane.ts from openapi/control-plane.json. With --check, fails
 * when the checked-in file differs from what the document generates (test/generated.test.ts
 * runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'
import ts from 'typescript'

export const openapiDocument = new URL('../../../openapi/control-plane.json', import.meta.url)
export const generatedTypes = new URL('../src/generated/control-plane.ts', import.meta.url)

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read as plain JSON.
type Json = any

/** The TypeScript the OpenAPI document generates, exactly as it is checked in. */
export async function generateControlPlaneTypes(): Promise<string> {
  const document = JSON.parse(readFileSync(openapiDocument, 'utf8'))
  const nodes = await openapiTS(document, {
    silent: true,
    rootTypes: true,
    rootTypesNoSchemaPrefix: true,
  })
  const kept = nodes.filter((node) => !isResponseOrParameterAlias(node)).map(withoutNoise)
  return `${COMMENT_HEADER}${astToString(kept)}${helperTypes}${defaultsModule(document)}`
}

const isNeverMember = (member: ts.TypeElement) =>
  ts.isPropertySignature(member) &&
  member.questionToken !== undefined &&
  member.type?.kind === ts.SyntaxKind.NeverKeyword

const memberName = (member: ts.TypeElement) =>
  member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))
    ? member.name.text
    : undefined

/** `{ [name: string]: unknown }`: what openapi-typescript says of headers nobody documented. */
const isAnyHeaders = (member: ts.TypeElement) =>
  ts.isPropertySignature(member) &&
  memberName(member) === 'headers' &&
  member.type !== undefined &&
  ts.isTypeLiteralNode(member.type) &&
  member.type.members.length === 1 &&
  ts.isIndexSignatureDeclaration(member.type.members[0]!) &&
  member.type.members[0].type.kind === ts.SyntaxKind.UnknownKeyword

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/**
 * openapi-typescript writes each method a path lacks and each parameter kind an operation lacks
 * as `?: never`, path-level parameters nobody declares, and undocumented response headers as an
 * index signature: most of its output. openapi-fetch needs every path item to name every method,
 * which `PathItem<…>` (below) does in one line instead of eight. It reads parameters from the
 * operation and only response content; an undeclared parameter kind is refused as an excess
 * property as long as the operation declares one, so an operation that declares none keeps its
 * all-`never` block. Comments are kept, one line each; `@enum` goes, as the union type says it.
 */
function withoutNoise(node: ts.Node): ts.Node {
  if (ts.isInterfaceDeclaration(node) && node.name.text === 'paths') {
    const members = node.members.map((member) => {
      if (!ts.isPropertySignature(member) || !member.type || !ts.isTypeLiteralNode(member.type))
        return member
      const item = member.type.members.filter(
        (element) =>
          !(isNeverMember(element) && httpMethods.includes(memberName(element) ?? '')) &&
          !(
            memberName(element) === 'parameters' &&
            ts.isPropertySignature(element) &&
            element.type !== undefined &&
            ts.isTypeLiteralNode(element.type) &&
            element.type.members.every(isNeverMember)
          ),
      )
      const pathItem = ts.factory.createTypeReferenceNode('PathItem', [
        ts.factory.createTypeLiteralNode(item.map((element) => lean(element) as ts.TypeElement)),
      ])
      return ts.factory.updatePropertySignature(
        member,
        member.modifiers,
        member.name,
        member.questionToken,
        pathItem,
      )
    })
    return ts.factory.updateInterfaceDeclaration(
      node,
      node.modifiers,
      node.name,
      node.typeParameters,
      node.heritageClauses,
      members,
    )
  }
  return lean(node)
}

function lean(node: ts.Node): ts.Node {
  let next = node
  if (ts.isTypeLiteralNode(node)) {
    const members = node.members.filter((member) => !isAnyHeaders(member))
    const declared = members.filter((member) => !isNeverMember(member))
    const kept = declared.length > 0 ? declared : members
    if (kept.length === 1 && isNeverMember(kept[0]!) && memberName(kept[0]!) === 'content') {
      return ts.factory.createTypeReferenceNode('NoContent')
    }
    if (kept.length !== node.members.length) {
      next = ts.factory.updateTypeLiteralNode(node, ts.factory.createNodeArray(kept))
    }
  }
  if (isIdempotencyKeyHeader(node)) {
    return ts.factory.updatePropertySignature(
      node,
      node.modifiers,
      node.name,
      node.questionToken,
      ts.factory.createTypeReferenceNode('IdempotencyKeyHeader'),
    )
  }
  if (
    ts.isPropertySignature(node) &&
    memberName(node) === 'parameters' &&
    node.type !== undefined &&
    ts.isTypeLiteralNode(node.type) &&
    node.type.members.every(isNeverMember)
  ) {
    return ts.factory.updatePropertySignature(
      node,
      node.modifiers,
      node.name,
      node.questionToken,
      ts.factory.createTypeReferenceNode('NoParameters'),
    )
  }
  const visited = ts.visitEachChild(next, lean, undefined as unknown as ts.TransformationContext)
  const comments = ts.getSyntheticLeadingComments(node)
  // A parameter used by reference is described once, in components["parameters"].
  if (comments && !isParameterReference(node)) {
    ts.setSyntheticLeadingComments(visited, comments.map(oneLine))
  } else if (comments) {
    ts.setSyntheticLeadingComments(visited, undefined)
  }
  return visited
}

/** `header?: { "idempotency-key"?: … }`, the same on every write a retry may repeat. */
function isIdempotencyKeyHeader(node: ts.Node): node is ts.PropertySignature {
  return (
    ts.isPropertySignature(node) &&
    memberName(node) === 'header' &&
    node.type !== undefined &&
    ts.isTypeLiteralNode(node.type) &&
    node.type.members.length === 1 &&
    memberName(node.type.members[0]!) === 'idempotency-key' &&
    isParameterReference(node.type.members[0]!)
  )
}

function isParameterReference(node: ts.Node): boolean {
  return (
    ts.isPropertySignature(node) &&
    node.type !== undefined &&
    ts.isIndexedAccessTypeNode(node.type) &&
    ts.isIndexedAccessTypeNode(node.type.objectType) &&
    ts.isLiteralTypeNode(node.type.objectType.indexType) &&
    ts.isStringLiteral(node.type.objectType.indexType.literal) &&
    node.type.objectType.indexType.literal.text === 'parameters'
  )
}

/** The root types of components["responses"], ["requestBodies"] and ["parameters"]: the models are what is named. */
function isResponseOrParameterAlias(node: ts.Node): boolean {
  if (!ts.isTypeAliasDeclaration(node)) return false
  const printed = astToString(node.type)
  return /^components\[['"](responses|requestBodies|parameters)['"]\]/.test(printed.trim())
}

function oneLine(comment: ts.SynthesizedComment): ts.SynthesizedComment {
  if (comment.kind !== ts.SyntaxKind.MultiLineCommentTrivia || !comment.text.includes('\n'))
    return comment
  const parts = comment.text
    .split('\n')
    .map((line) => line.replace(/^\s*\*?\s?/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('@enum '))
  return { ...comment, text: `* ${parts.join(' ')} ` }
}

const helperTypes = `
/** A path's operations; the methods it lacks are \`never\`, as openapi-fetch expects. */
type PathItem<Operations> = Operations & { [Method in Exclude<${httpMethods.map((method) => `"${method}"`).join(' | ')}, keyof Operations>]?: never };
/** A response without a body. */
type NoContent = { content?: never };
/** The header of a write a retry may repeat: an Idempotency-Key makes the retry safe. */
type IdempotencyKeyHeader = { "idempotency-key"?: components["parameters"]["IdempotencyKey"] };
/** The parameters of an operation that takes none. */
type NoParameters = { query?: never; header?: never; path?: never; cookie?: never };
`

/** Defaults the CLI must agree with the server on, as values, read from the document. */
function defaultsModule(document: Json): string {
  const createRing = document.paths['/v1/rings'].post
  const policy = createRing.requestBody.content['application/json'].schema.properties.policy
  if (policy?.default === undefined) {
    throw new Error('POST /v1/rings documents no default for policy')
  }
  return `
/** What a ring created without a policy gets (the default of POST /v1/rings \`policy\`). */
export const defaultRingPolicy: components["schemas"]["RingPolicy"] = ${JSON.stringify(policy.default)};
`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const generated = await generateControlPlaneTypes()
  if (process.argv.includes('--check')) {
    if (readFileSync(generatedTypes, 'utf8') !== generated) {
      process.stderr.write(
        'src/generated/control-plane.ts is stale: run `pnpm --filter @ringmaster/sdk generate`.\n',
      )
      process.exit(1)
    }
    process.stdout.write('src/generated/control-plane.ts is up to date\n')
  } else {
    writeFileSync(generatedTypes, generated)
    process.stdout.write(`wrote ${fileURLToPath(generatedTypes)}\n`)
  }
}
