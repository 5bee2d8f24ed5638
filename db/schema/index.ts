export * from "./sites";
export * from "./species";
