/** Plants (with the thresholds in force and their watering state), their status, the species catalog and a site's own species. */
export { createPlant, getPlant, listPlants, setPlantArchived, updatePlant } from "./plants";
export { plantStatuses, type StatusAnswer, type StatusDeps } from "./status";
export { statusChanges } from "./status-stream";
export { getSpecies, requireVisibleSpecies, searchSpecies } from "./catalog";
export { createSiteSpecies, deleteSiteSpecies, updateSiteSpecies } from "./site-species";
