/**
 * @typedef {{quality: "good" | "fair" | "poor" | "unknown", rttMs: number | null, lossPercent: number, fps: number,
 *   framesDecoded: number, keyFramesDecoded: number, keyFramesAsked: number, frameHeight: number, relayed: boolean | null}} QualityReport
 *   `relayed`: the media goes through a TURN server (null before a route is chosen);
 *   `keyFramesDecoded`, `keyFramesAsked`: video key frames decoded and asked for (PLI and FIR) so far;
 *   `frameHeight`: of the video frames arriving (0 before any)
 * @typedef {Pick<RTCPeerConnection, "getStats" | "connectionState">} StatsSource the little of a connection read here
 */

/**
 * The candidate pair the media goes over, with its two ends; null before one is chosen.
 * @param {RTCStatsReport} report
 * @returns {{pair: any, local: any, remote: any} | null}
 */
export function chosenRoute(report) {
  const stats = [...report.values()];
  const selected = stats.find((stat) => stat.type === "transport" && stat.selectedCandidatePairId)?.selectedCandidatePairId;
  // Without the transport's word, the last pair nominated that works (an ICE restart can leave two).
  const working = stats.filter((stat) => stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded");
  const pair = selected ? report.get(selected) : working.at(-1);
  return pair ? { pair, local: report.get(pair.localCandidateId), remote: report.get(pair.remoteCandidateId) } : null;
}

/**
 * @param {number | null} rttSeconds
 * @param {number} lossPercent
 * @param {string} state
 */
export function rateQuality(rttSeconds, lossPercent, state) {
  if (state !== "connected" || rttSeconds === null) return "unknown";
  if (rttSeconds < 0.15 && lossPercent < 2) return "good";
  if (rttSeconds < 0.4 && lossPercent < 8) return "fair";
  return "poor";
}

/**
 * One link's WebRTC statistics, read for people: how good the connection is, and the route
 * its media takes. Packet loss is counted between two `read()`s, so one reader a link.
 */
export class LinkQuality {
  #pc;
  /** @type {{lost: number, received: number} | null} the inbound counters at the last `read()` */
  #lastInbound = null;

  /** @param {StatsSource} pc */
  constructor(pc) {
    this.#pc = pc;
  }

  /**
   * A connection-quality summary from the statistics since the last call.
   * @returns {Promise<QualityReport>}
   */
  async read() {
    const report = await this.#pc.getStats();
    /** @type {number | null} */
    let rtt = null;
    /** @type {boolean | null} */
    let relayed = null;
    const inbound = { lost: 0, received: 0, fps: 0, framesDecoded: 0, keyFramesDecoded: 0, keyFramesAsked: 0, frameHeight: 0 };
    const route = chosenRoute(report);
    if (route) {
      rtt = route.pair.currentRoundTripTime ?? null;
      relayed = [route.local, route.remote].some((end) => end?.candidateType === "relay");
    }
    report.forEach((stat) => {
      if (stat.type === "inbound-rtp") {
        inbound.lost += stat.packetsLost ?? 0;
        inbound.received += stat.packetsReceived ?? 0;
        if (stat.kind === "video") {
          inbound.fps = stat.framesPerSecond ?? 0;
          inbound.framesDecoded = stat.framesDecoded ?? 0;
          inbound.keyFramesDecoded = stat.keyFramesDecoded ?? 0;
          inbound.keyFramesAsked = (stat.pliCount ?? 0) + (stat.firCount ?? 0);
          inbound.frameHeight = stat.frameHeight ?? 0;
        }
      }
    });
    const previous = this.#lastInbound ?? { lost: 0, received: 0 };
    this.#lastInbound = inbound;
    const lost = inbound.lost - previous.lost;
    const total = lost + inbound.received - previous.received;
    const lossPercent = total > 0 ? (100 * lost) / total : 0;
    return {
      quality: rateQuality(rtt, lossPercent, this.#pc.connectionState),
      rttMs: rtt === null ? null : Math.round(rtt * 1000),
      lossPercent: Math.round(lossPercent * 10) / 10,
      fps: inbound.fps,
      framesDecoded: inbound.framesDecoded,
      keyFramesDecoded: inbound.keyFramesDecoded,
      keyFramesAsked: inbound.keyFramesAsked,
      frameHeight: inbound.frameHeight,
      relayed,
    };
  }

  /** Whether the media goes out through our own relay allocation (a local relay candidate). */
  async sentThroughOwnRelay() {
    const route = chosenRoute(await this.#pc.getStats());
    return route?.local?.candidateType === "relay";
  }
}

/**
 * How loud the remote microphone of a connection is now (0–1, linear, as RFC 6464 carries it in
 * each packet): read from its audio receiver's last packet, no statistics report. 0 when nothing
 * arrived for a second (a muted or silent sender).
 * @param {RTCPeerConnection} pc
 */
export function audioLevel(pc) {
  const receiver = pc.getReceivers().find((candidate) => candidate.track.kind === "audio");
  const latest = receiver?.getSynchronizationSources()[0];
  return latest && performance.timeOrigin + performance.now() - latest.timestamp < 1000 ? (latest.audioLevel ?? 0) : 0;
}
