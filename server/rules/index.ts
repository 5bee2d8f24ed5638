/**
 * What users set up for the automation and what it recorded: rules (threshold, aggregate, offline,
 * battery, daily light) with their state per subject, the built-in rules every plant with sensors
 * is watched by, schedules, the pure state machine that judges samples, and the automation log.
 * The engine that runs them is server/pipelines/automation.
 */
export { listLog, type LogInput, writeLog } from "./log";
export { projectedBatteryDays, renderTemplate, type ConditionSpec, type Sample, type TemplateValues } from "./evaluate";
export { createRule, deleteRule, getRule, listRules, type RuleRow, updateRule } from "./rules";
export { alertRuleOf } from "./rule-alerts";
export { BATTERY_TUNING, BUILT_IN_TUNING, builtInHysteresis, DLI_TUNING, OFFLINE_STALE_FACTOR, setBuiltInWatching, watchPlants } from "./built-in";
export { claimRun, createSchedule, deleteSchedule, dueSchedules, listSchedules, recurrenceOf, requireSchedule, type ScheduleRow, upcomingRuns, updateSchedule } from "./schedules";
export { FRESH, advance, loadStates, saveState, type StoredState } from "./state";
