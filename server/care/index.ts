/** Care tasks: one-off or recurring (RRULE in the site's time zone), completed, skipped or snoozed, with their history. */
export { completeCareTask, createCareTask, deleteCareTask, getCareTask, listCareTasks, skipCareTask, snoozeCareTask, upcomingOccurrences, updateCareTask } from "./tasks";
