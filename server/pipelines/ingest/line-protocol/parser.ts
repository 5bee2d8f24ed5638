/**
 * InfluxDB line protocol, as InfluxDB 1.x and 2.x accept it:
 *
 *   measurement[,tag_key=tag_value…] field_key=field_value[,field_key=field_value…] [timestamp]
 *
 * - Escapes: `\,` and `\ ` in measurements; `\,` `\=` `\ ` in tag keys, tag values and field keys;
 *   `\"` and `\\` in double-quoted string field values. Two backslashes are one backslash; a
 *   backslash before any other character is kept as it is (the spec's "literal backslash").
 * - Field values: floats (`1`, `-1.5`, `.5`, `1.`, `6.02e23`), integers (`1i`), unsigned integers
 *   (`1u`), double-quoted strings, booleans (`t T true True TRUE f F false False FALSE`).
 * - Lines end at `\n` (`\r\n` too); blank lines and lines starting with `#` are skipped; leading
 *   whitespace and whitespace after the fields or the timestamp are ignored; sections are
 *   separated by one or more spaces (a tab also ends a field value). A newline inside a string
 *   value is not supported (as the spec says), so every error names the exact line.
 * - Timestamps: an integer in the request's precision, returned as epoch milliseconds (Verdant
 *   stores milliseconds: finer digits are dropped, not rounded). Integers beyond 2^53 keep a
 *   float's precision, as a JavaScript number does.
 *
 * One pass over the text with charCodeAt, no regular expression and no closure per field; the
 * strings it keeps are slices of the input (copies only where an escape had to be undone).
 * Errors are collected per line (up to `maxErrors`) with the line number, the column and the
 * reason, in InfluxDB's words where it has them.
 */

export type Precision = "ns" | "us" | "ms" | "s" | "m" | "h";
export type FieldType = "float" | "integer" | "unsigned" | "string" | "boolean";
export type FieldValue = number | string | boolean;

export interface Point {
  /** 1-based line number in the body. */
  line: number;
  measurement: string;
  /** Tag keys and values, unescaped, in the order sent: [key0, value0, key1, value1, …]. */
  tags: string[];
  fieldKeys: string[];
  /** Numbers for float, integer and unsigned fields, strings for strings, booleans for booleans. */
  fieldValues: FieldValue[];
  fieldTypes: FieldType[];
  /** Epoch milliseconds, or undefined when the line has no timestamp. */
  time: number | undefined;
}

export interface LineError {
  line: number;
  /** 1-based column (UTF-16 code units) where the problem was found; 0 when it is the whole line. */
  column: number;
  reason: string;
  /** The line as sent, shortened to 120 characters ("" when not kept). */
  text: string;
}

export type ParseResult =
  | { ok: true; points: Point[]; /** Fields of type float, integer or unsigned. */ numericFields: number; fields: number }
  | { ok: false; errors: LineError[] };

export interface ParseOptions {
  /** The unit of the timestamps (default nanoseconds, as InfluxDB's). */
  precision?: Precision;
  /** Stop after this many bad lines (default 10): the body is refused whole anyway. */
  maxErrors?: number;
}

const PRECISIONS: Record<string, Precision> = {
  "": "ns",
  n: "ns",
  ns: "ns",
  u: "us",
  us: "us",
  "µ": "us",
  "µs": "us",
  ms: "ms",
  s: "s",
  m: "m",
  h: "h",
};

/** A `precision` query parameter as InfluxDB 1.x (n, u, ms, s, m, h) or 2.x (ns, us, ms, s) names it. */
export function precisionOf(name: string | null | undefined): Precision | undefined {
  return Object.hasOwn(PRECISIONS, name ?? "") ? PRECISIONS[name ?? ""] : undefined;
}

const TAB = 9;
const NL = 10;
const SP = 32;
const DQ = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const D0 = 48;
const D9 = 57;
const EQ = 61;
const BS = 92;

const NO_TAGS: string[] = [];
/** Digits kept when a timestamp's digits are cut down to milliseconds, and the factor after. */
const TIME_SCALE: Record<Precision, { drop: number; factor: number }> = {
  ns: { drop: 6, factor: 1 },
  us: { drop: 3, factor: 1 },
  ms: { drop: 0, factor: 1 },
  s: { drop: 0, factor: 1_000 },
  m: { drop: 0, factor: 60_000 },
  h: { drop: 0, factor: 3_600_000 },
};
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Thrown inside a line's scan, caught once per bad line (never on a good one). */
class BadLine {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {}
}

