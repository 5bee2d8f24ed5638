export * from "./accounts";
export * from "./alerts";
export * from "./care";
export * from "./commands";
export * from "./devices";
export * from "./plants";
export * from "./sites";
export * from "./species";
