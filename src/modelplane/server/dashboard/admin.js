// For admins of the project in use: its members (add, change a role, remove), its API tokens (create
// with a role, see the secret once, revoke) and promotion webhooks (create, delete, their
// deliveries, send one again); for server admins (admins of default) also the server's users (their
// role, disable and enable). Everything goes through /api/v1.

import { ApiError, api, enc } from "./api.js";
import { badge, errorBox, h, section, table, when } from "./dom.js";
import { DEFAULT_PROJECT, currentProject } from "./project.js";

const ROLES = ["viewer", "editor", "admin"];
const STAGES = ["production", "staging", "archived"];

function tokensSection(ctx, tokens) {
  const owner = h("input", { placeholder: "owner (a person or a job)", required: true, "data-testid": "token-owner" });
  const role = h("select", { "data-testid": "token-role" }, ROLES.map((r) => h("option", { value: r, selected: r === "editor" }, r)));
  const shown = h("div", { "data-testid": "token-made" });
  const create = async (event) => {
    event.preventDefault();
    try {
      const made = await api("/tokens", { method: "POST", body: { owner: owner.value.trim(), role: role.value } });
      const secret = h("code", { "data-testid": "token-secret" }, made.secret);
      shown.replaceChildren(
        h("div", { class: "confirm" }, h("p", {}, `Token for ${made.token.owner} (${made.token.role}). Its secret is shown only now:`), h("p", {}, secret)),
      );
    } catch (error) {
      shown.replaceChildren(errorBox(error));
    }
  };
  const revoke = (token) => async () => {
    if (!window.confirm(`Revoke the ${token.role} token of ${token.owner}? Requests with it fail from now on.`)) return;
    try {
      await api(`/tokens/${enc(token.id)}`, { method: "DELETE" });
      ctx.rerender();
    } catch (error) {
      shown.replaceChildren(errorBox(error));
    }
  };
  const columns = [
    { label: "Owner", cell: (t) => t.owner },
    { label: "Role", cell: (t) => badge(t.role) },
    { label: "Created", cell: (t) => when(t.created) },
    { label: "Last used", cell: (t) => when(t.last_used) },
    { label: "Ends", cell: (t) => (t.expires ? `${when(t.expires)} (session)` : "") },
    { label: "", cell: (t) => (t.revoked ? h("span", { class: "muted" }, `revoked ${when(t.revoked)}`) : h("button", { type: "button", class: "link", onclick: revoke(t), "data-testid": "revoke" }, "Revoke")) },
  ];
  return section(
    "API tokens",
    h("form", { class: "toolbar", onsubmit: create, "data-testid": "token-form" }, owner, role, h("button", { type: "submit", class: "primary" }, "Create token")),
    shown,
    table(columns, tokens, { rowAttrs: (t) => ({ "data-testid": "token-row", "data-owner": t.owner, "data-revoked": t.revoked ? "yes" : "no" }), attrs: { "data-testid": "tokens-table" } }),
  );
}

