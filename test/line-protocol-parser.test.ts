import { describe, expect, test } from "bun:test";
import {
  bodyBatchId,
  describeError,
  lineProtocolBatch,
  metricOfName,
  parseLineProtocol,
  precisionOf,
  readingsOf,
  sensorKeyOf,
  type Point,
  type Precision,
} from "../server/pipelines/ingest/line-protocol";
import { answerInfluxQL, deviceTokenOf } from "../server/http/influx-api";

// The parser and the mapping alone, without HTTP: the spec's rules, one at a time.

const parse = (text: string, precision: Precision = "ns") => {
  const result = parseLineProtocol(text, { precision });
  if (!result.ok) throw new Error(`expected to parse, got ${JSON.stringify(result.errors)}`);
  return result;
};
const one = (text: string, precision: Precision = "ns"): Point => {
  const points = parse(text, precision).points;
  expect(points).toHaveLength(1);
  return points[0]!;
};
const fieldsOf = (p: Point) => Object.fromEntries(p.fieldKeys.map((k, i) => [k, [p.fieldValues[i], p.fieldTypes[i]]]));
const errorsOf = (text: string, precision: Precision = "ns") => {
  const result = parseLineProtocol(text, { precision });
  if (result.ok) throw new Error(`expected errors for ${JSON.stringify(text)}`);
  return result.errors;
};

