import { defineConfig } from "drizzle-kit";

// `npm run db:generate` turns changes in db/schema into a new SQL migration in db/migrations.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
});
