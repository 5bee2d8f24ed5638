/**
 * Care tasks: one-off or recurring (RRULE in the site's time zone), completed, skipped or snoozed,
 * with their history; and a plant's care plan (what to do and when, from its species and its
 * measurements), which can become tasks in one step.
 */
export { completeCareTask, createCareTask, deleteCareTask, getCareTask, listCareTasks, skipCareTask, snoozeCareTask, upcomingOccurrences, updateCareTask } from "./tasks";
export { applyCarePlan, carePlanOf, type AppliedLine, type Basis, type CarePlan, type CarePlanLine } from "./plan";