describe("line protocol syntax", () => {
  test("measurement, tag set, field set and timestamp", () => {
    expect(one("weather,location=us-midwest,season=summer temperature=82,humidity=71.5 1465839830100400200")).toEqual({
      line: 1,
      measurement: "weather",
      tags: ["location", "us-midwest", "season", "summer"],
      fieldKeys: ["temperature", "humidity"],
      fieldValues: [82, 71.5],
      fieldTypes: ["float", "float"],
      time: 1465839830100,
    });
    expect(one("weather temperature=82")).toMatchObject({ tags: [], time: undefined });
  });

  test("escapes: comma and space in measurements; comma, equals sign and space in tag keys, tag values and field keys", () => {
    const p = one(String.raw`my\ Measure\,ment,tag\ Key\,1\==tag\ Value\,1\=x field\ Key\,\=1=1 1`);
    expect(p.measurement).toBe("my Measure,ment");
    expect(p.tags).toEqual(["tag Key,1=", "tag Value,1=x"]);
    expect(p.fieldKeys).toEqual(["field Key,=1"]);
    // An equals sign needs no escape in a measurement: a backslash before it stays.
    expect(one(String.raw`a\=b v=1`).measurement).toBe(String.raw`a\=b`);
    expect(one("a=b v=1").measurement).toBe("a=b");
    // Quotes and emoji are ordinary characters in names.
    expect(one(`"quoted",'tag'=🍭 "f"=1`)).toMatchObject({ measurement: '"quoted"', tags: ["'tag'", "🍭"], fieldKeys: ['"f"'] });
  });

  test("backslashes: two are one, a lone one is literal (the spec's table)", () => {
    const table: [string, string][] = [
      ["\\", "\\"],
      ["\\\\", "\\"],
      ["\\\\\\", "\\\\"],
      ["\\\\\\\\", "\\\\"],
      ["\\\\\\\\\\", "\\\\\\"],
      ["\\\\\\\\\\\\", "\\\\\\"],
    ];
    for (const [sent, meant] of table) {
      expect(one(`m,t=a${sent}b v=1`).tags[1]).toBe(`a${meant}b`);
      expect(one(`m${sent}x v=1`).measurement).toBe(`m${meant}x`);
    }
  });

  test("string field values: double-quoted, with escaped quotes and backslashes; commas, spaces and equals signs inside", () => {
    const p = one(String.raw`m s="a \"quoted\" word, x=1 \\ end",t="",u="C:\path" 1`);
    expect(fieldsOf(p)).toEqual({ s: ['a "quoted" word, x=1 \\ end', "string"], t: ["", "string"], u: ["C:\\path", "string"] });
    expect(p.time).toBe(0);
  });

  test("integers (i), unsigned integers (u) and their ranges", () => {
    expect(fieldsOf(one("m a=1i,b=-12485903i,c=9223372036854775807i,d=-9223372036854775808i,e=0u,f=18446744073709551615u,g=12u"))).toEqual({
      a: [1, "integer"],
      b: [-12485903, "integer"],
      c: [9223372036854775807, "integer"],
      d: [-9223372036854775808, "integer"],
      e: [0, "unsigned"],
      f: [18446744073709551615, "unsigned"],
      g: [12, "unsigned"],
    });
    expect(errorsOf("m a=9223372036854775808i")[0]!.reason).toBe("integer '9223372036854775808i' out of range");
    expect(errorsOf("m a=18446744073709551616u")[0]!.reason).toBe("unsigned integer '18446744073709551616u' out of range");
    expect(errorsOf("m a=-1u")[0]!.reason).toContain("negative");
    expect(errorsOf("m a=1.5i")[0]!.reason).toBe("invalid integer '1.5i'");
    expect(errorsOf("m a=i")[0]!.reason).toBe("invalid integer 'i'");
    expect(errorsOf("m a=1e3u")[0]!.reason).toBe("invalid unsigned integer '1e3u'");
  });

  test("floats, exponent forms included, are the same doubles as JavaScript's own parsing", () => {
    expect(fieldsOf(one("m a=1,b=1.0,c=-1.234456e+78,d=.5,e=1.,f=6.02E23,g=1e-3,h=-0.000001,i=-0"))).toEqual({
      a: [1, "float"],
      b: [1, "float"],
      c: [-1.234456e78, "float"],
      d: [0.5, "float"],
      e: [1, "float"],
      f: [6.02e23, "float"],
      g: [0.001, "float"],
      h: [-0.000001, "float"],
      i: [-0, "float"],
    });
    // The exact fast path for short decimals against the engine, on awkward values.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const texts = ["0.1", "0.2", "0.3", "41.7", "123456789012345", "999999999999999", "1234567890.12345", "0.000000000000001", "9007199254740993"];
    for (let i = 0; i < 2000; i++) {
      const digits = 1 + Math.floor(random() * 17);
      let text = "";
      for (let d = 0; d < digits; d++) text += Math.floor(random() * 10);
      const dot = Math.floor(random() * (digits + 1));
      texts.push(`${random() < 0.3 ? "-" : ""}${text.slice(0, dot)}.${text.slice(dot)}`);
    }
    const body = texts.map((t, i) => `m v${i}=${t}`).join("\n");
    const points = parse(body).points;
    for (const [i, t] of texts.entries()) expect({ t, v: points[i]!.fieldValues[0] }).toEqual({ t, v: Number(t) });
    for (const bad of ["1.2.3", "-", ".", "1e", "1e+", "NaN", "Infinity", "0x10", "1_000", "12abc", "+1"]) {
      expect(errorsOf(`m a=${bad}`)[0]!.reason).toBe(`invalid number '${bad}'`);
    }
    expect(errorsOf("m a=1e999")[0]!.reason).toBe("number '1e999' out of range");
  });

  test("booleans in every accepted spelling; other words refused", () => {
    const words = ["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"];
    const p = one(`m ${words.map((w, i) => `b${i}=${w}`).join(",")}`);
    expect(p.fieldValues).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(new Set(p.fieldTypes)).toEqual(new Set(["boolean"]));
    for (const bad of ["tRUE", "truee", "fals", "Talse"]) expect(errorsOf(`m a=${bad}`)[0]!.reason).toBe(`invalid boolean '${bad}'`);
    // A quoted boolean is a string.
    expect(fieldsOf(one('m a="true"'))).toEqual({ a: ["true", "string"] });
  });

  test("comments, blank lines, leading and trailing whitespace, runs of spaces, CRLF", () => {
    const result = parse("# a comment\n\n   \n\tm v=1  2\r\n  # indented comment\r\n\r\nm  v=2   3   \nm v=3\t\r\nm v=4\r");
    expect(result.points.map((p) => [p.line, p.fieldValues[0], p.time])).toEqual([
      [4, 1, 0],
      [7, 2, 0],
      [8, 3, undefined],
      [9, 4, undefined],
    ]);
    expect(parse("").points).toEqual([]);
    expect(parse("# only a comment\n").points).toEqual([]);
  });

  test("every precision, to epoch milliseconds (finer digits dropped)", () => {
    const ms = 1_767_225_600_123;
    const cases: [Precision, string, number][] = [
      ["ns", "1767225600123456789", ms],
      ["us", "1767225600123456", ms],
      ["ms", "1767225600123", ms],
      ["s", "1767225600", 1_767_225_600_000],
      ["m", "29453760", 1_767_225_600_000],
      ["h", "490896", 1_767_225_600_000],
    ];
    for (const [precision, sent, want] of cases) expect({ precision, time: one(`m v=1 ${sent}`, precision).time }).toEqual({ precision, time: want });
    expect(one("m v=1 -1000000", "ns").time).toBe(-1);
    expect(errorsOf("m v=1 92233720368547758070")[0]!.reason).toContain("out of range");
    expect(errorsOf("m v=1 9223372036854775808")[0]!.reason).toContain("out of range");
    expect(errorsOf("m v=1 1.5")[0]!.reason).toBe("bad timestamp '1.5'");
    expect(errorsOf("m v=1 123 456")[0]!.reason).toBe("bad timestamp: unexpected text after it");
    // Names as InfluxDB 1.x and 2.x write them.
    expect(["", "n", "ns", "u", "us", "µ", "ms", "s", "m", "h"].map((n) => precisionOf(n))).toEqual(["ns", "ns", "ns", "us", "us", "us", "ms", "s", "m", "h"]);
    expect(precisionOf(null)).toBe("ns");
    expect(precisionOf("seconds")).toBeUndefined();
  });

  test("errors name the line, the column and the reason; good lines around a bad one do not hide it", () => {
    const body = ["m v=1", "m,t= v=1", "m v=2", "m v=", "m", ",t=1 v=1", "m,=x v=1", "m v=\"open", "m =1", 'm v="s"x', "m,a=b=c v=1", "m v=1,", "m v=1,,w=2"].join("\n");
    const result = parseLineProtocol(body, { maxErrors: 100 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.line, e.column, e.reason])).toEqual([
      [2, 5, "missing tag value"],
      [4, 5, "missing field value"],
      [5, 2, "missing fields"],
      [6, 1, "missing measurement"],
      [7, 3, "missing tag key"],
      [8, 5, "unterminated string field value"],
      [9, 3, "missing field key"],
      [10, 8, "invalid field format: text after a string's closing quote"],
      [11, 6, "invalid tag format: unescaped '=' in a tag value"],
      [12, 7, "missing field key"],
      [13, 7, "missing field key"],
    ]);
    expect(result.errors[0]!.text).toBe("m,t= v=1");
    expect(describeError(result.errors[1]!)).toBe("unable to parse line 4 (column 5): missing field value: 'm v='");
    // Collecting stops at maxErrors.
    const many = parseLineProtocol(Array.from({ length: 50 }, () => "bad").join("\n"), { maxErrors: 3 });
    expect(many.ok ? [] : many.errors.map((e) => e.line)).toEqual([1, 2, 3]);
  });

  test("a long bad line is quoted shortened", () => {
    const [error] = errorsOf(`m,t=${"x".repeat(300)} v=`);
    expect(error!.text).toHaveLength(120);
    expect(error!.text.endsWith("…")).toBe(true);
  });
});

