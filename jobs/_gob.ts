/**
 * goqite's job format, written and read without Go: the Go `encoding/gob` stream of one value
 * of `struct { Name string; Message []byte }`, as goqite's `jobs.Create` writes it with a fresh
 * encoder per job.
 *
 * A gob stream is a sequence of messages, each a byte count and then that many bytes: first the
 * definition of every type the value needs (a negative type id, then the type), then the value
 * (its positive type id, then the struct's fields). Unsigned integers take one byte below 128;
 * above, one byte holding minus the number of big-endian bytes that follow. A signed integer is
 * shifted left by one, its bit complemented when negative, and sent as an unsigned one. A
 * struct's fields are each a field-number delta and a value, in order, ending with a zero
 * delta; fields whose value is zero (an empty string or slice) are not sent.
 *
 * **Encoding** gives, byte for byte, what Go (1.21 and later; goqite needs 1.24) gives for
 * goqite's struct in a program where it is the first type gob sees, as in goqite's runner
 * (type id 64): the 42-byte type definition, then the value. An empty name or body is left out,
 * as Go leaves it out. (Type ids belong to the Go process: a program that gob-encoded other
 * types first writes another id; every id reads the same.)
 *
 * **Decoding** is strict and bounded: it reads a whole stream of type definitions followed by
 * exactly one value, and throws `SyntaxError` (saying what is wrong and at which byte) for
 * anything else. It accepts:
 * - a struct of any type name and type id, with its fields in any order, as long as it has a
 *   field `Name` of a string type or a field `Message` of a byte-slice type (or both; a missing
 *   one reads as empty, as in Go); pointers are flattened by gob, so `*string` fields work too;
 * - extra fields, skipped as Go's decoder skips fields the receiving struct lacks: booleans,
 *   integers, floats, complex numbers, strings and byte slices, and the arrays, slices, maps and
 *   structs built from them (recursive types too), and values with their own encoding
 *   (`GobEncoder`, `BinaryMarshaler`, `TextMarshaler`, such as `time.Time`);
 * - integers encoded with more bytes than needed, as Go does.
 *
 * It refuses, where Go might not:
 * - an extra field holding an interface value (a nil one, which is not sent, is fine);
 * - nesting deeper than 64 levels, in types or values;
 * - a `Name` that is not valid UTF-8 (Go strings may hold any bytes; a JavaScript name could not
 *   match it exactly);
 * - a struct field `Name` or `Message` defined twice, a type definition that names more than
 *   one kind of type, and a type id out of range (below 1 or above 2^31 - 1) in a definition;
 * - a value of one of gob's own types (Go would fill `Name` from its `CommonType`);
 * - any struct, in a type definition or the value, without its closing zero delta (Go stops at
 *   the end of the message instead), extra bytes in a message, and any message after the value
 *   (Go's decoder reads the first value and leaves the rest).
 *
 * It refuses, as Go does: truncated input, integers of more than 8 bytes, lengths and counts
 * larger than the bytes left (checked before anything is read, so a forged length costs
 * nothing), unknown or duplicate type ids, field numbers past the struct's fields, `Name` or
 * `Message` of another type, and a value that is not a struct. The body it returns is a view
 * into the input, never a copy.
 *
 * @module
 */

