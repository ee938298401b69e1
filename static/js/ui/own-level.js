/**
 * The level of this browser's own microphone, through one Web Audio analyser;
 * follows the stream's audio track as it is replaced, and reads 0 while muted.
 */
export class OwnLevel {
  /** @type {AudioContext | null} */
  #context = null;
  /** @type {AnalyserNode | null} */
  #analyser = null;
  /** @type {MediaStreamAudioSourceNode | null} */
  #source = null;
  /** @type {MediaStreamTrack | null} */
  #track = null;
  #samples = new Float32Array(512);

  /** @param {MediaStream} stream */
  level(stream) {
    const track = stream.getAudioTracks()[0] ?? null;
    if (!track || !track.enabled || track.readyState !== "live") return 0;
    if (track !== this.#track) this.#listen(track);
    if (!this.#analyser) return 0;
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const value of this.#samples) sum += value * value;
    return Math.sqrt(sum / this.#samples.length);
  }

  close() {
    this.#source?.disconnect();
    this.#context?.close();
    this.#context = this.#analyser = this.#source = this.#track = null;
  }

  /** @param {MediaStreamTrack} track */
  #listen(track) {
    this.#source?.disconnect();
    this.#track = track;
    if (!this.#context) {
      this.#context = new AudioContext();
      this.#analyser = this.#context.createAnalyser();
      this.#analyser.fftSize = this.#samples.length;
      // Without a gesture yet (joining from a link with ?name=) the context waits for the first one.
      if (this.#context.state === "suspended") {
        document.addEventListener("pointerdown", () => this.#context?.resume(), { once: true });
        document.addEventListener("keydown", () => this.#context?.resume(), { once: true });
      }
    }
    this.#source = this.#context.createMediaStreamSource(new MediaStream([track]));
    this.#source.connect(/** @type {AnalyserNode} */ (this.#analyser));
  }
}
