import assert from "node:assert/strict";
import { test } from "node:test";

import { summariseMask } from "/static/js/analysis/masks.js";
import { FINGERPRINT, fingerprintDistance } from "/static/js/sharing/fingerprint.js";
import { appendTrailer, decodePacket, encodePacket, MAGIC, PacketError, splitTrailers, TRAILERS_PER_FRAME, VERSION, withAge } from "/static/js/sharing/packet.js";

/** A selfie-model-sized mask (256 × 144) with a person as an ellipse centred at (cx, cy). */
function personMask(cx = 0.5, cy = 0.6, width = 256, height = 144) {
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const dx = (x / width - cx) / 0.2, dy = (y / height - cy) / 0.45;
      values[y * width + x] = dx * dx + dy * dy < 1 ? 0.95 : 0.03;
    }
  }
  return summariseMask(values, width, height);
}

const landmarks = Array.from({ length: 68 }, (_, i) => [0.4 + (i % 10) * 0.02, 0.3 + Math.floor(i / 10) * 0.015]);
const face = { x: 0.38, y: 0.25, width: 0.22, height: 0.3, score: 0.913, landmarks, expression: "happy", expressionScore: 0.8 };

test("a person's mask crosses at 128 px wide, one bit a pixel, in a few hundred bytes, where it was", () => {
  const mask = personMask(0.3, 0.55);
  const bytes = encodePacket({ age: 123456789, mask, faces: null });
  assert.ok(bytes.length < 400, `${bytes.length} bytes`);
  const back = decodePacket(bytes);
  assert.equal(back.age, 123456789);
  assert.equal(back.faces, null);
  assert.equal(back.mask?.width, 128);
  assert.equal(back.mask?.height, 72);
  assert.ok(Math.abs((back.mask?.coverage ?? 0) - mask.coverage) < 0.01);
  assert.ok(Math.abs((back.mask?.centroid?.x ?? 0) - 0.3) < 0.01);
  assert.ok(Math.abs((back.mask?.centroid?.y ?? 0) - (mask.centroid?.y ?? 0)) < 0.01);
  assert.deepEqual(new Set(back.mask?.alpha), new Set([0, 255]));
});

test("faces keep their boxes to a pixel and their landmarks within a fraction of the box", () => {
  const back = decodePacket(encodePacket({ age: 7, mask: null, faces: [face] }, { landmarks: true, expressions: true }));
  const [found] = back.faces ?? [];
  for (const key of ["x", "y", "width", "height"]) assert.ok(Math.abs(found[key] - face[key]) < 1 / 4000, key);
  assert.ok(Math.abs((found.score ?? 0) - 0.913) < 0.005);
  assert.equal(found.landmarks?.length, 68);
  found.landmarks?.forEach(([x, y], i) => assert.ok(Math.hypot(x - landmarks[i][0], y - landmarks[i][1]) < 0.003, `point ${i}`));
  assert.equal(found.expression, "happy");
  assert.ok(Math.abs((found.expressionScore ?? 0) - 0.8) < 0.005);
});

test("landmarks and expressions travel only when asked for, so boxes alone are small", () => {
  const boxes = encodePacket({ age: 1, mask: null, faces: [face, face] });
  assert.equal(boxes.length, 4 + 1 + 1 + 2 * 9);
  const [found] = decodePacket(boxes).faces ?? [];
  assert.equal(found.landmarks, undefined);
  assert.equal(found.expression, undefined);
});

test("no faces found is said (an empty list), unlike faces not analysed (null)", () => {
  assert.deepEqual(decodePacket(encodePacket({ age: 1, mask: null, faces: [] })).faces, []);
  assert.equal(decodePacket(encodePacket({ age: 1, mask: null, faces: null })).faces, null);
});

test("a mask's frame fingerprint travels with it, byte for byte, in 146 bytes", () => {
  const values = Uint8Array.from({ length: FINGERPRINT.width * FINGERPRINT.height }, (_, i) => (i * 37) % 256);
  const fingerprint = { ...FINGERPRINT, values };
  const mask = personMask();
  const without = encodePacket({ age: 3, mask, faces: null });
  const bytes = encodePacket({ age: 3, mask, faces: null, fingerprint });
  assert.equal(bytes.length - without.length, 2 + values.length);
  const back = decodePacket(bytes);
  assert.deepEqual(back.fingerprint, fingerprint);
  assert.equal(decodePacket(without).fingerprint, null);
  assert.equal(fingerprintDistance(fingerprint, /** @type {any} */ (back.fingerprint)), 0);
  // A fingerprint whose values do not fill its size is not sent.
  assert.equal(decodePacket(encodePacket({ age: 3, mask, faces: null, fingerprint: { width: 16, height: 9, values: values.slice(1) } })).fingerprint, null);
});