export function parseLineProtocol(input: string, options: ParseOptions = {}): ParseResult {
  const scale = TIME_SCALE[options.precision ?? "ns"];
  const maxErrors = options.maxErrors ?? 10;
  // A CR belongs to the line break before it: dropped here once, natively, instead of per character.
  let text = input.includes("\r") ? input.replaceAll("\r\n", "\n") : input;
  if (text.endsWith("\r")) text = text.slice(0, -1);
  const n = text.length;
  const points: Point[] = [];
  const errors: LineError[] = [];
  let numericFields = 0;
  let fields = 0;
  let line = 0;
  let pos = 0;
  while (pos < n) {
    line += 1;
    let eol = text.indexOf("\n", pos);
    if (eol === -1) eol = n;
    let i = pos;
    const lineStart = pos;
    pos = eol + 1;
    let c = text.charCodeAt(i);
    while ((c === SP || c === TAB) && i < eol) c = text.charCodeAt(++i);
    if (i === eol || c === HASH) continue;
    try {
      // Measurement: up to the first unescaped comma or space.
      const mStart = i;
      let escaped = false;
      for (; i < eol; i++) {
        c = text.charCodeAt(i);
        if (c === COMMA || c === SP) break;
        if (c === BS) {
          escaped = true;
          i++;
        }
      }
      if (i > eol) i = eol;
      if (i === mStart) throw new BadLine(i, "missing measurement");
      const measurement = escaped ? unescapeName(text, mStart, i, false) : text.slice(mStart, i);

      // Tag set.
      let tags = NO_TAGS;
      while (i < eol && text.charCodeAt(i) === COMMA) {
        i++;
        const kStart = i;
        escaped = false;
        for (; i < eol; i++) {
          c = text.charCodeAt(i);
          if (c === EQ || c === COMMA || c === SP) break;
          if (c === BS) {
            escaped = true;
            i++;
          }
        }
        if (i > eol) i = eol;
        if (i === kStart) throw new BadLine(i, "missing tag key");
        if (i === eol || c !== EQ) throw new BadLine(i, "missing tag value");
        const key = escaped ? unescapeName(text, kStart, i, true) : text.slice(kStart, i);
        const vStart = ++i;
        escaped = false;
        for (; i < eol; i++) {
          c = text.charCodeAt(i);
          if (c === COMMA || c === SP) break;
          if (c === EQ) throw new BadLine(i, "invalid tag format: unescaped '=' in a tag value");
          if (c === BS) {
            escaped = true;
            i++;
          }
        }
        if (i > eol) i = eol;
        if (i === vStart) throw new BadLine(i, "missing tag value");
        if (tags === NO_TAGS) tags = [];
        tags.push(key, escaped ? unescapeName(text, vStart, i, true) : text.slice(vStart, i));
      }

      // Field set, after one or more spaces.
      while (i < eol && text.charCodeAt(i) === SP) i++;
      if (i === eol) throw new BadLine(i, "missing fields");
      const fieldKeys: string[] = [];
      const fieldValues: FieldValue[] = [];
      const fieldTypes: FieldType[] = [];
      for (;;) {
        const kStart = i;
        escaped = false;
        for (; i < eol; i++) {
          c = text.charCodeAt(i);
          if (c === EQ || c === COMMA || c === SP) break;
          if (c === BS) {
            escaped = true;
            i++;
          }
        }
        if (i > eol) i = eol;
        if (i === kStart) throw new BadLine(i, "missing field key");
        if (i === eol || c !== EQ) throw new BadLine(i, "missing field value");
        fieldKeys.push(escaped ? unescapeName(text, kStart, i, true) : text.slice(kStart, i));
        const vStart = ++i;
        if (i === eol) throw new BadLine(i, "missing field value");
        c = text.charCodeAt(i);
        if (c === DQ) {
          // A string: up to the next unescaped double quote, on this line.
          escaped = false;
          for (i++; i < eol; i++) {
            c = text.charCodeAt(i);
            if (c === DQ) break;
            if (c === BS) {
              escaped = true;
              i++;
            }
          }
          if (i >= eol) throw new BadLine(vStart, "unterminated string field value");
          fieldValues.push(escaped ? unescapeString(text, vStart + 1, i) : text.slice(vStart + 1, i));
          fieldTypes.push("string");
          i++;
          if (i < eol) {
            c = text.charCodeAt(i);
            if (c !== COMMA && c !== SP && c !== TAB) throw new BadLine(i, "invalid field format: text after a string's closing quote");
          }
        } else {
          for (; i < eol; i++) {
            c = text.charCodeAt(i);
            if (c === COMMA || c === SP || c === TAB) break;
          }
          if (i === vStart) throw new BadLine(i, "missing field value");
          scanValue(text, vStart, i);
          fieldValues.push(scannedValue);
          fieldTypes.push(scannedType);
          if (scannedType !== "boolean") numericFields++;
        }
        if (i === eol || c === SP || c === TAB) break;
        i++; // the comma before the next field
      }
      fields += fieldKeys.length;

      // Optional timestamp, after one or more spaces; then only whitespace.
      while (i < eol && ((c = text.charCodeAt(i)) === SP || c === TAB)) i++;
      let time: number | undefined;
      if (i < eol) {
        const tStart = i;
        while (i < eol && (c = text.charCodeAt(i)) !== SP && c !== TAB) i++;
        time = timestampMs(text, tStart, i, scale.drop, scale.factor);
        while (i < eol && ((c = text.charCodeAt(i)) === SP || c === TAB)) i++;
        if (i < eol) throw new BadLine(i, "bad timestamp: unexpected text after it");
      }
      points.push({ line, measurement, tags, fieldKeys, fieldValues, fieldTypes, time });
    } catch (error) {
      if (!(error instanceof BadLine)) throw error;
      const raw = text.slice(lineStart, eol);
      errors.push({ line, column: error.at - lineStart + 1, reason: error.reason, text: raw.length > 120 ? `${raw.slice(0, 119)}…` : raw });
      if (errors.length >= maxErrors) break;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, points, numericFields, fields };
}

// The last scanned field value: module state instead of a result object per field.
let scannedValue: FieldValue = 0;
let scannedType: FieldType = "float";

/** A field value that is not a string: float, integer, unsigned integer or boolean. */
function scanValue(text: string, start: number, end: number): void {
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  if (first === 116 /* t */ || first === 84 /* T */ || first === 102 /* f */ || first === 70 /* F */) {
    scannedType = "boolean";
    const length = end - start;
    if (length === 1) {
      scannedValue = first === 116 || first === 84;
      return;
    }
    const word = text.slice(start, end);
    if (word === "true" || word === "True" || word === "TRUE") scannedValue = true;
    else if (word === "false" || word === "False" || word === "FALSE") scannedValue = false;
    else throw new BadLine(start, `invalid boolean '${word}'`);
    return;
  }
  if (last === 105 /* i */ || last === 117 /* u */) {
    const unsigned = last === 117;
    const negative = first === MINUS;
    if (unsigned && negative) throw new BadLine(start, `invalid unsigned integer '${text.slice(start, end)}': it is negative`);
    const digitsStart = negative ? start + 1 : start;
    const digitsEnd = end - 1;
    if (digitsEnd === digitsStart) throw new BadLine(start, `invalid ${unsigned ? "unsigned integer" : "integer"} '${text.slice(start, end)}'`);
    let value = 0;
    for (let i = digitsStart; i < digitsEnd; i++) {
      const c = text.charCodeAt(i);
      if (c < D0 || c > D9) throw new BadLine(start, `invalid ${unsigned ? "unsigned integer" : "integer"} '${text.slice(start, end)}'`);
      value = value * 10 + (c - D0);
    }
    const digits = digitsEnd - digitsStart;
    const limit = unsigned ? "18446744073709551615" : negative ? "9223372036854775808" : "9223372036854775807";
    if (digits > limit.length || (digits === limit.length && text.slice(digitsStart, digitsEnd) > limit)) {
      throw new BadLine(start, `${unsigned ? "unsigned integer" : "integer"} '${text.slice(start, end)}' out of range`);
    }
    // Beyond 2^53 the digit-by-digit sum may be off by a few units: let the engine round once.
    if (value > Number.MAX_SAFE_INTEGER) value = Number(text.slice(digitsStart, digitsEnd));
    scannedValue = negative ? -value : value;
    scannedType = unsigned ? "unsigned" : "integer";
    return;
  }
  scannedValue = floatOf(text, start, end);
  scannedType = "float";
}

/**
 * A float: -?digits[.digits][e[+-]digits] (either side of the dot may be empty, not both).
 * Up to 15 significant digits without an exponent are computed exactly here (an integer of at
 * most 15 digits and a power of ten up to 1e22 are exact doubles, and one IEEE division of them
 * is correctly rounded: the same double as parsing the text); anything else is checked here and
 * converted by the engine.
 */
function floatOf(text: string, start: number, end: number): number {
  let i = start;
  const negative = text.charCodeAt(i) === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1; // digits after the dot, once a dot was seen
  let c = 0;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c >= D0 && c <= D9) {
      mantissa = mantissa * 10 + (c - D0);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT && fraction < 0) fraction = 0;
    else break;
  }
  if (digits === 0) throw new BadLine(start, `invalid number '${text.slice(start, end)}'`);
  if (i === end) {
    if (digits <= 15) return negative ? -(fraction > 0 ? mantissa / POW10[fraction]! : mantissa) : fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
    return Number(text.slice(start, end));
  }
  if (c !== 101 /* e */ && c !== 69 /* E */) throw new BadLine(start, `invalid number '${text.slice(start, end)}'`);
  i++;
  c = text.charCodeAt(i);
  if (c === 43 /* + */ || c === MINUS) i++;
  const expStart = i;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c < D0 || c > D9) throw new BadLine(start, `invalid number '${text.slice(start, end)}'`);
  }
  if (i === expStart) throw new BadLine(start, `invalid number '${text.slice(start, end)}'`);
  const value = Number(text.slice(start, end));
  if (!Number.isFinite(value)) throw new BadLine(start, `number '${text.slice(start, end)}' out of range`);
  return value;
}

