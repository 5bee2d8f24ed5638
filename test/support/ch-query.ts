// Runs one ClickHouse query on a stopped server's embedded chDB directory and prints the rows as
// JSON. A separate process, because chDB binds one data directory per process and the test
// process already holds its own.
import { openClickhouse } from "../../clickhouse/client";

const [path, database, query] = process.argv.slice(2);
const ch = openClickhouse({ target: { embeddedPath: path! }, database: database! });
const result = await ch.client.query({ query: query!, format: "JSONEachRow" });
console.log(JSON.stringify(await result.json()));
await ch.close();
