/**
 * A small decoder for the OTLP export requests (opentelemetry/proto, v1): protobuf bytes into
 * the shape OTLP/JSON uses (camelCase fields, hex trace and span ids, 64-bit integers as decimal
 * strings, bytes as base64), so one reader serves both encodings. Unknown fields are skipped.
 */

type ScalarType =
  | 'string'
  | 'bool'
  | 'varint'
  | 'int64'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed64'
  | 'double'
  | 'hex'
  | 'base64'

interface Field {
  name: string
  type: ScalarType | Schema
  repeated?: true
}

type Schema = { [field: number]: Field }

// biome-ignore lint/suspicious/noExplicitAny: decoded messages are read field by field.
export type DecodedMessage = Record<string, any>

const wireVarint = 0
const wireFixed64 = 1
const wireLengthDelimited = 2
const wireFixed32 = 5

class ProtobufReader {
  private position = 0
  private readonly view: DataView

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get done(): boolean {
    return this.position >= this.bytes.length
  }

  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (this.position >= this.bytes.length) throw new Error('truncated varint')
      const byte = this.bytes[this.position++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error('varint longer than 64 bits')
    }
  }

  lengthDelimited(): Uint8Array {
    const length = Number(this.varint())
    const end = this.position + length
    if (end > this.bytes.length) throw new Error('truncated length-delimited field')
    const slice = this.bytes.subarray(this.position, end)
    this.position = end
    return slice
  }

  fixed32(): number {
    const value = this.view.getUint32(this.take(4), true)
    return value
  }

  fixed64(): bigint {
    return this.view.getBigUint64(this.take(8), true)
  }

  sfixed64(): bigint {
    return this.view.getBigInt64(this.take(8), true)
  }

  double(): number {
    return this.view.getFloat64(this.take(8), true)
  }

  skip(wireType: number): void {
    if (wireType === wireVarint) this.varint()
    else if (wireType === wireFixed64) this.take(8)
    else if (wireType === wireLengthDelimited) this.lengthDelimited()
    else if (wireType === wireFixed32) this.take(4)
    else throw new Error(`unsupported wire type ${wireType}`)
  }

  private take(size: number): number {
    const at = this.position
    if (at + size > this.bytes.length) throw new Error('truncated fixed-size field')
    this.position += size
    return at
  }
}

function readScalar(reader: ProtobufReader, type: ScalarType, wireType: number): unknown {
  switch (type) {
    case 'string':
      return new TextDecoder().decode(reader.lengthDelimited())
    case 'hex':
      return Buffer.from(reader.lengthDelimited()).toString('hex')
    case 'base64':
      return Buffer.from(reader.lengthDelimited()).toString('base64')
    case 'bool':
      return reader.varint() !== 0n
    case 'varint':
      return Number(reader.varint())
    case 'int64':
      return BigInt.asIntN(64, reader.varint()).toString()
    case 'fixed32':
      return wireType === wireVarint ? Number(reader.varint()) : reader.fixed32()
    case 'fixed64':
      return reader.fixed64().toString()
    case 'sfixed64':
      return reader.sfixed64().toString()
    case 'double':
      return reader.double()
  }
}

const packable: ReadonlySet<ScalarType> = new Set([
  'bool',
  'varint',
  'int64',
  'fixed32',
  'fixed64',
  'sfixed64',
  'double',
])

export function decodeMessage(bytes: Uint8Array, schema: Schema): DecodedMessage {
  const reader = new ProtobufReader(bytes)
  const message: DecodedMessage = {}
  for (const field of Object.values(schema)) if (field.repeated) message[field.name] = []
  while (!reader.done) {
    const tag = Number(reader.varint())
    const number = tag >>> 3
    const wireType = tag & 7
    const field = schema[number]
    if (field === undefined) {
      reader.skip(wireType)
      continue
    }
    if (typeof field.type === 'object') {
      const value = decodeMessage(reader.lengthDelimited(), field.type)
      if (field.repeated) message[field.name].push(value)
      else message[field.name] = value
      continue
    }
    if (field.repeated && wireType === wireLengthDelimited && packable.has(field.type)) {
      const packed = new ProtobufReader(reader.lengthDelimited())
      const elementWire =
        field.type === 'double' || field.type === 'fixed64' || field.type === 'sfixed64'
          ? wireFixed64
          : field.type === 'fixed32'
            ? wireFixed32
            : wireVarint
      while (!packed.done) message[field.name].push(readScalar(packed, field.type, elementWire))
      continue
    }
    const value = readScalar(reader, field.type, wireType)
    if (field.repeated) message[field.name].push(value)
    else message[field.name] = value
  }
  return message
}

const anyValue: Schema = {}
const keyValue: Schema = {
  1: { name: 'key', type: 'string' },
  2: { name: 'value', type: anyValue },
}
Object.assign(anyValue, {
  1: { name: 'stringValue', type: 'string' },
  2: { name: 'boolValue', type: 'bool' },
  3: { name: 'intValue', type: 'int64' },
  4: { name: 'doubleValue', type: 'double' },
  5: { name: 'arrayValue', type: { 1: { name: 'values', type: anyValue, repeated: true } } },
  6: { name: 'kvlistValue', type: { 1: { name: 'values', type: keyValue, repeated: true } } },
  7: { name: 'bytesValue', type: 'base64' },
} satisfies Schema)

