export * from "./accounts";
export * from "./devices";
export * from "./plants";
export * from "./sites";
export * from "./species";
