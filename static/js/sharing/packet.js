/**
 * One sender's analysis of one of its camera frames, as bytes: the packet that
 * rides at the end of an encoded VP8/VP9 frame (the trailer) and is stripped
 * by receivers that understand it. docs/protocol.md ("Shared analysis") is the
 * written form of this layout; everything is little-endian.
 *
 *   packet   u32 age: how many RTP clock ticks (90 kHz) the frame analysed came
 *            before the frame that carries the packet (0: that frame itself; each
 *            RTP stream starts its clock at random, ages do not depend on it),
 *            u8 flags, then the mask (flag 1), then the faces (flag 2), then
 *            the fingerprint of the frame analysed (flag 16)
 *   mask     u8 width, u8 height, u16 run count, runs as LEB128 varints: the
 *            pixels row by row, alternating background and person, starting
 *            with background (a run may be 0)
 *   faces    u8 count; per face u16 x, y, width, height (of 65535), u8 score
 *            (of 255); with flag 4, 68 landmarks as u8 pairs within the face
 *            box grown by half its size on each side; with flag 8, u8
 *            expression index (EXPRESSIONS), u8 its probability (of 255)
 *   fingerprint  u8 width, u8 height, then width × height u8 brightness
 *            values row by row (fingerprint.js): which of the frames around
 *            the one named is the one analysed
 *   trailer  the packet, u16 its length, u8 version, the 4 bytes "EnsA"; at
 *            most TRAILERS_PER_FRAME a frame, one after the other
 *
 * Every size a packet declares (mask runs, faces, fingerprint blocks) is
 * checked against the bytes left before any of it is read or allocated: a
 * peer's packet costs at most time linear in its length.
 *
 * Masks are cut to one bit a pixel (person or not) at most MASK_WIDTH wide:
 * a 128×72 mask is ~150–400 bytes, about 3–6 % of a 500 kbps video at 15
 * masks a second, where its 8-bit form would be 9 KB.
 *
 * @typedef {import("../analysis/masks.js").PersonMask} PersonMask
 * @typedef {import("../analysis/engines/faces.js").Face & {expressionScore?: number}} Face
 * @typedef {{width: number, height: number, values: Uint8Array}} Fingerprint
 * @typedef {{age: number, mask: PersonMask | null, faces: Face[] | null, fingerprint?: Fingerprint | null}} Packet
 */
import { summariseMask } from "../analysis/masks.js";

export const MAGIC = [0x45, 0x6e, 0x73, 0x41]; // "EnsA"
/** Codecs whose decoders skip bytes after a frame, so frames can carry trailers (an H.264 or AV1 decoder does not). */
export const TRAILER_CODECS = ["video/VP8", "video/VP9"];
export const VERSION = 2;
/** The most trailers a frame carries, as many as a sender has models (docs/protocol.md); more make the frame damaged. */
export const TRAILERS_PER_FRAME = 2;
const TRAILER_TAIL = 2 + 1 + MAGIC.length; // length, version, magic
/** The widest mask shipped: beyond this the bytes grow and the cut-out does not improve on a 640 px video. */
export const MASK_WIDTH = 128;
export const EXPRESSIONS = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"];
const FLAG = { mask: 1, faces: 2, landmarks: 4, expressions: 8, fingerprint: 16 };
/** The most blocks a fingerprint has (32×32). */
const FINGERPRINT_BLOCKS = 1024;
const LANDMARKS = 68;
const FACE_BYTES = 9; // a face's box and score
const UNIT = 65535;

/** A packet this code cannot read: damaged, cut short, or from a later version. */
export class PacketError extends Error {}

/**
 * @param {Packet} packet
 * @param {{landmarks?: boolean, expressions?: boolean}} [detail] what to include of each face, when it has it
 * @returns {Uint8Array}
 */
export function encodePacket({ age, mask, faces, fingerprint = null }, detail = {}) {
  const out = new Writer();
  const withLandmarks = Boolean(detail.landmarks && faces?.length && faces.every((face) => face.landmarks?.length === LANDMARKS));
  const withExpressions = Boolean(detail.expressions && faces?.length && faces.every((face) => face.expression && EXPRESSIONS.includes(face.expression)));
  out.u32(age >>> 0);
  const print = fingerprint && validSize(fingerprint) && fingerprint.values.length === fingerprint.width * fingerprint.height ? fingerprint : null;
  out.u8(
    (mask ? FLAG.mask : 0) |
      (faces ? FLAG.faces : 0) |
      (withLandmarks ? FLAG.landmarks : 0) |
      (withExpressions ? FLAG.expressions : 0) |
      (print ? FLAG.fingerprint : 0),
  );
  if (mask) writeMask(out, mask);
  if (faces) {
    out.u8(Math.min(255, faces.length));
    for (const face of faces.slice(0, 255)) writeFace(out, face, withLandmarks, withExpressions);
  }
  if (print) {
    out.u8(print.width);
    out.u8(print.height);
    for (const value of print.values) out.u8(value);
  }
  return out.bytes();
}

/**
 * @param {Uint8Array} bytes a packet (without the trailer's tail)
 * @returns {Packet}
 */
