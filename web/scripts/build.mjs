// Builds the dashboard bundle (web/dist) when it is missing or older than its sources; `--force`
// builds anyway. Runs at `npm install` (postinstall), before `npm start` and before `npm test`, so
// the README's two commands stay the whole set-up. Plain Node (Vite's own runtime), no TypeScript
// step: it must run on a fresh clone before anything else is built.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = path.dirname(webDir);
const distDir = path.join(webDir, "dist");
const stampFile = path.join(distDir, ".build-hash");

/** Everything the bundle is made from: the dashboard's sources, what it imports, and the locked versions. */
const INPUTS = ["web/src", "web/index.html", "web/public", "web/vite.config.ts", "client", "shared", "package-lock.json"];

function filesUnder(relative) {
  const full = path.join(repoDir, relative);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [relative];
  return readdirSync(full, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(path.join(relative, entry.name)));
}

function fingerprint() {
  const hash = createHash("sha256");
  for (const file of INPUTS.flatMap(filesUnder)) {
    hash.update(file).update("\0").update(readFileSync(path.join(repoDir, file))).update("\0");
  }
  return hash.digest("hex");
}

const force = process.argv.includes("--force");
const wanted = fingerprint();
const current = existsSync(stampFile) && existsSync(path.join(distDir, "index.html")) ? readFileSync(stampFile, "utf8").trim() : "";
if (!force && current === wanted) {
  console.log("dashboard bundle is up to date (web/dist)");
  process.exit(0);
}

const started = performance.now();
const { build } = await import("vite");
await build({ configFile: path.join(webDir, "vite.config.ts"), logLevel: "warn" });

// Precompressed copies: the server sends .br or .gz to browsers that accept them.
let jsRaw = 0;
let jsGzip = 0;
for (const file of filesUnder("web/dist")) {
  if (!/\.(js|css|html|svg|json|webmanifest)$/.test(file)) continue;
  const full = path.join(repoDir, file);
  const data = readFileSync(full);
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(full + ".gz", gz);
  writeFileSync(full + ".br", brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  if (file.endsWith(".js")) {
    jsRaw += data.length;
    jsGzip += gz.length;
  }
}
writeFileSync(stampFile, wanted + "\n");
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dashboard built in ${Math.round(performance.now() - started)} ms: web/dist, JavaScript ${kb(jsRaw)} (${kb(jsGzip)} gzipped)`);
