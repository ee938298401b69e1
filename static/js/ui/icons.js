/** The icon sprite tools/install_assets.py builds from lucide-static, served beside the other vendor files. */
const SPRITE = new URL("../../vendor/icons.svg", import.meta.url).href;
const SVG = "http://www.w3.org/2000/svg";

/**
 * A decorative icon (the control around it carries the words), as templates/icons.html draws it.
 * @param {string} name @param {string} [className]
 */
export function icon(name, className = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon ${className}`.trim());
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `${SPRITE}#${name}`);
  svg.append(use);
  return svg;
}
