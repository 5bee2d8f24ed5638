/** Actuator commands: queued for a pump, lamp or relay, fetched by the device (long poll), acknowledged and finished; they expire. */
export { acknowledgeCommand, cancelCommand, claimPendingCommands, getCommand, listCommands, openCommandsOf, queueCommand, type Command } from "./commands";
export { MAX_WAIT_SECONDS, longPollCommands } from "./long-poll";