export function decodePacket(bytes) {
  const input = new Reader(bytes);
  const age = input.u32();
  const flags = input.u8();
  const mask = flags & FLAG.mask ? readMask(input) : null;
  /** @type {Face[] | null} */
  let faces = null;
  if (flags & FLAG.faces) {
    const [landmarks, expressions] = [Boolean(flags & FLAG.landmarks), Boolean(flags & FLAG.expressions)];
    const count = input.u8();
    input.expect(count * (FACE_BYTES + (landmarks ? 2 * LANDMARKS : 0) + (expressions ? 2 : 0)), "faces");
    faces = [];
    for (let left = count; left > 0; left -= 1) faces.push(readFace(input, landmarks, expressions));
  }
  const fingerprint = flags & FLAG.fingerprint ? readFingerprint(input) : null;
  if (!input.done) throw new PacketError(`${bytes.length - input.offset} bytes left over`);
  return { age, mask, faces, fingerprint };
}

/**
 * The same packet with another age (the rest is the same for every peer: it is encoded once).
 * @param {Uint8Array} packet @param {number} age
 */
export function withAge(packet, age) {
  const copy = Uint8Array.from(packet);
  new DataView(copy.buffer).setUint32(0, age >>> 0, true);
  return copy;
}

/**
 * An encoded frame's bytes with a packet appended.
 * @param {ArrayBuffer} frame @param {Uint8Array} packet at most 65535 bytes
 */
export function appendTrailer(frame, packet) {
  if (packet.length > 0xffff) throw new PacketError("packet too long");
  const joined = new Uint8Array(frame.byteLength + packet.length + TRAILER_TAIL);
  joined.set(new Uint8Array(frame), 0);
  joined.set(packet, frame.byteLength);
  let at = frame.byteLength + packet.length;
  joined[at++] = packet.length & 0xff;
  joined[at++] = packet.length >> 8;
  joined[at++] = VERSION;
  joined.set(MAGIC, at);
  return joined.buffer;
}

/**
 * Split an encoded frame into the video and the packets at its end: at most
 * TRAILERS_PER_FRAME trailers of this version, read from the end, each one's
 * length checked against the bytes before it before anything is taken; bytes
 * in front of a trailer of another version, or none, are all video. Linear in
 * the frame's size whatever it holds (a copy of the video, when trailers are cut).
 * @param {ArrayBuffer} frame
 * @returns {{video: ArrayBuffer, packets: Uint8Array[], damage: string | null}} the packets in the order they were
 *   appended; `damage`: why the frame's trailers are not to be read (then `packets` is empty and `video` is the
 *   frame with the trailers cut off that could be told apart)
 */
export function splitTrailers(frame) {
  const bytes = new Uint8Array(frame);
  /** @type {Uint8Array[]} */
  const packets = [];
  let end = bytes.length;
  let damage = null;
  while (!damage && endsInTrailer(bytes, end)) {
    const start = end - TRAILER_TAIL - (bytes[end - TRAILER_TAIL] | (bytes[end - TRAILER_TAIL + 1] << 8));
    if (packets.length === TRAILERS_PER_FRAME) damage = `more than ${TRAILERS_PER_FRAME} trailers`;
    else if (start < 1) damage = "a trailer longer than its frame";
    else {
      packets.unshift(bytes.subarray(start, end - TRAILER_TAIL));
      end = start;
    }
  }
  return { video: end === bytes.length ? frame : frame.slice(0, end), packets: damage ? [] : packets, damage };
}

/** Whether the first `end` bytes end in a trailer's tail of this version. @param {Uint8Array} bytes @param {number} end */
function endsInTrailer(bytes, end) {
  return end >= TRAILER_TAIL && bytes[end - MAGIC.length - 1] === VERSION && MAGIC.every((byte, index) => bytes[end - MAGIC.length + index] === byte);
}

/** @param {Reader} input @returns {Fingerprint} */
function readFingerprint(input) {
  const size = { width: input.u8(), height: input.u8() };
  if (!validSize(size)) throw new PacketError("bad fingerprint size");
  input.expect(size.width * size.height, "fingerprint");
  return { ...size, values: Uint8Array.from({ length: size.width * size.height }, () => input.u8()) };
}

/** @param {{width: number, height: number}} size */
function validSize({ width, height }) {
  return width > 0 && height > 0 && width <= 255 && height <= 255 && width * height <= FINGERPRINT_BLOCKS;
}

/** @param {Writer} out @param {PersonMask} mask */
function writeMask(out, mask) {
  const { width, height, bits } = shrink(mask);
  out.u8(width);
  out.u8(height);
  /** @type {number[]} */
  const runs = [];
  let current = 0, run = 0;
  for (const bit of bits) {
    if (bit === current) run += 1;
    else {
      runs.push(run);
      current = bit;
      run = 1;
    }
  }
  runs.push(run);
  out.u16(runs.length);
  for (const length of runs) out.varint(length);
}

