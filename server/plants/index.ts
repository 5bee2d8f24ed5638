/** Plants (with the thresholds in force and their watering state) and the species catalog. */
export { createPlant, getPlant, listPlants, setPlantArchived, updatePlant } from "./plants";
export { getSpecies, searchSpecies } from "./catalog";