describe("line protocol → readings", () => {
  const now = Date.UTC(2026, 0, 1);
  const limits = { maxClockSkewMs: 300_000, maxAgeMs: 89 * 86_400_000 };
  const readings = (text: string, precision: Precision = "ms") => {
    const parsed = parse(text, precision);
    const mapped = readingsOf(parsed.points, parsed.numericFields, now, precision, limits);
    if (!mapped.ok) throw new Error(JSON.stringify(mapped.errors));
    return mapped;
  };

  test("sensor keys: measurement.field, the field `value` left out, a `sensor` tag first, Home Assistant's entity_id", () => {
    const { readings: r } = readings(
      [
        "soil,bed=1 moisture=41.5,temperature=18.25",
        "temperature,device=tasmota1,sensor=ds18b20,id=01144A0CB2AA value=24.44", // Tasmota
        "°C,domain=sensor,entity_id=basil_temperature value=21.5,battery=80", // Home Assistant's default measurement is the unit
        "lux value=812",
        "soil,sensor=probe-2 moisture=12",
      ].join("\n"),
    );
    expect(r.map((x) => [x.sensor, x.value, x.metric])).toEqual([
      ["soil.moisture", 41.5, "soil_moisture"],
      ["soil.temperature", 18.25, "temperature"],
      ["ds18b20.temperature", 24.44, "temperature"],
      ["basil_temperature", 21.5, "temperature"],
      ["basil_temperature.battery", 80, "battery"],
      ["lux", 812, "light"],
      ["probe-2.soil.moisture", 12, "soil_moisture"],
    ]);
  });

  test("characters outside the key alphabet become _, long keys keep a stable hash tail", () => {
    expect(sensorKeyOf(["my room", "°C"])).toBe("my_room._C");
    expect(sensorKeyOf(["plant🌱", "x=y,z"])).toBe("plant_.x_y_z");
    expect(sensorKeyOf(["a:b-c_d.e"])).toBe("a:b-c_d.e");
    const long = sensorKeyOf(["m".repeat(80), "f"]);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^m{55}-[0-9a-f]{8}$/);
    expect(sensorKeyOf(["m".repeat(80), "f"])).toBe(long);
    expect(sensorKeyOf(["m".repeat(80), "g"])).not.toBe(long);
    expect(sensorKeyOf(["m".repeat(80), "g"])).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  });

  test("the metric: the metric tag, else the field, Home Assistant's device class or the measurement, else left to the key", () => {
    const { readings: r } = readings(
      [
        "probe,metric=ph value=6.4",
        "probe2,metric=ec reading=1.2,other=3",
        "%,entity_id=basil_soil device_class_str=\"moisture\",value=33",
        "%,entity_id=basil_air device_class_str=\"humidity\",value=55",
        "illuminance,sensor=bh1750 value=300",
        "tank level=70,fer=350,conductivity=1.1,batt=90",
        "custom thing=1",
        "sensors,sensor=soil1 value=2",
      ].join("\n"),
    );
    expect(r.map((x) => [x.sensor, x.metric])).toEqual([
      ["probe", "ph"],
      ["probe2.reading", "ec"],
      ["probe2.other", "ec"],
      ["basil_soil", "soil_moisture"],
      ["basil_air", "humidity"],
      ["bh1750.illuminance", "light"],
      ["tank.level", "water_level"],
      ["tank.fer", "ec"],
      ["tank.conductivity", "ec"],
      ["tank.batt", "battery"],
      ["custom.thing", undefined],
      ["soil1.sensors", undefined], // the sensor directory infers soil_moisture from the key
    ]);
    expect(["Soil-Moisture", "LUX", "lx", "°C", "µS/cm", "pH", "rssi", "%"].map(metricOfName)).toEqual([
      "soil_moisture",
      "light",
      "light",
      "temperature",
      "ec",
      "ph",
      undefined,
      undefined,
    ]);
    const parsed = parse("probe,metric=mood v=1\nok v=1\nprobe,metric=Temperature v=1");
    const mapped = readingsOf(parsed.points, parsed.numericFields, now, "ms", limits);
    expect(mapped.ok ? [] : mapped.errors.map((e) => [e.line, e.reason])).toEqual([
      [1, "metric tag 'mood' is not one of soil_moisture, temperature, humidity, light, water_level, battery, ec, ph, unknown"],
      [3, "metric tag 'Temperature' is not one of soil_moisture, temperature, humidity, light, water_level, battery, ec, ph, unknown"],
    ]);
  });

  test("strings and booleans are counted and listed, not stored; integers and unsigned are numbers", () => {
    const mapped = readings('%,entity_id=pump state="on",value=1,friendly_name_str="Pump",running=true,count=3i,total=7u');
    expect(mapped.readings.map((x) => [x.sensor, x.value])).toEqual([
      ["pump", 1],
      ["pump.count", 3],
      ["pump.total", 7],
    ]);
    expect(mapped.notStored).toEqual({ count: 3, keys: ["pump.state", "pump.friendly_name_str", "pump.running"] });
  });

  test("lines without a timestamp get the receive time; timestamps out of range are refused, naming the line", () => {
    const mapped = readings(`m v=1\nm v=2 ${now - 60_000}`);
    expect(mapped.readings.map((x) => x.ts)).toEqual([now, now - 60_000]);
    expect(mapped.allTimestamped).toBe(false);
    expect(readings(`m v=1 ${now}`).allTimestamped).toBe(true);
    const parsed = parse(`m v=1 ${now}\nm v=1 ${now + 3_600_000}\nm v=1 ${now - 100 * 86_400_000}\nm v=1 1767225600`, "ms");
    const refused = readingsOf(parsed.points, parsed.numericFields, now, "ms", limits);
    expect(refused.ok ? [] : refused.errors.map((e) => [e.line, e.reason])).toEqual([
      [2, "timestamp is 3600 s in the future (limit 300 s): is the precision right (this request's is ms)?"],
      [3, "timestamp is older than the raw retention allows (89 days)"],
      [4, "timestamp is before 2000-01-01: is the device clock set, and the precision right (this request's is ms)?"],
    ]);
    expect(refused.ok ? "" : describeError(refused.errors[0]!)).toBe(
      "unable to store line 2: timestamp is 3600 s in the future (limit 300 s): is the precision right (this request's is ms)?",
    );
  });
});

