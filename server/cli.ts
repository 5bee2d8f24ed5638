import { openClickhouse } from "../clickhouse/client";
import { openDatabase } from "../db/client";
import { type AdminArgs, AdminCommandError, adminCommands, readAdminSecret, readServerLock } from "./admin";
import { type Config, ConfigError, loadConfig, messageOf } from "./platform";

/**
 * `npm run cli -- <command> [--flag] [--name value]`: prints one JSON document on stdout, or a
 * JSON error on stderr with exit code 1. While a server holds the embedded stores of DATA_DIR the
 * command is forwarded to it over loopback; otherwise the stores are opened here.
 */

export function parseArgs(argv: string[]): { command: string | undefined; args: AdminArgs } {
  const [command, ...rest] = argv;
  const args: AdminArgs = {};
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (!token.startsWith("--")) throw new AdminCommandError(`unexpected argument ${JSON.stringify(token)}: options look like --name value`);
    const [name, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (inline !== undefined) args[name] = inline;
    else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith("--")) args[name] = rest[++i]!;
    else args[name] = true;
  }
  return { command, args };
}

async function runViaServer(config: Config, port: number, command: string, args: AdminArgs): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/admin/${encodeURIComponent(command)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${readAdminSecret(config.dataDir)}`, "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  const body = (await response.json()) as { error?: string; details?: unknown };
  if (!response.ok) throw new AdminCommandError(body.error ?? `server answered ${response.status}`);
  return body;
}

async function runDirectly(config: Config, command: string, args: AdminArgs): Promise<unknown> {
  const postgres = await openDatabase(config.postgres);
  const clickhouse = openClickhouse({
    target: config.clickhouse.target,
    database: config.clickhouse.database,
    cluster: config.clickhouse.cluster,
  });
  try {
    return await adminCommands[command]!.run({ postgres, clickhouse, walDir: config.ingest.walDir }, args);
  } finally {
    await postgres.close();
    await clickhouse.close();
  }
}

function usage(): string {
  const lines = Object.entries(adminCommands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: npm run cli -- <command> [options]\n\ncommands:\n${lines.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
  const { command, args } = parseArgs(argv);
  if (!command || command === "help" || args.help) {
    console.log(usage());
    return command ? 0 : 1;
  }
  if (!adminCommands[command]) throw new AdminCommandError(`unknown command ${JSON.stringify(command)}; run "npm run cli -- help"`);
  if (args["password-stdin"] === true) {
    // Keeps the password out of shell history and the process list.
    args.password = (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, "");
    delete args["password-stdin"];
  }
  const config = loadConfig();
  const server = readServerLock(config.dataDir);
  const result = server
    ? await runViaServer(config, server.port, command, args)
    : await runDirectly(config, command, args);
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof ConfigError || error instanceof AdminCommandError ? error.message : messageOf(error);
  console.error(JSON.stringify({ error: message }));
  process.exitCode = 1;
}
