/** One message at the top of the page, with optional buttons. */
export class Notice {
  #element;

  /** @param {HTMLElement} element */
  constructor(element) {
    this.#element = element;
  }

  /**
   * @param {string} text
   * @param {{kind?: "error" | "info", code?: string, actions?: Array<{label: string, run: () => void}>}} [options]
   */
  show(text, { kind = "error", code = "", actions = [] } = {}) {
    this.#element.className = `notice ${kind}`;
    this.#element.dataset.code = code;
    this.#element.querySelector(".notice-text").textContent = text;
    const buttons = this.#element.querySelector(".notice-actions");
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

  /** Hide the notice; with `code`, only if that is the notice shown. @param {string} [code] */
  hide(code) {
    if (code !== undefined && this.#element.dataset.code !== code) return;
    this.#element.hidden = true;
    this.#element.dataset.code = "";
  }
}
