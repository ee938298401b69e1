/**
 * The last few frames each remote video showed, by RTP time, so that a person
 * can be drawn from the very frame their shared mask was computed on (the mask
 * arrives a frame or three after that frame is shown). A frame is kept as a
 * VideoFrame: a handle to the decoded picture, no pixels copied.
 */
export class FrameHistory {
  /** @type {Map<string, {video: HTMLVideoElement, frames: Array<{rtp: number, frame: VideoFrame}>, callback: number, current: number | null}>} */
  #watched = new Map();
  #keep;

  /** @param {{keep?: number}} [options] frames kept per video: 15 is a second at 15 fps, half at 30 */
  constructor({ keep = 15 } = {}) {
    this.#keep = keep;
  }

  static get supported() {
    return typeof VideoFrame !== "undefined" && "requestVideoFrameCallback" in HTMLVideoElement.prototype;
  }

  /** Keep the frames `video` shows (again, if it is another element now). @param {string} id @param {HTMLVideoElement} video */
  watch(id, video) {
    if (!FrameHistory.supported || this.#watched.get(id)?.video === video) return;
    this.unwatch(id);
    const entry = { video, frames: /** @type {Array<{rtp: number, frame: VideoFrame}>} */ ([]), callback: 0, current: /** @type {number | null} */ (null) };
    /** @type {VideoFrameRequestCallback} */
    const shown = (_now, metadata) => {
      if (this.#watched.get(id) !== entry) return;
      entry.callback = video.requestVideoFrameCallback(shown);
      entry.current = metadata.rtpTimestamp ?? null;
      if (metadata.rtpTimestamp === undefined || !video.videoWidth) return;
      entry.frames.push({ rtp: metadata.rtpTimestamp, frame: new VideoFrame(video) });
      if (entry.frames.length > this.#keep) entry.frames.shift()?.frame.close();
    };
    entry.callback = video.requestVideoFrameCallback(shown);
    this.#watched.set(id, entry);
  }

  /** @param {string} id */
  unwatch(id) {
    const entry = this.#watched.get(id);
    if (!entry) return;
    entry.video.cancelVideoFrameCallback(entry.callback);
    for (const { frame } of entry.frames) frame.close();
    this.#watched.delete(id);
  }

  /** Stop watching every video but these. @param {Set<string>} ids */
  keepOnly(ids) {
    for (const id of [...this.#watched.keys()]) if (!ids.has(id)) this.unwatch(id);
  }

  /** The kept frame with this RTP time, or null (valid until the next frame is shown). @param {string} id @param {number | null | undefined} rtp */
  at(id, rtp) {
    if (rtp === null || rtp === undefined) return null;
    return this.#watched.get(id)?.frames.find((kept) => kept.rtp === rtp)?.frame ?? null;
  }

  /** The RTP time of the frame the video shows now, where known. @param {string} id */
  current(id) {
    return this.#watched.get(id)?.current ?? null;
  }
}
