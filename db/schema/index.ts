export * from "./accounts";
export * from "./devices";
export * from "./sites";
export * from "./species";