function usersSection(ctx, users) {
  const message = h("div", { "data-testid": "users-message" });
  const act = (call) => async () => {
    try {
      await call();
      ctx.rerender();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const roleChoice = (u) => {
    const select = h("select", { "data-testid": "user-role", "aria-label": `Role of ${u.name}` }, ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    select.onchange = act(() => api(`/users/${enc(u.name)}/role`, { method: "PUT", body: { role: select.value } }));
    return select;
  };
  const toggle = (u) =>
    u.disabled
      ? h("button", { type: "button", class: "link", "data-testid": "user-enable", onclick: act(() => api(`/users/${enc(u.name)}/enable`, { method: "POST" })) }, "Enable")
      : h("button", { type: "button", class: "link", "data-testid": "user-disable", onclick: act(() => window.confirm(`Disable ${u.name}? Every token and session of theirs is revoked at once.`) && api(`/users/${enc(u.name)}/disable`, { method: "POST" })) }, "Disable");
  const columns = [
    { label: "Name", cell: (u) => u.name },
    { label: "Role", cell: roleChoice },
    { label: "From", cell: (u) => (u.role_from === "sso" ? "sign-in" : "admin") },
    { label: "Tokens", class: "num", cell: (u) => String(u.live_tokens) },
    { label: "Last sign-in", cell: (u) => when(u.last_sign_in) },
    { label: "Disabled", cell: (u) => (u.disabled ? when(u.disabled) : "") },
    { label: "", cell: toggle },
  ];
  return section(
    "Users",
    h("p", { class: "muted" }, "A user's role caps every token of theirs; disabling revokes them all at once."),
    message,
    table(columns, users, { empty: "No users yet.", rowAttrs: (u) => ({ "data-testid": "user-row", "data-name": u.name, "data-disabled": u.disabled ? "yes" : "no" }), attrs: { "data-testid": "users-table" } }),
  );
}

function webhooksSection(ctx, hooks, deliveries) {
  const url = h("input", { type: "url", placeholder: "https://… (receives a POST per stage change)", required: true, "data-testid": "webhook-url" });
  const model = h("input", { placeholder: "model (empty: every model)", "data-testid": "webhook-model" });
  const boxes = STAGES.map((s) => h("label", { class: "choice" }, h("input", { type: "checkbox", value: s }), ` ${s}`));
  const message = h("div");
  const create = async (event) => {
    event.preventDefault();
    const stages = boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => c.value);
    try {
      await api("/webhooks", { method: "POST", body: { url: url.value.trim(), model: model.value.trim() || null, stages } });
      ctx.rerender();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const act = (call) => async () => {
    try {
      await call();
      ctx.rerender();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const hookColumns = [
    { label: "URL", cell: (w) => h("code", {}, w.url) },
    { label: "Model", cell: (w) => w.model || "every model" },
    { label: "Stages", cell: (w) => (w.stages.length ? w.stages.join(", ") : "every stage") },
    { label: "Signed", cell: (w) => (w.has_secret ? "yes" : "no") },
    { label: "", cell: (w) => h("button", { type: "button", class: "link", "data-testid": "webhook-delete", onclick: act(() => window.confirm(`Delete the webhook to ${w.url} and its deliveries?`) && api(`/webhooks/${enc(w.id)}`, { method: "DELETE" })) }, "Delete") },
  ];
  const deliveryColumns = [
    { label: "When", cell: (d) => when(d.created) },
    { label: "URL", cell: (d) => h("code", {}, d.url) },
    { label: "Event", cell: (d) => d.event },
    { label: "Status", cell: (d) => badge(d.status, d.status === "failed" ? "status-failed" : d.status === "delivered" ? "status-completed" : "status-running") },
    { label: "Attempts", class: "num", cell: (d) => String(d.attempts) },
    { label: "Last answer", cell: (d) => d.last_error || (d.last_status_code ? `HTTP ${d.last_status_code}` : "") },
    { label: "", cell: (d) => (d.status === "pending" ? "" : h("button", { type: "button", class: "link", "data-testid": "redeliver", onclick: act(() => api(`/webhook-deliveries/${enc(d.id)}/redeliver`, { method: "POST" })) }, "Send again")) },
  ];
  return section(
    "Promotion webhooks",
    h("form", { class: "toolbar", onsubmit: create, "data-testid": "webhook-form" }, url, model, ...boxes, h("button", { type: "submit", class: "primary" }, "Add webhook")),
    message,
    table(hookColumns, hooks, { empty: "No webhooks.", rowAttrs: (w) => ({ "data-testid": "webhook-row", "data-url": w.url }), attrs: { "data-testid": "webhooks-table" } }),
    h("h3", {}, "Latest deliveries"),
    table(deliveryColumns, deliveries.items, { empty: "Nothing delivered yet.", rowAttrs: (d) => ({ "data-testid": "delivery-row", "data-status": d.status }), attrs: { "data-testid": "deliveries-table" } }),
  );
}

function membersSection(ctx, project, members) {
  const message = h("div", { "data-testid": "members-message" });
  const path = (user) => `/projects/${enc(project)}/members/${enc(user)}`;
  const act = (call) => async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    try {
      if ((await call()) === false) return;
      ctx.rerender();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };
  const user = h("input", { placeholder: "user (as they sign in)", required: true, "data-testid": "member-user" });
  const role = h("select", { "data-testid": "member-role" }, ROLES.map((r) => h("option", { value: r, selected: r === "viewer" }, r)));
  const roleChoice = (m) => {
    const select = h("select", { "data-testid": "member-role-of", "aria-label": `Role of ${m.user}` }, ROLES.map((r) => h("option", { value: r, selected: r === m.role }, r)));
    select.onchange = act(() => api(path(m.user), { method: "PUT", body: { role: select.value } }));
    return select;
  };
  const remove = (m) =>
    h("button", { type: "button", class: "link", "data-testid": "member-remove", onclick: act(() => window.confirm(`Take ${m.user}'s role in ${project} away? Their tokens bound to it are revoked.`) && api(path(m.user), { method: "DELETE" })) }, "Remove");
  const columns = [
    { label: "User", cell: (m) => m.user },
    { label: "Role", cell: roleChoice },
    { label: "From", cell: (m) => (m.role_from === "sso" ? "sign-in" : "admin") },
    { label: "Since", cell: (m) => when(m.created) },
    { label: "", cell: remove },
  ];
  return section(
    `Members of ${project}`,
    h("form", { class: "toolbar", onsubmit: act(() => api(path(user.value.trim()), { method: "PUT", body: { role: role.value } })), "data-testid": "member-form" }, user, role, h("button", { type: "submit", class: "primary" }, "Add member")),
    message,
    table(columns, members, { empty: "No members yet.", rowAttrs: (m) => ({ "data-testid": "member-row", "data-user": m.user, "data-role": m.role }), attrs: { "data-testid": "members-table" } }),
  );
}

/** The server's users, for server admins (an admin of another project only gets 403: no section). */
async function serverUsers() {
  try {
    return await api("/users");
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null;
    throw error;
  }
}

export async function adminPage(ctx) {
  const project = currentProject();
  const [users, members, tokens, hooks, deliveries] = await Promise.all([
    serverUsers(),
    api(`/projects/${enc(project)}/members`),
    api("/tokens"),
    api("/webhooks"),
    api("/webhook-deliveries", { query: { limit: 50 } }),
  ]);
  const parts = [h("h1", {}, project === DEFAULT_PROJECT ? "Admin" : `Admin of ${project}`)];
  if (project !== DEFAULT_PROJECT) parts.push(membersSection(ctx, project, members));
  if (users !== null) parts.push(usersSection(ctx, users));
  parts.push(tokensSection(ctx, tokens), webhooksSection(ctx, hooks, deliveries));
  return h("div", {}, ...parts);
}
