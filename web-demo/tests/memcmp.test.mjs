// wasm/memcmp.wat against a plain byte-by-byte reference (C's memcmp: the difference of
// the first differing bytes, unsigned, or 0), and its splice into the site's module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { memcmpModule, memcmpBody, splice } from "../wasm/memcmp.mjs";
import { dist } from "./helpers.mjs";

function reference(mem, a, b, n) {
  for (let i = 0; i < n; i++) if (mem[a + i] !== mem[b + i]) return mem[a + i] - mem[b + i];
  return 0;
}

// A seeded generator (xorshift32), so that a failure repeats.
function rng(seed) {
  let x = seed;
  return (k) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % k;
  };
}

test("memcmp.wat agrees with the byte-by-byte reference", async () => {
  const { instance } = await WebAssembly.instantiate(await memcmpModule(), {});
  const { memcmp, memory } = instance.exports;
  const mem = new Uint8Array(memory.buffer);
  const rand = rng(0x13c0ffee);
  let differing = 0;
  for (let round = 0; round < 20000; round++) {
    const n = rand(4) === 0 ? rand(300) : rand(40);
    // Unaligned starts; the second copy of the bytes differs in at most one place.
    const a = rand(1000);
    const b = 2000 + rand(1000);
    for (let i = 0; i < n; i++) mem[a + i] = mem[b + i] = rand(4) === 0 ? rand(256) : 0x61 + rand(3);
    if (n > 0 && rand(3) > 0) {
      mem[b + rand(n)] = rand(256);
      differing++;
    }
    // Bytes past the end differ, to catch reading too far.
    mem[a + n] = 1;
    mem[b + n] = 2;
    const want = reference(mem, a, b, n);
    assert.equal(memcmp(a, b, n), want, `a=${a} b=${b} n=${n}`);
    assert.equal(memcmp(b, a, n), want === 0 ? 0 : -want, `b=${b} a=${a} n=${n}`);
  }
  assert.ok(differing > 10000, "most rounds compare differing bytes");
  // Signs at each position of a long run: the first difference decides, unsigned.
  mem.fill(7, 0, 200);
  mem.fill(7, 4096, 4296);
  for (let at = 0; at < 100; at++) {
    mem[at] = 0xff;
    assert.equal(memcmp(0, 4096, 100), 0xff - 7, `difference at ${at}`);
    assert.equal(memcmp(0, 4096, at), 0, `equal before ${at}`);
    mem[at] = 7;
  }
  // Reads past the memory trap, as the loads they replace would.
  assert.throws(() => memcmp(memory.buffer.byteLength - 8, 0, 16), WebAssembly.RuntimeError);
});

// Every length up to 70 (each path: bytes, 4/8-byte pairs, 16-byte blocks with an
// overlapping last block) with the one difference at every position, either sign, and
// the bytes just outside the compared ones differing (a read outside them would show).
test("memcmp.wat finds the first difference at every position of every short length", async () => {
  const { instance } = await WebAssembly.instantiate(await memcmpModule(), {});
  const { memcmp, memory } = instance.exports;
  const mem = new Uint8Array(memory.buffer);
  for (let n = 0; n <= 70; n++) {
    for (const shift of [0, 5]) {
      const a = 100 + shift;
      const b = 1000 + 3 * shift + 1;
      for (let i = 0; i < n; i++) mem[a + i] = mem[b + i] = 0x41 + ((i * 7) % 26);
      mem[a - 1] = 9;
      mem[b - 1] = 10;
      mem[a + n] = 1;
      mem[b + n] = 2;
      assert.equal(memcmp(a, b, n), 0, `equal, n=${n}`);
      for (let at = 0; at < n; at++) {
        const keep = mem[b + at];
        // 0xf0 against 0x10: unsigned, so positive; a signed compare would say negative.
        for (const [x, y] of [[0xf0, 0x10], [0x10, 0xf0], [keep, keep + 1]]) {
          mem[a + at] = x;
          mem[b + at] = y;
          // A later difference must not decide.
          if (at + 1 < n) mem[b + n - 1] = mem[a + n - 1] ^ 0xff;
          const want = reference(mem, a, b, n);
          assert.equal(want, x - y);
          assert.equal(memcmp(a, b, n), want, `n=${n} at=${at} ${x} vs ${y}`);
          assert.equal(memcmp(b, a, n), -want, `n=${n} at=${at} ${y} vs ${x}`);
          mem[b + n - 1] = mem[a + n - 1] = 0x41 + (((n - 1) * 7) % 26);
        }
        mem[a + at] = mem[b + at] = keep;
      }
    }
  }
});

test("the site's module carries the spliced memcmp, and a module without one is refused", async () => {
  const site = readFileSync(join(dist, "pkg/cflog_wasm_bg.wasm"));
  const body = await memcmpBody();
  assert.ok(site.includes(body), "dist/pkg/cflog_wasm_bg.wasm holds memcmp.wat's body (`make site` runs wasm/memcmp.mjs)");
  assert.ok(WebAssembly.validate(site));
  // Splicing again changes nothing: the same body at the same place.
  assert.ok(splice(site, body).equals(site));
  const alone = await memcmpModule();
  assert.throws(() => splice(alone, body), /no name section/);
});