const attributes: Field = { name: 'attributes', type: keyValue, repeated: true }

const resource: Schema = {
  1: attributes,
  2: { name: 'droppedAttributesCount', type: 'varint' },
}

const scope: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'version', type: 'string' },
  3: attributes,
  4: { name: 'droppedAttributesCount', type: 'varint' },
}

const span: Schema = {
  1: { name: 'traceId', type: 'hex' },
  2: { name: 'spanId', type: 'hex' },
  3: { name: 'traceState', type: 'string' },
  4: { name: 'parentSpanId', type: 'hex' },
  5: { name: 'name', type: 'string' },
  6: { name: 'kind', type: 'varint' },
  7: { name: 'startTimeUnixNano', type: 'fixed64' },
  8: { name: 'endTimeUnixNano', type: 'fixed64' },
  9: attributes,
  10: { name: 'droppedAttributesCount', type: 'varint' },
  11: {
    name: 'events',
    repeated: true,
    type: {
      1: { name: 'timeUnixNano', type: 'fixed64' },
      2: { name: 'name', type: 'string' },
      3: attributes,
      4: { name: 'droppedAttributesCount', type: 'varint' },
    },
  },
  12: { name: 'droppedEventsCount', type: 'varint' },
  13: {
    name: 'links',
    repeated: true,
    type: {
      1: { name: 'traceId', type: 'hex' },
      2: { name: 'spanId', type: 'hex' },
      3: { name: 'traceState', type: 'string' },
      4: attributes,
      5: { name: 'droppedAttributesCount', type: 'varint' },
      6: { name: 'flags', type: 'fixed32' },
    },
  },
  14: { name: 'droppedLinksCount', type: 'varint' },
  15: {
    name: 'status',
    type: { 2: { name: 'message', type: 'string' }, 3: { name: 'code', type: 'varint' } },
  },
  16: { name: 'flags', type: 'fixed32' },
}

/** opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest */
export const exportTraceServiceRequest: Schema = {
  1: {
    name: 'resourceSpans',
    repeated: true,
    type: {
      1: { name: 'resource', type: resource },
      2: {
        name: 'scopeSpans',
        repeated: true,
        type: {
          1: { name: 'scope', type: scope },
          2: { name: 'spans', type: span, repeated: true },
          3: { name: 'schemaUrl', type: 'string' },
        },
      },
      3: { name: 'schemaUrl', type: 'string' },
    },
  },
}

const times = {
  2: { name: 'startTimeUnixNano', type: 'fixed64' },
  3: { name: 'timeUnixNano', type: 'fixed64' },
} satisfies Schema

const numberDataPoint: Schema = {
  ...times,
  4: { name: 'asDouble', type: 'double' },
  6: { name: 'asInt', type: 'sfixed64' },
  7: attributes,
  8: { name: 'flags', type: 'varint' },
}

const histogramDataPoint: Schema = {
  ...times,
  4: { name: 'count', type: 'fixed64' },
  5: { name: 'sum', type: 'double' },
  6: { name: 'bucketCounts', type: 'fixed64', repeated: true },
  7: { name: 'explicitBounds', type: 'double', repeated: true },
  9: attributes,
  10: { name: 'flags', type: 'varint' },
  11: { name: 'min', type: 'double' },
  12: { name: 'max', type: 'double' },
}

const exponentialHistogramDataPoint: Schema = {
  1: attributes,
  ...times,
  4: { name: 'count', type: 'fixed64' },
  5: { name: 'sum', type: 'double' },
  12: { name: 'min', type: 'double' },
  13: { name: 'max', type: 'double' },
}

const summaryDataPoint: Schema = {
  ...times,
  4: { name: 'count', type: 'fixed64' },
  5: { name: 'sum', type: 'double' },
  7: attributes,
}

function dataPoints(point: Schema, withTemporality: boolean): Schema {
  const schema: Schema = { 1: { name: 'dataPoints', type: point, repeated: true } }
  if (withTemporality) schema[2] = { name: 'aggregationTemporality', type: 'varint' }
  return schema
}

const metric: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'description', type: 'string' },
  3: { name: 'unit', type: 'string' },
  5: { name: 'gauge', type: dataPoints(numberDataPoint, false) },
  7: {
    name: 'sum',
    type: { ...dataPoints(numberDataPoint, true), 3: { name: 'isMonotonic', type: 'bool' } },
  },
  9: { name: 'histogram', type: dataPoints(histogramDataPoint, true) },
  10: { name: 'exponentialHistogram', type: dataPoints(exponentialHistogramDataPoint, true) },
  11: { name: 'summary', type: dataPoints(summaryDataPoint, false) },
}

/** opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest */
export const exportMetricsServiceRequest: Schema = {
  1: {
    name: 'resourceMetrics',
    repeated: true,
    type: {
      1: { name: 'resource', type: resource },
      2: {
        name: 'scopeMetrics',
        repeated: true,
        type: {
          1: { name: 'scope', type: scope },
          2: { name: 'metrics', type: metric, repeated: true },
          3: { name: 'schemaUrl', type: 'string' },
        },
      },
      3: { name: 'schemaUrl', type: 'string' },
    },
  },
}
