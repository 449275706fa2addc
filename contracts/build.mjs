// Compile contracts/src/*.sol offline with the pinned solcjs and write one artifact per
// deployable contract to contracts/build/<Name>.json ({contractName, abi, bytecode}).
// Settings are fixed and keys sorted so a rebuild reproduces the committed artifacts byte for
// byte; `node contracts/build.mjs --out DIR` writes elsewhere (the tests compare the two).
import { createRequire } from "node:module";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const outIdx = process.argv.indexOf("--out");
const outDir = outIdx > 0 ? resolve(process.argv[outIdx + 1]) : join(here, "build");

const files = readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) sources[f] = { content: readFileSync(join(srcDir, f), "utf8") };

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    // No metadata hash: it embeds source paths and would make bytecode depend on the checkout.
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  }
  return v;
}

mkdirSync(outDir, { recursive: true });
const written = [];
for (const file of Object.keys(output.contracts).sort()) {
  for (const [name, c] of Object.entries(output.contracts[file]).sort()) {
    const bytecode = c.evm.bytecode.object;
    if (!bytecode) continue; // interfaces have no code to deploy
    const artifact = {
      contractName: name,
      abi: sortKeys(c.abi),
      bytecode: "0x" + bytecode,
      compiler: `solc ${solc.version()}`,
    };
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    written.push(name);
  }
}
console.log(`compiled ${written.join(", ")} with solc ${solc.version()} -> ${outDir}`);
