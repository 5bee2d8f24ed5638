import { commandIdInput, createCommandInput, listCommandsInput } from "../../../../shared/schemas/commands";
import { cancelCommand, getCommand, listCommands, queueCommand } from "../../../commands";
import { router, siteProcedure } from "../core";

/** Commands to actuators; devices fetch and acknowledge them over HTTP (server/routes/device-commands.ts). */
export const commandsRouter = router({
  list: siteProcedure("viewer")
    .input(listCommandsInput)
    .query(({ ctx, input }) => listCommands(ctx.stores.db, ctx.siteId, input, ctx.now())),
  get: siteProcedure("viewer")
    .input(commandIdInput)
    .query(({ ctx, input }) => getCommand(ctx.stores.db, ctx.siteId, input.commandId, ctx.now())),
  /** Idempotent by `idempotencyKey`: a retry returns the first command with `created: false`. */
  create: siteProcedure("editor")
    .input(createCommandInput)
    .mutation(({ ctx, input }) => queueCommand(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  cancel: siteProcedure("editor")
    .input(commandIdInput)
    .mutation(({ ctx, input }) => cancelCommand(ctx.stores.db, ctx.siteId, input.commandId, ctx.now())),
});
