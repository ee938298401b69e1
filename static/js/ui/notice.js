/** One message at the top of the page, with optional buttons. */
export class Notice {
  #element;

  /** @param {HTMLElement} element */
  constructor(element) {
    this.#element = element;
  }

  /**
   * @param {string} text
   * @param {{kind?: "error" | "info", code?: string, subject?: string, actions?: Array<{label: string, run: () => void}>}} [options]
   *   `subject`: whom or what the notice is about (a peer id), for `hide`
   */
  show(text, { kind = "error", code = "", subject = "", actions = [] } = {}) {
    this.#element.className = `notice ${kind}`;
    this.#element.dataset.code = code;
    this.#element.dataset.subject = subject;
    /** @type {HTMLElement} */ (this.#element.querySelector(".notice-text")).textContent = text;
    const buttons = /** @type {HTMLElement} */ (this.#element.querySelector(".notice-actions"));
    buttons.replaceChildren(
      ...actions.map(({ label, run }) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.addEventListener("click", () => {
          this.hide();
          run();
        });
        return button;
      }),
    );
    this.#element.hidden = false;
  }

  /**
   * Hide the notice; with `code` (and `subject`), only if that is the notice shown.
   * @param {string} [code] @param {string} [subject]
   */
  hide(code, subject) {
    if (code !== undefined && this.#element.dataset.code !== code) return;
    if (subject !== undefined && this.#element.dataset.subject !== subject) return;
    this.#element.hidden = true;
    this.#element.dataset.code = "";
  }
}
