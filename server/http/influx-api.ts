import { createHash } from "node:crypto";
import { DEVICE_TOKEN_PREFIX } from "../platform";

/**
 * The parts of InfluxDB's HTTP API beyond writing that clients call when they connect (pure
 * answers; server/routes/influx.ts serves them). Verdant keeps no databases, buckets or orgs:
 * a device token decides where readings go, so every database and bucket name "exists" and
 * creating one succeeds without effect.
 *
 *   - Telegraf `outputs.influxdb` (v1): `CREATE DATABASE "<db>"` on POST /query before its first
 *     write (unless skip_database_creation), then POST /write.
 *   - Telegraf `outputs.influxdb_v2`: POST /api/v2/write only.
 *   - Tasmota's InfluxDB driver: GET /ping?verbose=true (v1; wants 200) or GET /health (v2; wants
 *     200) before its first write.
 *   - Home Assistant `influxdb`: an empty write on setup (v1: wants 204; v2: 204 or 400 both
 *     mean "connected"); its sensor platform queries with SHOW DATABASES (v1).
 *   - Client libraries: GET /ping for the version, GET /api/v2/buckets and /api/v2/orgs to look a
 *     bucket or an org up by name.
 */

/** What Verdant answers as its InfluxDB version: the 2.x API with the 1.x compatibility endpoints. */
export const INFLUX_VERSION = "2.7.11-verdant";
export const DEFAULT_NAME = "verdant";

/**
 * The device token of an InfluxDB client's request, wherever that client puts its credential:
 * `Authorization: Token …` (v2, and Tasmota for v1 too), `Authorization: Bearer …`, basic auth
 * (v1 clients; the token is the password, or the user name), or the v1 query parameters `p` / `u`.
 * The first candidate that looks like a device token wins; otherwise the first one given (which
 * the authenticator then refuses as malformed).
 */
export function deviceTokenOf(authorization: string | null, params: URLSearchParams): string | undefined {
  const candidates: string[] = [];
  if (authorization) {
    const space = authorization.indexOf(" ");
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : authorization.slice(space + 1).trim();
    if (scheme === "token" || scheme === "bearer") candidates.push(value);
    else if (scheme === "basic") {
      const decoded = decodeBase64(value);
      const colon = decoded.indexOf(":");
      if (colon >= 0) candidates.push(decoded.slice(colon + 1), decoded.slice(0, colon));
      else candidates.push(decoded);
    }
  }
  for (const name of ["p", "u"]) {
    const value = params.get(name);
    if (value) candidates.push(value);
  }
  const nonEmpty = candidates.filter((c) => c.length > 0);
  return nonEmpty.find((c) => c.startsWith(DEVICE_TOKEN_PREFIX)) ?? nonEmpty[0];
}

function decodeBase64(value: string): string {
  try {
    return Buffer.from(value, "base64").toString("utf8");
  } catch {
    return "";
  }
}

/** One InfluxQL statement's result, in InfluxDB 1.x's JSON shape. */
export interface StatementResult {
  statement_id: number;
  series?: { name: string; columns: string[]; values: unknown[][] }[];
  error?: string;
}

/**
 * Answers the InfluxQL a writing client sends: SHOW DATABASES (the database the request names,
 * else `verdant`) and CREATE DATABASE (accepted, nothing to create). Anything else, a SELECT
 * included, gets a statement error in the 200 answer, as InfluxDB reports statement errors:
 * Verdant takes writes here; readings are read in Verdant.
 */
export function answerInfluxQL(query: string, database: string | null): { results: StatementResult[] } {
  const results: StatementResult[] = [];
  for (const statement of splitStatements(query)) {
    const statement_id = results.length;
    const words = statement.split(/\s+/, 2).map((w) => w.toUpperCase());
    const verb = words.join(" ");
    if (verb === "SHOW DATABASES") {
      results.push({ statement_id, series: [{ name: "databases", columns: ["name"], values: [[database || DEFAULT_NAME]] }] });
    } else if (verb === "CREATE DATABASE") {
      results.push({ statement_id });
    } else {
      results.push({
        statement_id,
        error: `Verdant accepts writes only: ${verb || statement} is not supported here (readings are read in Verdant)`,
      });
    }
  }
  return { results };
}

/** Statements separated by `;` outside quotes and identifiers. */
function splitStatements(query: string): string[] {
  const statements: string[] = [];
  let quote = 0;
  let from = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === 92 /* \ */ && quote) i++;
    else if ((c === 34 || c === 39) && (!quote || quote === c)) quote = quote ? 0 : c;
    else if (c === 59 /* ; */ && !quote) {
      statements.push(query.slice(from, i));
      from = i + 1;
    }
  }
  statements.push(query.slice(from));
  return statements.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A stable 16-hex-digit InfluxDB-style id for a name in a scope. */
function idOf(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 16);
}

const EPOCH = new Date(0).toISOString();

export interface BucketLookup {
  deviceId: string;
  siteId: string;
  /** The bucket name asked for (`name`), else the default. */
  name: string | null;
  org: string | null;
  rawRetentionDays: number;
}

/** GET /api/v2/buckets: the bucket asked for, as if it existed (writes to any bucket reach the device). */
export function bucketsAnswer(lookup: BucketLookup) {
  const name = lookup.name || DEFAULT_NAME;
  const orgID = idOf("org", lookup.siteId);
  const id = idOf("bucket", lookup.deviceId, name);
  return {
    links: { self: "/api/v2/buckets" },
    buckets: [
      {
        id,
        orgID,
        type: "user",
        name,
        description: "Verdant: every bucket is the device whose token writes to it",
        retentionRules: [{ type: "expire", everySeconds: lookup.rawRetentionDays * 86_400, shardGroupDurationSeconds: 0 }],
        createdAt: EPOCH,
        updatedAt: EPOCH,
        links: { self: `/api/v2/buckets/${id}`, org: `/api/v2/orgs/${orgID}`, write: `/api/v2/write?org=${encodeURIComponent(lookup.org || DEFAULT_NAME)}&bucket=${encodeURIComponent(name)}` },
        labels: [],
      },
    ],
  };
}

/** GET /api/v2/orgs: the org asked for (`org`), else the default, with the device's site as its id. */
export function orgsAnswer(lookup: { siteId: string; org: string | null }) {
  const id = idOf("org", lookup.siteId);
  return {
    links: { self: "/api/v2/orgs" },
    orgs: [
      {
        id,
        name: lookup.org || DEFAULT_NAME,
        description: "Verdant: the site of the device whose token asks",
        createdAt: EPOCH,
        updatedAt: EPOCH,
        links: { self: `/api/v2/orgs/${id}`, buckets: `/api/v2/buckets?org=${encodeURIComponent(lookup.org || DEFAULT_NAME)}` },
      },
    ],
  };
}

/** GET /health, as InfluxDB 2.x answers it. */
export function healthAnswer(problem: string | undefined) {
  return {
    name: "influxdb",
    message: problem ? `not ready: ${problem}` : "ready for queries and writes",
    status: problem ? "fail" : "pass",
    checks: [],
    version: INFLUX_VERSION,
    commit: "verdant",
  };
}
