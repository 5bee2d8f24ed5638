export * from "./metrics";
export * from "./schemas/accounts";
export * from "./text";
