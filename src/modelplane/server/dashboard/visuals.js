// The visualizations a materializer made of an artifact (figures, images, tables, reports):
// images inline, HTML and rendered Markdown in a sandboxed frame (no scripts, an origin of its
// own), other text as text.

import { api, blob, enc } from "./api.js";
import { errorBox, h } from "./dom.js";

async function shown(av, item) {
  const path = `/artifact-versions/${enc(av.id)}/visualizations/${enc(item.name)}`;
  const data = await blob(path);
  if (item.content_type.startsWith("image/")) {
    const img = h("img", { alt: `${av.name} v${av.version}: ${item.name}`, "data-testid": "visual-image" });
    img.src = URL.createObjectURL(data);
    return img;
  }
  const text = await data.text();
  const markdown = item.content_type.startsWith("text/markdown") && typeof window.marked === "object";
  if (item.content_type.startsWith("text/html") || markdown) {
    // sandbox="": no scripts, no forms, no top navigation, a unique origin. Markdown is rendered
    // (by marked, vendored like the other libraries) into the same kind of frame: any HTML it
    // carries stays as inert as an HTML visualization.
    const frame = h("iframe", { sandbox: "", title: item.name, class: "visual-frame", "data-testid": markdown ? "visual-markdown" : "visual-html" });
    frame.srcdoc = markdown ? window.marked.parse(text) : text;
    return frame;
  }
  return h("pre", { class: "visual-text", "data-testid": "visual-text" }, text);
}

/** Every visualization of artifact version ``av``, or nothing when it has none. */
export async function visualsOf(av) {
  const { items } = await api(`/artifact-versions/${enc(av.id)}/visualizations`);
  if (!items.length) return null;
  const parts = await Promise.all(
    items.map(async (item) => {
      let body;
      try {
        body = await shown(av, item);
      } catch (error) {
        body = errorBox(error);
      }
      return h("figure", { class: "visual", "data-testid": "visual", "data-name": item.name }, body, h("figcaption", { class: "muted" }, item.name));
    }),
  );
  return h("div", { class: "visuals" }, ...parts);
}
