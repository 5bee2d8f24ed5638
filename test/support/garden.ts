import type { TestServer } from "./server";

/**
 * A site with devices posting readings through POST /v1/ingest, for automation tests: everything
 * goes through the real entry points (typed client, device HTTP endpoints).
 */

const PASSWORD = "correct horse battery";
let batches = 0;

export async function gardenOwner(server: TestServer, email: string, timezone = "UTC") {
  const owner = await server.client().auth.register.mutate({ email, password: PASSWORD, displayName: "G", client: "app" });
  const api = server.client(owner.token!);
  const siteId = owner.personalSiteId;
  await api.sites.update.mutate({ siteId, timezone });
  return { api, siteId };
}

/** A fresh session (tests that move the clock by months outlive the 30-day sessions). */
export async function signIn(server: TestServer, email: string) {
  const { token } = await server.client().auth.login.mutate({ email, password: PASSWORD, client: "app" });
  return server.client(token!);
}

export type Api = Awaited<ReturnType<typeof gardenOwner>>["api"];

export interface Reading {
  sensor: string;
  ts: number;
  value: number;
}

/** Posts one batch as a device and waits until the engine has evaluated it. */
export async function post(server: TestServer, token: string, readings: Reading[], settle = true) {
  const response = await fetch(`${server.url}/v1/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ batchId: `b-${++batches}-${Date.now()}`, attempt: 1, readings }),
  });
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  if (settle) await server.settled();
}

export async function fetchCommands(server: TestServer, token: string) {
  const response = await fetch(`${server.url}/v1/commands`, { headers: { authorization: `Bearer ${token}` } });
  return ((await response.json()) as { commands: { id: string; action: string; seconds?: number; ml?: number; state?: string; maxRunSeconds?: number }[] }).commands;
}

export async function ack(server: TestServer, token: string, id: string, status: "acknowledged" | "succeeded" | "failed") {
  const response = await fetch(`${server.url}/v1/commands/${id}/ack`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ status }),
  });
  if (response.status !== 200) throw new Error(`ack answered ${response.status}: ${await response.text()}`);
}

/** Every log entry of a site (all pages), oldest first by time and then by the sample time in details. */
export async function logOf(api: Api, siteId: string, filter: { ruleId?: string; scheduleId?: string; plantId?: string } = {}) {
  const items: Awaited<ReturnType<Api["automationLog"]["list"]["query"]>>["items"] = [];
  let cursor: string | undefined;
  do {
    const page = await api.automationLog.list.query({ siteId, ...filter, limit: 20, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const sampleAt = (e: (typeof items)[number]) => Number((e.details as { at?: number }).at ?? 0);
  return items.sort((a, b) => a.at.getTime() - b.at.getTime() || sampleAt(a) - sampleAt(b));
}
