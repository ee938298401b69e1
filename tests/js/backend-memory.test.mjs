import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { BackendMemory, graphicsRenderer } from "/static/js/analysis/backend-memory.js";

/** The Web Storage API, in memory (Node 20 has no localStorage). */
class MemoryStorage {
  items = new Map();
  getItem(key) {
    return this.items.get(key) ?? null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/** The device the page runs on, as BackendMemory reads it (Node 20 has no `navigator`). */
function device(userAgent = "Chrome/130", hardwareConcurrency = 8) {
  globalThis.navigator = { userAgent, hardwareConcurrency };
}

const GPU = "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)";
const choice = (backend) => ({ candidate: { delegate: backend.toUpperCase() }, backend, tried: { cpu: 14, gpu: 9 }, measuredAt: "2026-01-01T00:00:00.000Z" });

beforeEach(() => device());

test("the backend measured on this device is what the next visit starts on", () => {
  const storage = new MemoryStorage();
  new BackendMemory({ storage, renderer: GPU }).remember("selfie:landscape", choice("gpu"));
  const next = new BackendMemory({ storage, renderer: GPU });
  assert.deepEqual(next.recall("selfie:landscape"), choice("gpu"));
  assert.equal(next.recall("face-api:tiny"), null, "another engine is measured on its own");
  next.remember("face-api:tiny", choice("cpu"));
  assert.deepEqual(new BackendMemory({ storage, renderer: GPU }).recall("selfie:landscape"), choice("gpu"), "both kept");
});

test("a new browser version, another core count or another graphics renderer measures again", () => {
  const storage = new MemoryStorage();
  new BackendMemory({ storage, renderer: GPU }).remember("selfie", choice("gpu"));
  device("Chrome/131", 8);
  assert.equal(new BackendMemory({ storage, renderer: GPU }).recall("selfie"), null);
  device("Chrome/130", 4);
  assert.equal(new BackendMemory({ storage, renderer: GPU }).recall("selfie"), null);
  device("Chrome/130", 8);
  assert.equal(new BackendMemory({ storage, renderer: "Intel Iris" }).recall("selfie"), null);
  assert.deepEqual(new BackendMemory({ storage, renderer: GPU }).recall("selfie"), choice("gpu"));
});

test("storage that is refused, full, missing or holds something unreadable only means measuring again", () => {
  const refusing = { getItem() { throw new Error("SecurityError"); }, setItem() { throw new Error("QuotaExceededError"); }, removeItem() {} };
  const memory = new BackendMemory({ storage: refusing, renderer: GPU });
  memory.remember("selfie", choice("gpu")); // does not throw
  assert.equal(memory.recall("selfie"), null);
  const none = new BackendMemory({ storage: null, renderer: GPU });
  none.remember("selfie", choice("gpu"));
  assert.equal(none.recall("selfie"), null);
  const garbled = new MemoryStorage();
  garbled.setItem("ensemble.backends.v1", "{not json");
  assert.equal(new BackendMemory({ storage: garbled, renderer: GPU }).recall("selfie"), null);
});

test("a software rasterizer standing in for a GPU is recognised by name", () => {
  const named = (renderer) => new BackendMemory({ storage: null, renderer }).softwareRenderer;
  assert.equal(named("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"), "SwiftShader");
  assert.equal(named("llvmpipe (LLVM 15.0.6, 256 bits)"), "llvmpipe");
  assert.equal(named("Microsoft Basic Render Driver"), "Basic Render Driver");
  assert.equal(named(GPU), null);
  assert.equal(named("no WebGL"), null);
});

test("where there is no canvas (a worker), the renderer is reported as no WebGL", () => {
  assert.equal(graphicsRenderer(), "no WebGL");
});