test("fingerprints compare by the mean difference of their blocks; other sizes never match", () => {
  const a = { width: 2, height: 2, values: Uint8Array.from([10, 20, 30, 40]) };
  assert.equal(fingerprintDistance(a, { width: 2, height: 2, values: Uint8Array.from([12, 18, 30, 44]) }), 2);
  assert.equal(fingerprintDistance(a, { width: 4, height: 1, values: a.values }), Infinity);
});

test("a frame with a trailer splits back into exactly the video bytes and the packet", () => {
  const video = Uint8Array.from({ length: 900 }, (_, i) => (i * 7) % 256).buffer;
  const packet = encodePacket({ age: 42, mask: personMask(), faces: [face] });
  const { video: back, packets, damage } = splitTrailers(appendTrailer(video, packet));
  assert.deepEqual(new Uint8Array(back), new Uint8Array(video));
  assert.deepEqual(packets, [packet]);
  assert.equal(damage, null);
});

test("a frame carries a mask and faces, one trailer each, read back in the order they were appended", () => {
  const video = new Uint8Array(500).fill(9).buffer;
  const mask = encodePacket({ age: 3, mask: personMask(), faces: null });
  const faces = encodePacket({ age: 1, mask: null, faces: [face] });
  assert.equal(TRAILERS_PER_FRAME, 2);
  const { video: back, packets, damage } = splitTrailers(appendTrailer(appendTrailer(video, mask), faces));
  assert.deepEqual(new Uint8Array(back), new Uint8Array(video));
  assert.deepEqual(packets, [mask, faces]);
  assert.equal(damage, null);
});

test("a frame without a trailer, or with one of another version, is all video", () => {
  const video = Uint8Array.from({ length: 300 }, (_, i) => i % 256).buffer;
  assert.deepEqual(splitTrailers(video), { video, packets: [], damage: null });
  const later = new Uint8Array(appendTrailer(video, encodePacket({ age: 1, mask: null, faces: [] })));
  later[later.length - MAGIC.length - 1] = VERSION + 1;
  assert.deepEqual(splitTrailers(later.buffer), { video: later.buffer, packets: [], damage: null });
});

test("a trailer longer than its frame is damage, and nothing of it is read", () => {
  const video = Uint8Array.from({ length: 300 }, (_, i) => i % 256).buffer;
  const tooLong = new Uint8Array(appendTrailer(video, Uint8Array.of(1, 2, 3)));
  tooLong[tooLong.length - 7] = 0xff;
  tooLong[tooLong.length - 6] = 0xff;
  const split = splitTrailers(tooLong.buffer);
  assert.deepEqual(split, { video: tooLong.buffer, packets: [], damage: "a trailer longer than its frame" });
  // Behind a whole trailer: that one is cut off, the frame still counts as damaged.
  const behind = appendTrailer(tooLong.buffer, encodePacket({ age: 1, mask: null, faces: [] }));
  const second = splitTrailers(behind);
  assert.deepEqual(new Uint8Array(second.video), tooLong);
  assert.deepEqual(second.packets, []);
  assert.equal(second.damage, "a trailer longer than its frame");
});

test("thousands of stacked trailers are one damaged frame, found in one pass over it", () => {
  // The attack seen: a 400 kB frame of 13-byte trailers, 30,769 packets, 515 ms in the receiving worker.
  const packet = encodePacket({ age: 0, mask: null, faces: [] });
  const trailer = new Uint8Array(appendTrailer(new ArrayBuffer(0), packet));
  const video = new Uint8Array(1000).fill(7);
  const count = Math.floor((400_000 - video.length) / trailer.length);
  const frame = new Uint8Array(video.length + count * trailer.length);
  frame.set(video);
  for (let at = video.length; at < frame.length; at += trailer.length) frame.set(trailer, at);
  const started = performance.now();
  const split = splitTrailers(frame.buffer);
  const ms = performance.now() - started;
  assert.equal(split.damage, `more than ${TRAILERS_PER_FRAME} trailers`);
  assert.deepEqual(split.packets, []);
  assert.equal(split.video.byteLength, frame.length - TRAILERS_PER_FRAME * trailer.length, "two trailers cut off, the rest handed on");
  assert.ok(ms < 50, `${ms} ms`);
  // Ten times the trailers, about ten times the time at most (a copy of the frame): linear, not quadratic.
  const many = new Uint8Array(frame.length * 10);
  for (let at = 0; at < many.length; at += frame.length) many.set(frame, at);
  const again = performance.now();
  assert.equal(splitTrailers(many.buffer).damage, `more than ${TRAILERS_PER_FRAME} trailers`);
  assert.ok(performance.now() - again < 100, `${performance.now() - again} ms`);
});

