/**
 * The admin CLI's operations (migrate, seed, users, devices…) and the DATA_DIR lock that tells the
 * CLI whether a running server holds the embedded stores (then it forwards to POST /admin/*).
 */
export { AdminCommandError, adminCommands, type AdminArgs } from "./operations";
export { claimDataDir, readAdminSecret, readServerLock, secretMatches, updateServerLockPort } from "./server-lock";
