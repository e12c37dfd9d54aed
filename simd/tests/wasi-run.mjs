// Cargo's runner for wasm32-wasip1 test binaries (`make test-simd-wasm`): runs one .wasm
// under Node's WASI preview1 with the test's arguments and environment, and exits with
// its code, so `cargo test --target wasm32-wasip1` runs the splitter's tests (the simd128
// path) as it runs them natively. The guest sees only the repository, twice: at its own
// absolute path (the tests find the fuzz corpus through `CARGO_MANIFEST_DIR`, baked in at
// compile time) and at `/`, the guest's working directory (wasi-libc starts every program
// in `/`), so a workspace-relative `file!()` resolves; proptest finds its committed
// regression seeds (`tests/equal.proptest-regressions`) that way.
//
// Usage (set by the Makefile): CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings THIS"
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WASI } from "node:wasi";

const [wasmPath, ...args] = process.argv.slice(2);
if (!wasmPath) {
  console.error("usage: node wasi-run.mjs TEST.wasm [ARGS...]");
  process.exit(2);
}
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const wasi = new WASI({
  version: "preview1",
  args: [wasmPath, ...args],
  // wasm32-wasip1 is panic=abort: a failing test ends the process before libtest prints
  // what it captured, so nothing is captured and the panic message reaches stderr. (For
  // the same reason proptest cannot shrink here: it reports the first failing input.)
  env: { RUST_TEST_NOCAPTURE: "1", ...process.env },
  preopens: { [repo]: repo, "/": repo },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (err) {
  // A panic's abort is a trap (`unreachable`); its message is already on stderr.
  console.error(`wasi-run: ${wasmPath} trapped: ${err}`);
  code = 101;
}
process.exit(code);
