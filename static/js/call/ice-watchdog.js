/**
 * @typedef {{url: string, problem: string}} RelayReport
 * @typedef {{
 *   iceServers: RTCIceServer[], state: () => RTCPeerConnectionState, restart: () => void, relayUnusable: (report: RelayReport) => void,
 * }} WatchdogOptions
 *   `state`: the link's connection state now ("closed" once closed); `restart`: restart ICE;
 *   `relayUnusable`: called once, see IceWatchdog
 */

const CONNECT_TIMEOUT_MS = 5000;
const STALLED_STATES = ["new", "disconnected"];
const isTurnUrl = (/** @type {string | undefined} */ url) => /^turns?:/.test(url ?? "");
const turnUrlsOf = (/** @type {RTCIceServer[]} */ servers) => servers.flatMap((server) => [server.urls].flat()).filter(isTurnUrl);

/**
 * Keeps one link trying to connect: ICE restarts at once when the connection
 * `failed`, and when it stays `new` or `disconnected` for CONNECT_TIMEOUT_MS, again
 * every CONNECT_TIMEOUT_MS while it does. Besides network trouble this revives
 * Chromium's ICE gathering, which can stall after an offer collision rolled back a
 * description mid-gathering. `connecting` is progress (slow on a busy machine) and
 * is left alone; it ends `connected` or `failed`.
 *
 * It also says why, when it can: at the first such check, if no TURN server gave us
 * a relay address, `relayUnusable({url, problem})` once: the server refused our
 * credentials (`problem` is its answer) or did not answer. The site's TURN settings
 * are wrong or its relay is down; with relay-only ICE nothing can connect then.
 *
 * The link tells it what happens (`stateChanged`, `candidateGathered`,
 * `candidateError`, `setIceServers`, `stop`); it never touches the connection itself.
 */
export class IceWatchdog {
  #timer = 0;
  #state;
  #restart;
  #relayUnusable;
  /** @type {string[]} */
  #turnUrls;
  #relayGathered = false;
  /** @type {{url: string, code: number, text: string} | null} the last TURN server error */
  #relayError = null;
  #relayReported = false;

  /** @param {WatchdogOptions} options; the connect timeout starts now */
  constructor({ iceServers, state, restart, relayUnusable }) {
    this.#state = state;
    this.#restart = restart;
    this.#relayUnusable = relayUnusable;
    this.#turnUrls = turnUrlsOf(iceServers);
    this.#arm();
  }

  /** The ICE servers of the next gathering. @param {RTCIceServer[]} iceServers */
  setIceServers(iceServers) {
    this.#turnUrls = turnUrlsOf(iceServers);
  }

  /** A local candidate was gathered. @param {{type: RTCIceCandidateType | null}} candidate */
  candidateGathered(candidate) {
    if (candidate.type === "relay") this.#relayGathered = true;
  }

  /** A STUN or TURN server answered with an error, or not at all. @param {{url: string, errorCode: number, errorText: string}} event */
  candidateError({ url, errorCode, errorText }) {
    if (isTurnUrl(url)) this.#relayError = { url, code: errorCode, text: errorText.replace(/\.$/, "") };
  }

  /** The connection's state changed to `state`. @param {RTCPeerConnectionState} state */
  stateChanged(state) {
    clearTimeout(this.#timer);
    if (state === "failed") this.#restart();
    else if (STALLED_STATES.includes(state)) this.#arm();
  }

  stop() {
    clearTimeout(this.#timer);
  }

  #arm() {
    this.#timer = setTimeout(() => this.#check(), CONNECT_TIMEOUT_MS);
  }

  /** Still `new` or `disconnected` after a while: restart ICE (and say once if no relay could be had). */
  #check() {
    if (!STALLED_STATES.includes(this.#state())) return;
    if (this.#turnUrls.length && !this.#relayGathered && !this.#relayReported) {
      this.#relayReported = true;
      const error = this.#relayError;
      const problem = error ? `answered “${error.code} ${error.text}”` : "did not answer";
      this.#relayUnusable({ url: error?.url ?? this.#turnUrls[0], problem });
    }
    this.#restart();
    this.#arm();
  }
}
