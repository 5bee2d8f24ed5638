/**
 * Watering: the ledger (manual, scheduled, automatic, detected; last watered and next due) and the
 * safety envelope of automatic watering (cooldown, daily cap, pause and resume). The automatic
 * watering process itself runs in server/pipelines/automation.
 */
export { followCommand, lastWateredBetween, listWaterings, recordWatering, risesAsWatering, updateWatering, wateringSummaries, wateringSummary } from "./ledger";
export {
  ensureSafetyRow,
  expirePauses,
  getSafety,
  pauseHolds,
  pauseWatering,
  pauseWateringByUser,
  resumeWatering,
  safetyOf,
  safetyRowsOf,
  safetyView,
  updateSafety,
  wateringAllowed,
} from "./safety";
