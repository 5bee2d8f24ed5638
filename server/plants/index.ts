/** Plants (with the thresholds in force and their watering state), the species catalog and a site's own species. */
export { createPlant, getPlant, listPlants, setPlantArchived, updatePlant } from "./plants";
export { getSpecies, requireVisibleSpecies, searchSpecies } from "./catalog";
export { createSiteSpecies, deleteSiteSpecies, updateSiteSpecies } from "./site-species";
