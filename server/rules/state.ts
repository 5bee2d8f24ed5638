import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { automationRuleStates } from "../../db/schema";
import { CLEAR, step, type ConditionSpec, type MachineState, type Sample, type Transition } from "./evaluate";

/**
 * Rule state per subject in Postgres, advanced with optimistic concurrency: a write names the
 * version it read, so when two evaluations (two servers, or a tick and an ingest batch) race on
 * one subject, the loser re-reads and re-applies its samples to the winner's state. A
 * transition therefore happens once, and its actions run once.
 */

export interface StoredState extends MachineState {
  sampleAt: number | null;
  lastValue: number | null;
  firings: number;
  version: number;
  exists: boolean;
}

const FRESH: StoredState = { ...CLEAR, sampleAt: null, lastValue: null, firings: 0, version: 0, exists: false };

export async function loadStates(db: Db, ruleId: string, subjects: string[]): Promise<Map<string, StoredState>> {
  const result = new Map<string, StoredState>();
  if (subjects.length === 0) return result;
  const rows = await db
    .select()
    .from(automationRuleStates)
    .where(and(eq(automationRuleStates.ruleId, ruleId), inArray(automationRuleStates.subject, subjects)));
  for (const r of rows) {
    result.set(r.subject, {
      status: r.status,
      pendingSince: r.pendingSince?.getTime() ?? null,
      sampleAt: r.sampleAt?.getTime() ?? null,
      lastValue: r.lastValue,
      firings: r.firings,
      version: r.version,
      exists: true,
    });
  }
  return result;
}

export interface Advance {
  state: StoredState;
  transitions: { transition: Exclude<Transition, null>; sample: Sample }[];
  changed: boolean;
}

/** Applies samples newer than the state's last one, oldest first (pure). */
export function advance(spec: ConditionSpec, from: StoredState, samples: Sample[]): Advance {
  let machine: MachineState = { status: from.status, pendingSince: from.pendingSince };
  let sampleAt = from.sampleAt;
  let lastValue = from.lastValue;
  let firings = from.firings;
  const transitions: Advance["transitions"] = [];
  for (const sample of samples) {
    // A late reading older than what was already judged cannot rewrite history.
    if (sampleAt !== null && sample.at <= sampleAt) continue;
    const result = step(spec, machine, sample);
    machine = result.state;
    sampleAt = sample.at;
    lastValue = sample.value;
    if (result.transition) {
      transitions.push({ transition: result.transition, sample });
      if (result.transition === "fired") firings++;
    }
  }
  // A batch may fire and clear within itself and end where it began: still a change to act on.
  const changed = transitions.length > 0 || machine.status !== from.status || machine.pendingSince !== from.pendingSince;
  return { state: { ...machine, sampleAt, lastValue, firings, version: from.version, exists: from.exists }, transitions, changed };
}

/** Writes the state if nobody else did since it was read; false when the version moved on. */
export async function saveState(db: Db, ruleId: string, subject: string, read: StoredState, next: StoredState, now: Date): Promise<boolean> {
  const values = {
    status: next.status,
    pendingSince: next.pendingSince === null ? null : new Date(next.pendingSince),
    sampleAt: next.sampleAt === null ? null : new Date(next.sampleAt),
    lastValue: next.lastValue,
    firings: next.firings,
    changedAt: now,
  };
  if (!read.exists) {
    const inserted = await db
      .insert(automationRuleStates)
      .values({ ruleId, subject, ...values, version: 1 })
      .onConflictDoNothing()
      .returning({ v: automationRuleStates.version });
    return inserted.length > 0;
  }
  const updated = await db
    .update(automationRuleStates)
    .set({ ...values, version: read.version + 1 })
    .where(and(eq(automationRuleStates.ruleId, ruleId), eq(automationRuleStates.subject, subject), eq(automationRuleStates.version, read.version)))
    .returning({ v: automationRuleStates.version });
  return updated.length > 0;
}

export { FRESH };
