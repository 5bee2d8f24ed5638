/**
 * What users set up for the automation and what it recorded: rules (threshold, aggregate, offline,
 * battery) with their state per subject, schedules, the pure state machine that judges samples,
 * and the automation log. The engine that runs them is server/pipelines/automation.
 */
export { listLog, type LogInput, writeLog } from "./log";
export { projectedBatteryDays, renderTemplate, type ConditionSpec, type Sample, type TemplateValues } from "./evaluate";
export { alertRuleOf, createRule, deleteRule, getRule, listRules, type RuleRow, updateRule } from "./rules";
export { claimRun, createSchedule, deleteSchedule, dueSchedules, listSchedules, recurrenceOf, requireSchedule, type ScheduleRow, upcomingRuns, updateSchedule } from "./schedules";
export { FRESH, advance, loadStates, saveState, type StoredState } from "./state";