/** @param {Reader} input @returns {PersonMask} */
function readMask(input) {
  const width = input.u8(), height = input.u8(), count = input.u16();
  if (!width || !height) throw new PacketError("empty mask");
  if (width > MASK_WIDTH) throw new PacketError("mask too wide");
  input.expect(count, "mask runs"); // a byte a run at least
  const confidence = new Float32Array(width * height);
  let at = 0;
  for (let index = 0; index < count; index += 1) {
    const length = input.varint();
    if (at + length > confidence.length) throw new PacketError("mask runs past its size");
    if (index % 2 === 1) confidence.fill(1, at, at + length);
    at += length;
  }
  if (at !== confidence.length) throw new PacketError("mask runs short of its size");
  return summariseMask(confidence, width, height);
}

/**
 * The mask at most MASK_WIDTH wide, one bit a pixel: each pixel is a block of the
 * original, person when the block's mean confidence is over a half.
 * @param {PersonMask} mask
 */
function shrink({ width, height, alpha }) {
  const step = Math.max(1, Math.ceil(width / MASK_WIDTH), Math.ceil(height / 255));
  const small = { width: Math.floor(width / step), height: Math.floor(height / step) };
  const bits = new Uint8Array(small.width * small.height);
  for (let y = 0; y < small.height; y += 1) {
    for (let x = 0; x < small.width; x += 1) {
      let sum = 0;
      for (let dy = 0; dy < step; dy += 1) for (let dx = 0; dx < step; dx += 1) sum += alpha[(y * step + dy) * width + x * step + dx];
      bits[y * small.width + x] = sum > 127.5 * step * step ? 1 : 0;
    }
  }
  return { ...small, bits };
}

/** @param {Writer} out @param {Face} face @param {boolean} landmarks @param {boolean} expressions */
function writeFace(out, face, landmarks, expressions) {
  for (const value of [face.x, face.y, face.width, face.height]) out.u16(Math.round(clamp(value) * UNIT));
  out.u8(Math.round(clamp(face.score ?? 1) * 255));
  if (landmarks) {
    const frame = landmarkFrame(face);
    for (const [x, y] of /** @type {number[][]} */ (face.landmarks)) {
      out.u8(Math.round(clamp((x - frame.x) / frame.width) * 255));
      out.u8(Math.round(clamp((y - frame.y) / frame.height) * 255));
    }
  }
  if (expressions) {
    out.u8(EXPRESSIONS.indexOf(/** @type {string} */ (face.expression)));
    out.u8(Math.round(clamp(face.expressionScore ?? 1) * 255));
  }
}

/** @param {Reader} input @param {boolean} landmarks @param {boolean} expressions @returns {Face} */
function readFace(input, landmarks, expressions) {
  const [x, y, width, height] = [input.u16(), input.u16(), input.u16(), input.u16()].map((value) => value / UNIT);
  /** @type {Face} */
  const face = { x, y, width, height, score: round(input.u8() / 255) };
  if (landmarks) {
    const frame = landmarkFrame(face);
    face.landmarks = Array.from({ length: LANDMARKS }, () => [frame.x + (input.u8() / 255) * frame.width, frame.y + (input.u8() / 255) * frame.height]);
  }
  if (expressions) {
    const expression = EXPRESSIONS[input.u8()];
    if (!expression) throw new PacketError("unknown expression");
    face.expression = expression;
    face.expressionScore = round(input.u8() / 255);
  }
  return face;
}

/** Where a face's landmarks are measured in: its box grown by half on each side. @param {Face} face */
function landmarkFrame({ x, y, width, height }) {
  return { x: x - width / 2, y: y - height / 2, width: width * 2, height: height * 2 };
}

/** @param {number} value */
function clamp(value) {
  return Math.min(1, Math.max(0, value));
}

/** @param {number} value */
function round(value) {
  return Math.round(value * 1000) / 1000;
}

class Writer {
  /** @type {number[]} */
  #bytes = [];

  /** @param {number} value */
  u8(value) {
    this.#bytes.push(value & 0xff);
  }

  /** @param {number} value */
  u16(value) {
    this.#bytes.push(value & 0xff, (value >> 8) & 0xff);
  }

  /** @param {number} value */
  u32(value) {
    this.u16(value & 0xffff);
    this.u16(value >>> 16);
  }

  /** @param {number} value a whole number ≥ 0 */
  varint(value) {
    while (value >= 0x80) {
      this.#bytes.push((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    this.#bytes.push(value);
  }

  bytes() {
    return Uint8Array.from(this.#bytes);
  }
}

class Reader {
  offset = 0;
  #bytes;

  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.#bytes = bytes;
  }

  get done() {
    return this.offset === this.#bytes.length;
  }

  /** Refuse, before reading any of them, `count` bytes that the packet does not hold. @param {number} count @param {string} what */
  expect(count, what) {
    if (count > this.#bytes.length - this.offset) throw new PacketError(`${what} beyond the packet`);
  }

  u8() {
    if (this.offset >= this.#bytes.length) throw new PacketError("packet cut short");
    return this.#bytes[this.offset++];
  }

  u16() {
    return this.u8() | (this.u8() << 8);
  }

  u32() {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  varint() {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.u8();
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
    throw new PacketError("varint too long");
  }
}
