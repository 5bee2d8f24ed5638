/** Plants (with the thresholds in force and their watering state), their status, and the species catalog. */
export { createPlant, getPlant, listPlants, setPlantArchived, updatePlant } from "./plants";
export { plantStatuses, type StatusAnswer, type StatusDeps } from "./status";
export { statusChanges } from "./status-stream";
export { getSpecies, searchSpecies } from "./catalog";
