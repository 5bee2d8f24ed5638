/**
 * The automation engine: judges committed readings against threshold rules, and on its tick
 * aggregate, offline and battery rules, due schedules, moisture-rise checks after automatic
 * waterings and waterings nobody commanded. What users configure (rules, schedules, the log) is
 * in server/rules.
 */
export { AutomationEngine, MISSED_RUN_AFTER_MS, type AutomationDeps, type LagStats, type TickReport } from "./engine";
export { runActions, type ActionContext, type Notify, type NotifyRequest } from "./actions";