describe("line protocol bodies → batches", () => {
  const now = Date.UTC(2026, 0, 1);
  const limits = { maxReadings: 5, maxClockSkewMs: 300_000, maxAgeMs: 89 * 86_400_000 };
  const bytes = (text: string) => new TextEncoder().encode(text);
  const batch = (text: string | Uint8Array, deviceId = "d1", precision: Precision = "ms") =>
    lineProtocolBatch(typeof text === "string" ? bytes(text) : text, { deviceId, precision, now, limits });

  test("a fully timestamped body has its own batch id: same device, precision and bytes give the same id", () => {
    const body = `m v=1 ${now}\nm v=2 ${now - 1000}`;
    const a = batch(body);
    const b = batch(body);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.batch.batchId).toBe(b.batch.batchId);
    expect(a.batch.batchId).toBe(bodyBatchId("d1", "ms", bytes(body)));
    expect(a.batch.batchId).toMatch(/^lp-[0-9a-f]{40}$/);
    expect(a.batch.attempt).toBeUndefined(); // could be a retry: the pipeline looks it up
    expect(a.timestamped).toBe(true);
    const other = [batch(body, "d2"), batch(`${body}\n`), batch(`m v=1 ${now}000`, "d1", "us")];
    for (const o of other) expect(o.ok && o.batch.batchId !== a.batch.batchId).toBe(true);
  });

  test("a body with any line lacking a timestamp gets a fresh id every time, declared a first attempt", () => {
    const body = `m v=1 ${now}\nm v=2`;
    const a = batch(body);
    const b = batch(body);
    if (!a.ok || !b.ok) throw new Error("expected batches");
    expect(a.batch.batchId).not.toBe(b.batch.batchId);
    expect(a.batch.attempt).toBe(1);
    expect(a.timestamped).toBe(false);
  });

  test("too many numeric fields is 413; invalid UTF-8 and bad lines are 400 with the first line", () => {
    const tooMany = batch("m a=1,b=2,c=3\nm d=4,e=5,f=6,s=\"not counted\"");
    expect(tooMany).toMatchObject({ ok: false, status: 413 });
    expect(batch('m a=1,b=2,c=3\nm d=4,e=5,s="strings are not readings",t=true')).toMatchObject({ ok: true, points: 2 });
    expect(batch(new Uint8Array([0x6d, 0x20, 0x76, 0x3d, 0xff]))).toMatchObject({ ok: false, status: 400, message: "unable to parse: the body is not valid UTF-8" });
    const bad = batch("m v=1\nm v=\nm v=x");
    expect(bad).toMatchObject({ ok: false, status: 400, line: 2 });
    if (!bad.ok) expect(bad.message).toBe("unable to parse line 2 (column 5): missing field value: 'm v='\nunable to parse line 3 (column 5): invalid number 'x': 'm v=x'");
  });
});

