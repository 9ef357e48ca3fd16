// Compiles src/*.sol with the pinned solc-js and writes one committed artifact per deployable contract
// to artifacts/<Contract>.json, so running the project needs no compiler.
// Usage: npm ci && node build.mjs
//
// The output must be byte-identical across runs and machines: sources are keyed by relative path (no
// absolute paths leak into the metadata hash), JSON keys are sorted, and stale artifacts are removed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const ROOT = dirname(fileURLToPath(import.meta.url));
const SRC_DIR = join(ROOT, "src");
const OUT_DIR = join(ROOT, "artifacts");
const NODE_MODULES = join(ROOT, "node_modules");

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

// Only package imports are resolved from node_modules; anything else (e.g. a typo'd relative path that
// solc could not find among the given sources) is an error rather than a silent filesystem read.
function findImports(path) {
  if (!path.startsWith("@openzeppelin/")) return { error: `import not allowed: ${path}` };
  const full = normalize(join(NODE_MODULES, path));
  if (!full.startsWith(NODE_MODULES + sep)) return { error: `import escapes node_modules: ${path}` };
  if (!existsSync(full)) return { error: `not found: ${path} (run npm ci)` };
  return { contents: readFileSync(full, "utf8") };
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

const files = readdirSync(SRC_DIR)
  .filter((f) => f.endsWith(".sol"))
  .sort();
const sources = {};
const sourceHashes = {};
for (const file of files) {
  const key = `src/${file}`;
  const content = readFileSync(join(SRC_DIR, file), "utf8");
  sources[key] = { content };
  // Hash the raw bytes, which is what tests/test_contracts.py recomputes to detect a stale build.
  sourceHashes[key] = sha256(readFileSync(join(SRC_DIR, file)));
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    // Only our own files: OpenZeppelin's contracts are compiled as dependencies but get no artifact.
    outputSelection: Object.fromEntries(Object.keys(sources).map((k) => [k, { "*": ["abi", "evm.bytecode.object"] }])),
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
// Warnings inside the pinned OpenZeppelin release are known and not ours to fix; keep the log for ours.
const problems = (output.errors ?? []).filter(
  (p) => p.severity === "error" || !p.sourceLocation?.file?.startsWith("@openzeppelin/"),
);
if (!output.contracts && !problems.length) problems.push({ severity: "error", message: "solc produced no contracts" });
for (const p of problems) console.error(p.formattedMessage ?? p.message);
if (problems.some((p) => p.severity === "error")) process.exit(1);

mkdirSync(OUT_DIR, { recursive: true });
const written = new Set();
for (const key of Object.keys(output.contracts).sort()) {
  if (!key.startsWith("src/")) continue;
  for (const [name, c] of Object.entries(output.contracts[key]).sort(([a], [b]) => a.localeCompare(b))) {
    // Interfaces and abstract contracts have no creation code: nothing to deploy, so no artifact.
    if (!c.evm.bytecode.object) continue;
    if (written.has(name)) throw new Error(`duplicate contract name ${name}`);
    const artifact = sortKeys({
      contract: name,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      compiler: solc.version(),
      source_sha256: sourceHashes[key],
    });
    writeFileSync(join(OUT_DIR, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
    written.add(name);
    console.log(`${name}: ${c.evm.bytecode.object.length / 2} bytes of creation code`);
  }
}
for (const f of readdirSync(OUT_DIR)) {
  if (f.endsWith(".json") && !written.has(f.slice(0, -5))) {
    rmSync(join(OUT_DIR, f));
    console.log(`removed stale ${f}`);
  }
}
