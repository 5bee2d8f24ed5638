export * from "./schemas/accounts";
export * from "./text";