describe("InfluxDB API helpers", () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const none = new URLSearchParams();

  test("the device token wherever a client puts its credential", () => {
    expect(deviceTokenOf("Token vdt_a", none)).toBe("vdt_a");
    expect(deviceTokenOf("Bearer vdt_b", none)).toBe("vdt_b");
    expect(deviceTokenOf(basic("telegraf", "vdt_c"), none)).toBe("vdt_c");
    expect(deviceTokenOf(basic("vdt_d", ""), none)).toBe("vdt_d");
    expect(deviceTokenOf(null, new URLSearchParams({ u: "tasmota", p: "vdt_e" }))).toBe("vdt_e");
    expect(deviceTokenOf(null, new URLSearchParams({ u: "vdt_f" }))).toBe("vdt_f");
    expect(deviceTokenOf("Token nope", new URLSearchParams({ p: "vdt_g" }))).toBe("vdt_g");
    expect(deviceTokenOf(basic("user", "password"), none)).toBe("password");
    expect(deviceTokenOf(null, none)).toBeUndefined();
  });

  test("InfluxQL: SHOW DATABASES and CREATE DATABASE answered, anything else a statement error", () => {
    expect(answerInfluxQL("SHOW DATABASES", null)).toEqual({
      results: [{ statement_id: 0, series: [{ name: "databases", columns: ["name"], values: [["verdant"]] }] }],
    });
    expect(answerInfluxQL('CREATE DATABASE "tele;graf" WITH DURATION 30d; show   databases', "telegraf")).toEqual({
      results: [{ statement_id: 0 }, { statement_id: 1, series: [{ name: "databases", columns: ["name"], values: [["telegraf"]] }] }],
    });
    const select = answerInfluxQL("SELECT * FROM cpu", null).results[0]!;
    expect(select.statement_id).toBe(0);
    expect(select.error).toContain("SELECT * is not supported");
  });
});