/** A packet's bytes that count how many of them are read. @param {Uint8Array} bytes */
function counted(bytes) {
  const reads = { count: 0 };
  const proxy = new Proxy(bytes, {
    get(target, key) {
      if (typeof key === "string" && /^[0-9]+$/.test(key)) reads.count += 1;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bytes: /** @type {Uint8Array} */ (proxy), reads };
}

test("sizes a packet declares beyond its bytes are refused before any of them is read", () => {
  const cases = [
    // age, flags 2 (faces), 255 faces of 9 bytes, 20 bytes of them
    [Uint8Array.of(0, 0, 0, 0, 2, 255, ...new Uint8Array(20)), /faces beyond the packet/, 6],
    // with landmarks (flag 4): 2 faces of 145 bytes, 200 bytes
    [Uint8Array.of(0, 0, 0, 0, 2 | 4, 2, ...new Uint8Array(200)), /faces beyond the packet/, 6],
    // mask 100×50, 65535 runs, 10 bytes of them
    [Uint8Array.of(0, 0, 0, 0, 1, 100, 50, 0xff, 0xff, ...new Uint8Array(10)), /mask runs beyond the packet/, 9],
    // fingerprint 32×32, 100 bytes of it
    [Uint8Array.of(0, 0, 0, 0, 16, 32, 32, ...new Uint8Array(100)), /fingerprint beyond the packet/, 7],
    // a mask wider than any sent (128)
    [Uint8Array.of(0, 0, 0, 0, 1, 200, 50, 1, 0, 0x80, 0x4e), /mask too wide/, 9],
  ];
  for (const [packet, error, header] of cases) {
    const { bytes, reads } = counted(/** @type {Uint8Array} */ (packet));
    assert.throws(() => decodePacket(bytes), error);
    assert.equal(reads.count, header, `${error}: only its header read`);
  }
});

test("a damaged packet is refused with a PacketError, never read as something else", () => {
  const packet = encodePacket({ age: 9, mask: personMask(), faces: [face] }, { landmarks: true, expressions: true });
  assert.throws(() => decodePacket(packet.slice(0, packet.length - 3)), PacketError);
  assert.throws(() => decodePacket(Uint8Array.of(...packet, 0)), PacketError);
  const badRuns = Uint8Array.from(packet);
  badRuns[7] = 0xff; // the mask's run count
  assert.throws(() => decodePacket(badRuns), PacketError);
  assert.throws(() => decodePacket(new Uint8Array(0)), PacketError);
  // Fingerprints: empty, larger than 1024 blocks, or cut short.
  assert.throws(() => decodePacket(Uint8Array.of(0, 0, 0, 0, 16, 0, 9)), /bad fingerprint size/);
  assert.throws(() => decodePacket(Uint8Array.of(0, 0, 0, 0, 16, 40, 40, ...new Uint8Array(1600))), /bad fingerprint size/);
  assert.throws(() => decodePacket(Uint8Array.of(0, 0, 0, 0, 16, 2, 2, 1, 2, 3)), /fingerprint beyond the packet/);
});

test("BodyPix-sized and square masks shrink to at most 128 px wide and keep their shape", () => {
  for (const [width, height] of [[320, 240], [256, 256]]) {
    const back = decodePacket(encodePacket({ age: 1, mask: personMask(0.5, 0.5, width, height), faces: null })).mask;
    assert.ok((back?.width ?? 0) <= 128 && (back?.width ?? 0) >= 100, `${width}: ${back?.width}`);
    assert.ok(Math.abs((back?.width ?? 0) / (back?.height ?? 1) - width / height) < 0.05);
  }
});

test("each peer's copy names the frame in its own RTP clock: only the age differs", () => {
  const packet = encodePacket({ age: 0, mask: personMask(), faces: [face] });
  const aged = withAge(packet, 6000);
  assert.equal(decodePacket(aged).age, 6000);
  assert.deepEqual(aged.slice(4), packet.slice(4));
  assert.equal(decodePacket(packet).age, 0);
});