/** A job as goqite's gob stream carries it. */
export interface GobJob {
  /** The struct's `Name`: empty when the stream did not send one. */
  readonly name: string;
  /** The struct's `Message`: a view into the decoded bytes, empty when not sent. */
  readonly body: Uint8Array;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");

// Gob's predefined type ids.
const BOOL = 1;
const INT = 2;
const UINT = 3;
const FLOAT = 4;
const BYTES = 5;
const STRING = 6;
const COMPLEX = 7;
const INTERFACE = 8;
/** Ids below this are gob's own; a stream may define only ids from here on. */
const FIRST_USER_ID = 64;
/** Go's type ids are 32-bit signed integers. */
const MAX_TYPE_ID = 2 ** 31 - 1;
/** How deeply types, and values, may nest. */
const MAX_DEPTH = 64;

/**
 * The type definition Go sends before the first value of goqite's struct, message and all, as
 * Go 1.21 and later write it (goqite needs Go 1.24): 41 bytes follow; type id -64; a wireType
 * whose field 2 (StructT) holds CommonType {Name: "message", Id: 64} and the fields
 * [{Name: "Name", Id: string (6)}, {Name: "Message", Id: bytes (5)}]; then the zero deltas that
 * close fieldType, structType and wireType. (Go 1.20 and older gave the first type id 65; the
 * decoder reads any id.)
 */
// deno-fmt-ignore
const TYPE_DEFINITION = Uint8Array.of(
  0x29, 0x7f, // message length 41, type id -64
  0x03, 0x01, 0x01, 0x07, ...ascii("message"), // StructT, CommonType, Name "message"
  0x01, 0xff, 0x80, 0x00, // Id 64, end of CommonType
  0x01, 0x02, // Field: a slice of 2
  0x01, 0x04, ...ascii("Name"), 0x01, 0x0c, 0x00, // {Name "Name", Id 6}
  0x01, 0x07, ...ascii("Message"), 0x01, 0x0a, 0x00, // {Name "Message", Id 5}
  0x00, 0x00, // end of structType, end of wireType
);
/** The value's type id, 64, as a signed integer. */
const VALUE_TYPE_ID = [0xff, 0x80];

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

/** How many bytes `x` takes as a gob unsigned integer. */
function uintSize(x: number): number {
  if (x < 0x80) return 1;
  let size = 1;
  for (let rest = x; rest >= 1; rest = Math.floor(rest / 256)) size++;
  return size;
}

/** Writes `x` as a gob unsigned integer at `at`; returns the offset after it. */
function putUint(out: Uint8Array, at: number, x: number): number {
  if (x < 0x80) {
    out[at] = x;
    return at + 1;
  }
  const size = uintSize(x) - 1;
  out[at] = 256 - size;
  let rest = x;
  for (let i = size; i >= 1; i--) {
    out[at + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return at + size + 1;
}

/**
 * Encodes a job as Go's `gob.NewEncoder(w).Encode(message{Name: name, Message: body})` does.
 *
 * @param name The job's name (any string; an empty one is not sent).
 * @param body The job's body (an empty one is not sent).
 * @returns The whole gob stream: the type definition, then the value.
 */
export function encodeGob(name: string, body: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  let valueSize = VALUE_TYPE_ID.length + 1; // type id, closing zero delta
  if (nameBytes.length > 0) valueSize += 1 + uintSize(nameBytes.length) + nameBytes.length;
  if (body.length > 0) valueSize += 1 + uintSize(body.length) + body.length;
  const out = new Uint8Array(TYPE_DEFINITION.length + uintSize(valueSize) + valueSize);
  out.set(TYPE_DEFINITION);
  let at = putUint(out, TYPE_DEFINITION.length, valueSize);
  out.set(VALUE_TYPE_ID, at);
  at += VALUE_TYPE_ID.length;
  let field = -1;
  if (nameBytes.length > 0) {
    out[at++] = 0 - field; // field 0
    field = 0;
    at = putUint(out, at, nameBytes.length);
    out.set(nameBytes, at);
    at += nameBytes.length;
  }
  if (body.length > 0) {
    out[at++] = 1 - field; // field 1
    at = putUint(out, at, body.length);
    out.set(body, at);
    at += body.length;
  }
  out[at] = 0;
  return out;
}

/** A type a stream defines. */
type WireType =
  | {
    readonly kind: "array";
    readonly name: string;
    readonly elem: number;
    readonly length: number;
  }
  | { readonly kind: "slice"; readonly name: string; readonly elem: number }
  | { readonly kind: "map"; readonly name: string; readonly key: number; readonly elem: number }
  | { readonly kind: "struct"; readonly name: string; readonly fields: readonly Field[] }
  | { readonly kind: "encoded"; readonly name: string };

interface Field {
  readonly name: string;
  readonly id: number;
}

/** Reads gob's primitives from `bytes`, never past `end` (the end of the current message). */
class Reader {
  readonly bytes: Uint8Array;
  /** Whether `bytes` may be the start of a longer stream (see {@linkcode decodeGobStart}). */
  readonly partial: boolean;
  pos = 0;
  end: number;

  constructor(bytes: Uint8Array, partial = false) {
    this.bytes = bytes;
    this.partial = partial;
    this.end = bytes.length;
  }

  get left(): number {
    return this.end - this.pos;
  }

  fail(problem: string, at: number = this.pos): never {
    throw new SyntaxError(`Cannot decode job as its gob stream ${problem} (at byte ${at})`);
  }

  /** An unsigned integer; exact below 2^53, and at least 2^53 above. */
  uint(what: string): number {
    const at = this.pos;
    if (this.pos >= this.end) this.fail(`ends where ${what} should be`);
    const first = this.bytes[this.pos++]!;
    if (first < 0x80) return first;
    const size = 256 - first;
    if (size > 8) this.fail(`has ${what} of ${size} bytes, more than 8`, at);
    if (size > this.left) this.fail(`ends inside ${what}`, at);
    let x = 0;
    for (let i = 0; i < size; i++) x = x * 256 + this.bytes[this.pos++]!;
    return x;
  }

  /** A signed integer. */
  int(what: string): number {
    const x = this.uint(what);
    const half = Math.floor(x / 2);
    return x % 2 === 1 ? -half - 1 : half;
  }

  /** A length, checked against the bytes left in the message, then that many bytes. */
  bytesOf(what: string): Uint8Array {
    const at = this.pos;
    const length = this.uint(`the length of ${what}`);
    if (length > this.left) {
      this.fail(`has ${what} of ${length} bytes, more than the ${this.left} left`, at);
    }
    this.pos += length;
    return this.bytes.subarray(this.pos - length, this.pos);
  }

  /** A type id inside a type definition. */
  typeId(what: string): number {
    const at = this.pos;
    const id = this.int(what);
    if (id < 1 || id > MAX_TYPE_ID) this.fail(`has ${what} ${id}, which is not a type id`, at);
    return id;
  }

  /**
   * A struct's fields: calls `read` with each field number in turn, until the closing zero
   * delta.
   */
  fields(what: string, count: number, read: (field: number) => void): void {
    let field = -1;
    for (;;) {
      const at = this.pos;
      const delta = this.uint(`a field number of ${what}`);
      if (delta === 0) return;
      field += delta;
      if (field >= count) this.fail(`has a field ${field} in ${what}, which has ${count}`, at);
      read(field);
    }
  }
}

/** A gob CommonType: {Name string, Id int}. Returns the name. */
function readCommon(r: Reader): string {
  let name = "";
  r.fields("a type's common part", 2, (field) => {
    if (field === 0) name = lenientUtf8.decode(r.bytesOf("a type name"));
    else r.int("a type's own id"); // informational: Go ignores it too
  });
  return name;
}

/** A gob fieldType: {Name string, Id int}. */
function readField(r: Reader): Field {
  let name = "";
  let id = 0;
  r.fields("a struct field", 2, (field) => {
    if (field === 0) name = lenientUtf8.decode(r.bytesOf("a field name"));
    else id = r.typeId("a field's type id");
  });
  if (name === "") r.fail("defines a struct field with no name");
  if (id === 0) r.fail(`defines the struct field ${name} with no type`);
  return { name, id };
}

/** A gob structType: {CommonType, Field []*fieldType}. */
function readStruct(r: Reader): WireType {
  let name = "";
  const fields: Field[] = [];
  r.fields("a struct type", 2, (field) => {
    if (field === 0) {
      name = readCommon(r);
      return;
    }
    const at = r.pos;
    const count = r.uint("a struct's field count");
    if (count > r.left) r.fail(`defines ${count} struct fields in ${r.left} bytes`, at);
    for (let i = 0; i < count; i++) fields.push(readField(r));
  });
  for (const wanted of ["Name", "Message"]) {
    if (fields.filter((field) => field.name === wanted).length > 1) {
      r.fail(`defines the field ${wanted} twice in the struct ${JSON.stringify(name)}`);
    }
  }
  return { kind: "struct", name, fields };
}

/** The number of fields of each wireType kind's struct, by wireType field number. */
const KIND_FIELDS = [3, 2, 2, 3, 1, 1, 1];

/**
 * A gob arrayType {CommonType, Elem, Len}, sliceType {CommonType, Elem}, mapType {CommonType,
 * Key, Elem} or gobEncoderType {CommonType}, by its wireType field number.
 */
function readOther(r: Reader, kind: number): WireType {
  let name = "";
  let first = 0;
  let second = 0;
  r.fields("a type", KIND_FIELDS[kind]!, (part) => {
    if (part === 0) name = readCommon(r);
    else if (part === 1) first = r.typeId("an element or key type id");
    else if (kind === 3) second = r.typeId("a map's element type id");
    else {
      const at = r.pos;
      second = r.int("an array length");
      if (second < 0 || second > MAX_TYPE_ID) r.fail(`has an array length of ${second}`, at);
    }
  });
  if (kind >= 4) return { kind: "encoded", name };
  if (first === 0 || (kind === 3 && second === 0)) {
    r.fail("defines a container type without its element type");
  }
  if (kind === 0) return { kind: "array", name, elem: first, length: second };
  if (kind === 1) return { kind: "slice", name, elem: first };
  return { kind: "map", name, key: first, elem: second };
}

/** A gob wireType: exactly one of ArrayT, SliceT, StructT, MapT or the three encoder kinds. */
function readWireType(r: Reader): WireType {
  let wire: WireType | undefined;
  r.fields("a type definition", KIND_FIELDS.length, (kind) => {
    if (wire !== undefined) r.fail("defines a type that is more than one kind of type");
    wire = kind === 2 ? readStruct(r) : readOther(r, kind);
  });
  if (wire === undefined) r.fail("defines a type that is no kind of type");
  return wire;
}

/** Checks that values of type `id` can be skipped: every type they use is known. */
function checkSkippable(
  r: Reader,
  types: ReadonlyMap<number, WireType>,
  id: number,
  depth: number,
  seen: Set<number>,
): void {
  if (id <= INTERFACE) return;
  if (id < FIRST_USER_ID) r.fail(`uses gob's internal type id ${id} in a field`);
  if (seen.has(id)) return;
  seen.add(id);
  const wire = types.get(id);
  if (wire === undefined) r.fail(`uses the type id ${id}, which it does not define`);
  if (depth > MAX_DEPTH) r.fail(`has types nested deeper than ${MAX_DEPTH} levels`);
  if (wire.kind === "struct") {
    for (const field of wire.fields) checkSkippable(r, types, field.id, depth + 1, seen);
  } else if (wire.kind === "map") {
    checkSkippable(r, types, wire.key, depth + 1, seen);
    checkSkippable(r, types, wire.elem, depth + 1, seen);
  } else if (wire.kind !== "encoded") {
    checkSkippable(r, types, wire.elem, depth + 1, seen);
  }
}

/** Reads past a value of type `id` (already checked by {@linkcode checkSkippable}). */
function skipValue(
  r: Reader,
  types: ReadonlyMap<number, WireType>,
  id: number,
  depth: number,
): void {
  if (depth > MAX_DEPTH) r.fail(`has values nested deeper than ${MAX_DEPTH} levels`);
  switch (id) {
    case BOOL:
    case INT:
    case UINT:
    case FLOAT:
      r.uint("a number");
      return;
    case COMPLEX:
      r.uint("a complex number's real part");
      r.uint("a complex number's imaginary part");
      return;
    case BYTES:
    case STRING:
      r.bytesOf("a string");
      return;
    case INTERFACE:
      r.fail("has an interface value in an extra field, which qite does not skip");
  }
  const wire = types.get(id)!;
  if (wire.kind === "encoded") {
    r.bytesOf(`an encoded ${JSON.stringify(wire.name)}`);
  } else if (wire.kind === "struct") {
    r.fields(`the struct ${JSON.stringify(wire.name)}`, wire.fields.length, (field) => {
      skipValue(r, types, wire.fields[field]!.id, depth + 1);
    });
  } else {
    const at = r.pos;
    const count = r.uint(`the length of a ${wire.kind}`);
    if (wire.kind === "array" && count !== wire.length) {
      r.fail(`has an array of ${count} elements where its type has ${wire.length}`, at);
    }
    // Every value takes at least one byte, so a count larger than what is left is a lie.
    const perItem = wire.kind === "map" ? 2 : 1;
    if (count * perItem > r.left) r.fail(`has a ${wire.kind} of ${count} items in ${r.left} bytes`);
    for (let i = 0; i < count; i++) {
      if (wire.kind === "map") skipValue(r, types, wire.key, depth + 1);
      skipValue(r, types, wire.elem, depth + 1);
    }
  }
}

/** Reads the value message: a struct with `Name` and/or `Message`. */
function readJob(r: Reader, types: ReadonlyMap<number, WireType>, id: number, at: number): GobJob {
  if (id < FIRST_USER_ID) r.fail(`sends a value of gob's built-in type id ${id}, not a struct`, at);
  const wire = types.get(id);
  if (wire === undefined) r.fail(`sends a value of type id ${id}, which it does not define`, at);
  if (wire.kind !== "struct") r.fail(`sends a value that is a ${wire.kind}, not a struct`, at);
  const struct = JSON.stringify(wire.name);
  let hasJobField = false;
  for (const field of wire.fields) {
    if (field.name === "Name" || field.name === "Message") {
      const want = field.name === "Name" ? STRING : BYTES;
      if (field.id !== want) {
        r.fail(
          `has a field ${field.name} in the struct ${struct} that is not a ${
            want === STRING ? "string" : "byte slice"
          }`,
          at,
        );
      }
      hasJobField = true;
    } else {
      checkSkippable(r, types, field.id, 1, new Set());
    }
  }
  if (!hasJobField) r.fail(`sends a struct ${struct} with neither a Name nor a Message field`, at);
  let name = "";
  let body = r.bytes.subarray(0, 0);
  const cut = {};
  try {
    r.fields(`the struct ${struct}`, wire.fields.length, (field) => {
      const wireField = wire.fields[field]!;
      if (wireField.name === "Message") {
        if (!r.partial) body = r.bytesOf("the Message");
        else {
          // The start of a longer stream: as much of the Message as there is, and no more.
          const length = r.uint("the length of the Message");
          body = r.bytes.subarray(r.pos, r.pos + Math.min(length, r.left));
          r.pos += body.length;
          if (body.length < length || r.pos === r.bytes.length) throw cut; // nothing more here
        }
      } else if (wireField.name !== "Name") skipValue(r, types, wireField.id, 1);
      else {
        const nameAt = r.pos;
        const bytes = r.bytesOf("the Name");
        try {
          name = strictUtf8.decode(bytes);
        } catch {
          r.fail("has a Name that is not valid UTF-8", nameAt);
        }
      }
    });
  } catch (error) {
    if (error !== cut) throw error;
  }
  return { name, body };
}

/**
 * Decodes a gob stream of one struct value with the fields `Name` and `Message` (see the
 * module documentation for what is accepted).
 *
 * @param bytes The whole stream.
 * @returns The name and body (a view into `bytes`); either is empty when not sent.
 * @throws {SyntaxError} If `bytes` is not exactly such a stream.
 */
export function decodeGob(bytes: Uint8Array): GobJob {
  return decode(new Reader(bytes));
}

/**
 * Decodes the start of a gob stream as {@linkcode decodeGob} decodes a whole one: the types and
 * the `Name` must be there, and the `Message` is what there is of it. For a view of a job whose
 * body was read only in part.
 *
 * @param bytes The stream's first bytes (or all of it).
 * @returns The name and as much of the body as `bytes` holds.
 * @throws {SyntaxError} If `bytes` is not the start of such a stream, or ends before the name.
 */
export function decodeGobStart(bytes: Uint8Array): GobJob {
  return decode(new Reader(bytes, true));
}

function decode(r: Reader): GobJob {
  const bytes = r.bytes;
  const types = new Map<number, WireType>();
  for (;;) {
    r.end = bytes.length;
    if (r.pos === bytes.length) r.fail(types.size === 0 ? "is empty" : "ends before its value");
    const at = r.pos;
    const length = r.uint("a message length");
    if (length === 0) r.fail("has an empty message", at);
    if (length > r.left && !r.partial) {
      r.fail(`has a message of ${length} bytes, more than the ${r.left} left`, at);
    }
    r.end = Math.min(r.pos + length, bytes.length);
    const idAt = r.pos;
    const id = r.int("a type id");
    if (id < 0) {
      const defined = -id;
      if (defined < FIRST_USER_ID || defined > MAX_TYPE_ID) {
        r.fail(`defines the type id ${defined}, which is not a user type id`, idAt);
      }
      if (types.has(defined)) r.fail(`defines the type id ${defined} twice`, idAt);
      types.set(defined, readWireType(r));
      if (r.left > 0) r.fail(`has ${r.left} bytes after the definition of type ${defined}`);
      continue;
    }
    const job = readJob(r, types, id, idAt);
    if (r.partial) return job;
    if (r.left > 0) r.fail(`has ${r.left} bytes after the struct value in its message`);
    if (r.end < bytes.length) r.fail(`has ${bytes.length - r.end} bytes after its value`);
    return job;
  }
}
