/** One entry of the seeded species catalog. Ranges are [min, max]. */
export interface SpeciesSeed {
  /** Stable key, kebab-case of the scientific name, e.g. "monstera-deliciosa". */
  slug: string;
  scientificName: string;
  /** English common names, most common first. */
  commonNames: string[];
  family: string;
  category: "houseplant" | "succulent" | "herb" | "vegetable" | "fruit" | "flower";
  /** Volumetric soil moisture, %. */
  soilMoisture: [number, number];
  /** Air temperature, °C. */
  temperature: [number, number];
  /** Relative humidity, %. */
  humidity: [number, number];
  /** Illuminance at the leaves during the photoperiod, lux. */
  lightLux: [number, number];
  /** Daily light integral, mol/m²/day. */
  dli: [number, number];
  /** Typical days between waterings in the growing season. */
  wateringIntervalDays: number;
  /** Electrical conductivity of the root zone / nutrient solution, mS/cm. */
  ec: [number, number];
  /** Toxic to cats or dogs (ASPCA-style listing). */
  toxicToPets: boolean;
  /** One or two sentences of care advice, written by us. */
  careNotes: string;
}
