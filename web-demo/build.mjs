// Builds the static site into dist/: the page sources, uPlot from node_modules, and (put
// there by `make site`) the wasm-bindgen output in dist/pkg and the sample in dist/.
import { cpSync, mkdirSync, existsSync, writeFileSync, readFileSync, readdirSync } from "node:fs";
import wabtInit from "wabt";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
mkdirSync(join(dist, "vendor"), { recursive: true });
cpSync(join(here, "src"), dist, { recursive: true });
for (const f of ["uPlot.esm.js", "uPlot.min.css"]) cpSync(join(here, "node_modules/uplot/dist", f), join(dist, "vendor", f));
if (!existsSync(join(dist, "pkg/cflog_wasm.js"))) {
  console.error("dist/pkg is missing: run `make site` (it builds the wasm and runs wasm-bindgen)");
  process.exit(1);
}
// Example enrichment rules in WebAssembly text (the plugin ABI is language-neutral),
// compiled to the .wasm files a user loads on the page.
const wabt = await wabtInit();
mkdirSync(join(dist, "rules"), { recursive: true });
const watDir = join(here, "../plugins/examples/wat");
for (const f of readdirSync(watDir).filter((f) => f.endsWith(".wat"))) {
  const mod = wabt.parseWat(f, readFileSync(join(watDir, f), "utf8"), { bulk_memory: true });
  writeFileSync(join(dist, "rules", f.replace(/\.wat$/, ".wasm")), Buffer.from(mod.toBinary({}).buffer));
  mod.destroy();
}
writeFileSync(join(dist, ".nojekyll"), "");
console.log(`site built in ${dist}`);
