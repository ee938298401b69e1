/** Shows the microphone level of a stream on a <meter>, about 20 times a second. */
export class LevelMeter {
  /** @type {AudioContext | null} */
  #context = null;
  #timer = 0;
  #meter;

  /** @param {HTMLMeterElement} meter */
  constructor(meter) {
    this.#meter = meter;
  }

  /** @param {MediaStream} stream */
  start(stream) {
    this.stop();
    if (stream.getAudioTracks().length === 0) return;
    this.#context = new AudioContext();
    const analyser = this.#context.createAnalyser();
    analyser.fftSize = 512;
    this.#context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.#timer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      const rms = Math.sqrt(samples.reduce((sum, value) => sum + value * value, 0) / samples.length);
      this.#meter.value = Math.min(1, rms * 4);
    }, 50);
  }

  stop() {
    clearInterval(this.#timer);
    this.#context?.close();
    this.#context = null;
    this.#meter.value = 0;
  }
}
