// The visualizations a materializer made of an artifact (figures, images, tables, reports):
// images inline, HTML in a sandboxed frame (no scripts, an origin of its own), text as text.

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
  if (item.content_type.startsWith("text/html")) {
    // sandbox="": no scripts, no forms, no top navigation, a unique origin.
    const frame = h("iframe", { sandbox: "", title: item.name, class: "visual-frame", "data-testid": "visual-html" });
    frame.srcdoc = text;
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