/** -?digits in the request's precision → epoch ms (digits below the millisecond dropped). */
function timestampMs(text: string, start: number, end: number, drop: number, factor: number): number {
  const negative = text.charCodeAt(start) === MINUS;
  const digitsStart = negative ? start + 1 : start;
  const digits = end - digitsStart;
  if (digits === 0) throw new BadLine(start, `bad timestamp '${text.slice(start, end)}'`);
  if (digits > 19) throw new BadLine(start, `bad timestamp '${text.slice(start, end)}': out of range`);
  const keep = digits - drop;
  let value = 0;
  for (let i = digitsStart; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < D0 || c > D9) throw new BadLine(start, `bad timestamp '${text.slice(start, end)}'`);
    if (i - digitsStart < keep) value = value * 10 + (c - D0);
  }
  if (digits === 19 && text.slice(digitsStart, end) > "9223372036854775807") {
    throw new BadLine(start, `bad timestamp '${text.slice(start, end)}': out of range`);
  }
  value *= factor;
  return negative ? -value : value;
}

/** Undoes `\,` `\ ` (and `\=` in tags and field keys) and `\\`; any other backslash stays. */
function unescapeName(text: string, start: number, end: number, equalsToo: boolean): string {
  let out = "";
  let from = start;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== BS || i + 1 >= end) continue;
    const next = text.charCodeAt(i + 1);
    if (next === COMMA || next === SP || next === BS || (equalsToo && next === EQ)) {
      out += text.slice(from, i);
      from = i + 1; // keep the escaped character itself
      i++;
    } else {
      i++; // a literal backslash: keep both characters
    }
  }
  return out + text.slice(from, end);
}

/** Undoes `\"` and `\\` in a string field value; any other backslash stays. */
function unescapeString(text: string, start: number, end: number): string {
  let out = "";
  let from = start;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== BS) continue;
    const next = text.charCodeAt(i + 1);
    if (next === DQ || next === BS) {
      out += text.slice(from, i);
      from = i + 1;
    }
    i++;
  }
  return out + text.slice(from, end);
}
