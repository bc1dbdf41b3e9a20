// The Kirimin demo: groups and group chat, direct messages, a feed with live likes,
// notifications and who is online, for one signed-in user. Plain DOM, no framework:
// `state` holds what the server told us, and small render functions redraw one region each.
// All talk with the server goes through kirimin.js, the reusable client.

import {Kirimin} from "./kirimin.js";

// window.KIRIMIN_OPTIONS, when a page sets it before this module runs, configures the client:
// {baseUrl} for an API on another origin, {backoff}, {heartbeat} (the e2e tests shorten it).
const client = new Kirimin({storage: sessionStorage, ...window.KIRIMIN_OPTIONS});
window.kirimin = client; // for the console

const TYPING_MS = 3500;
const REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🎉"];  // the server's default REACTION_EMOJI

const state = {
  me: null,
  view: {kind: "feed"},         // feed | notifications | group {id} | dm {id}
  groups: new Map(),            // my groups, id -> group
  discover: [],                 // public groups I am not in
  removed: new Map(),           // group id -> {name, text}: groups I was removed from while here
  chats: new Map(),             // "g7" / "u3" -> {items, ids, loaded, unread, typing}
  people: new Map(),            // user id -> user, everyone seen
  dms: new Set(),               // user ids in the sidebar's direct messages
  online: new Set(),            // user ids shown online (members of my groups, friends)
  friends: new Set(),
  blocked: new Set(),           // user ids I block: their messages folded, no DMs either way
  muted: new Set(),             // user ids I mute: no unread counts from them
  followedPosts: [],            // public posts whose likes this socket follows, oldest first
  members: new Map(),           // group id -> [{user, role, online}]
  posts: new Map(),
  feed: [],                     // post ids, newest first
  notifications: [],
  connected: false,
  creatingGroup: false,
  discoverOpen: false,
  asked: new Set(),             // user ids I sent a friend request to (this page)
  presenceChannel: null,        // the `presence:<group id>` followed, for the group in view
  discoverQuery: "",            // what the Discover search box holds
  discoverFound: [],            // what that search found
  announcements: [],            // shown now, newest first: everyone's and my groups', not dismissed
};

// --- small helpers ------------------------------------------------------------------------------------
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value" || key === "checked" || key === "disabled") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const $ = (selector, root = document) => root.querySelector(selector);
/** "1 member", "3 members". */
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
/** A group's line under its name: its description and how many members it has now. */
const groupSummary = (group) => [group.description, plural(group.members_count, "member")].filter(Boolean).join(" · ");
const name = (user) => user?.display_name || user?.username || "someone";
const chatKey = (view) => (view.kind === "group" ? `g${view.id}` : `u${view.id}`);
const isMe = (user) => user && state.me && user.id === state.me.id;

function clock(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function ago(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function avatar(user, size = "") {
  const hue = ((user?.id || 0) * 137) % 360;
  const el = h("span", {class: `avatar ${size}`, "aria-hidden": "true"}, name(user).slice(0, 1).toUpperCase());
  el.style.setProperty("--hue", hue);  // through CSSOM: the page's CSP refuses inline style attributes
  return el;
}

function toast(text, kind = "info") {
  const box = $("#toasts");
  const item = h("div", {class: `toast ${kind}`}, text);
  box.append(item);
  setTimeout(() => item.classList.add("leaving"), 4500);
  setTimeout(() => item.remove(), 5000);
}

function remember(user) {
  if (user?.id) state.people.set(user.id, {...state.people.get(user.id), ...user});
  return user;
}

/** What `promise` resolves to; its error is shown to the user (unless signed out) and thrown. */
async function shown(promise) {
  try {
    return await promise;
  } catch (error) {
    if (client.state !== "signedout") toast(error.message, "error");
    throw error;
  }
}

function api(method, path, body) {
  return shown(client.api(method, path, body));
}

// --- sign in ------------------------------------------------------------------------------------------------
function renderLogin(message = "") {
  let creating = false;
  const error = h("p", {class: "form-error", role: "alert"}, message);
  // One input per field, each with its own error line under it (named by aria-describedby).
  const field = (label, attrs, note = "") => {
    const input = h("input", {id: `field-${attrs.name}`, ...attrs});
    const noteEl = note ? h("small", {class: "field-note", id: `${attrs.name}-note`}, note) : null;
    const errorEl = h("small", {class: "field-error", id: `${attrs.name}-error`});
    input.setAttribute("aria-describedby", [noteEl && noteEl.id, errorEl.id].filter(Boolean).join(" "));
    const row = h("div", {class: "field"}, h("label", {for: input.id}, label), input, noteEl, errorEl);
    return {row, input, noteEl, errorEl};
  };
  const username = field("Username", {name: "username", autocomplete: "username", required: true, autofocus: true});
  const display = field("Display name", {name: "display_name", autocomplete: "nickname", placeholder: "How others see you"});
  const password = field("Password", {name: "password", type: "password", autocomplete: "current-password", required: true},
    "At least 8 characters, not only digits, not a common password and not like your username.");
  const fields = {username, display_name: display, password};
  display.row.hidden = true;
  password.noteEl.hidden = true;
  const clearErrors = () => {
    error.textContent = "";
    for (const f of Object.values(fields)) {
      f.errorEl.textContent = "";
      f.input.removeAttribute("aria-invalid");
    }
  };
  const submit = h("button", {class: "primary wide", type: "submit"}, "Sign in");
  const toggle = h("button", {class: "link", type: "button", onclick: () => {
    creating = !creating;
    clearErrors();  // the other form's error is not this one's
    display.row.hidden = !creating;
    password.noteEl.hidden = !creating;  // the rules, before a failure rather than after
    password.input.autocomplete = creating ? "new-password" : "current-password";
    submit.textContent = creating ? "Create account" : "Sign in";
    toggle.textContent = creating ? "I already have an account" : "Create an account";
    $(".login h2").textContent = creating ? "Create your account" : "Sign in";
  }}, "Create an account");
  const form = h("form", {class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    submit.disabled = true;
    clearErrors();
    try {
      if (creating) await client.register(data);
      else await client.login(data.username, data.password);
      start();
    } catch (failure) {
      // Each field's error under that field; the rest (wrong credentials, a throttle) above the button.
      const rest = [];
      for (const [name, messages] of Object.entries(failure.details || {})) {
        const text = [messages].flat().join(" ");
        if (fields[name]) {
          fields[name].errorEl.textContent = text;
          fields[name].input.setAttribute("aria-invalid", "true");
        } else {
          rest.push(text);
        }
      }
      const placed = Object.keys(failure.details || {}).some((name) => fields[name]);
      error.textContent = rest.join(" ") || (placed ? "" : failure.message);
      const first = Object.values(fields).find((f) => f.input.getAttribute("aria-invalid"));
      if (first) first.input.focus();
    } finally {
      submit.disabled = false;
    }
  }},
  h("h2", null, "Sign in"),
  username.row, display.row, password.row, error, submit, toggle);

  $("#app").replaceChildren(h("div", {class: "welcome"},
    h("div", {class: "pitch"},
      h("h1", {class: "brand big"}, "Kirimin"),
      h("p", {class: "lead"}, "A social backend with a live relay. This demo is its browser client."),
      h("ul", {class: "features"},
        h("li", null, "Group chat with typing indicators and join, leave and kick notices"),
        h("li", null, "Direct messages"),
        h("li", null, "A feed whose like counts move live"),
        h("li", null, "Notifications, and who is online")),
      h("p", {class: "hint"}, "Tip: open a second tab and sign in there as someone else ",
        "(each tab keeps its own session): what one of you does shows up at once for the other.")),
    form));
}

// --- the shell -----------------------------------------------------------------------------------------------
function renderShell() {
  $("#app").replaceChildren(
    h("header", {class: "topbar"},
      h("button", {class: "ghost drawer-toggle nav-toggle", "aria-label": "Menu", "aria-controls": "sidebar",
        "aria-expanded": "false", onclick: () => toggleDrawer("nav")}, "☰"),
      h("div", {class: "brand"}, "Kirimin"),
      h("div", {id: "status", class: "status", "data-state": "connecting", role: "status"}, "Connecting…"),
      h("div", {class: "me"}, avatar(state.me, "small"),
        h("span", {class: "me-name"}, name(state.me)), h("span", {class: "muted"}, `@${state.me.username}`),
        h("button", {class: "ghost drawer-toggle people-toggle", "aria-controls": "aside", "aria-expanded": "false",
          onclick: () => toggleDrawer("people")}, "People"),
        h("button", {class: "ghost", onclick: signOut}, "Sign out"))),
    h("div", {id: "announcements", class: "announcements"}),
    h("div", {class: "layout"},
      h("nav", {id: "sidebar", class: "sidebar", "aria-label": "Navigation"}),
      h("main", {id: "main", class: "main"}),
      h("aside", {id: "aside", class: "aside", "aria-label": "People"})));
  renderSidebar();
  renderMain();
  renderAside();
  renderAnnouncements();
}

// --- announcements: from the operators, above everything until dismissed ----------------------------------
async function loadAnnouncements() {
  const page = await client.api("GET", "/api/announcements/");
  state.announcements = page.results;
  renderAnnouncements();
}

function renderAnnouncements() {
  const box = $("#announcements");
  if (!box) return;
  box.replaceChildren(...state.announcements.map((item) =>
    h("div", {class: `announcement ${item.level}`, role: item.level === "critical" ? "alert" : "status",
      "data-id": item.id},
      h("span", {}, item.message),
      h("button", {class: "ghost", "aria-label": "Dismiss this announcement", onclick: () => dismissAnnouncement(item.id)},
        "Dismiss"))));
}

async function dismissAnnouncement(id) {
  state.announcements = state.announcements.filter((item) => item.id !== id);
  renderAnnouncements();
  await api("POST", `/api/announcements/${id}/dismiss/`).catch(() => {});
}

function renderStatus(event = {state: client.state}) {
  const el = $("#status");
  if (!el) return;
  clearInterval(renderStatus.timer);
  el.dataset.state = event.state;
  const labels = {idle: "Offline", connecting: "Connecting…", open: "Live", closed: "Offline", signedout: "Signed out",
    failed: "Offline: reload to try again"};
  if (event.state !== "reconnecting") {
    el.textContent = labels[event.state] || event.state;
    el.title = event.state === "open" ? "Connected: events arrive as they happen" : "";
    return;
  }
  const tick = () => {
    const left = Math.ceil(((event.at || 0) - Date.now()) / 1000);
    el.textContent = left > 0 ? `Reconnecting in ${left} s…` : "Reconnecting…";
  };
  el.title = "The connection dropped; what you miss meanwhile arrives when it is back";
  tick();
  renderStatus.timer = setInterval(tick, 500);
}

function navButton(label, view, badge = 0, extra = null, mentions = 0) {
  const active = state.view.kind === view.kind && state.view.id === view.id;
  const said = mentions ? `${badge} unread, ${mentions} mentioning you` : `${badge} unread`;
  return h("button", {class: `nav-item${active ? " active" : ""}`, "aria-current": active ? "page" : null,
    onclick: () => open(view)}, extra, h("span", {class: "nav-label"}, label),
  badge ? h("span", {class: `badge${mentions ? " mention" : ""}`, "aria-label": said}, mentions ? `@${badge}` : badge)
    : null);
}

function renderSidebar() {
  const bar = $("#sidebar");
  if (!bar) return;
  // Drawn anew on every change: someone typing in the Discover search keeps the box and the caret.
  const typing = document.activeElement?.classList.contains("discover-search") ? document.activeElement.selectionStart
    : null;
  const unreadNotes = state.notifications.filter((n) => !n.read).length;
  const groups = [...state.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  const dms = [...state.dms].map((id) => state.people.get(id)).filter(Boolean)
    .sort((a, b) => name(a).localeCompare(name(b)));
  bar.replaceChildren(...[
    navButton("Feed", {kind: "feed"}, 0, h("span", {class: "icon"}, "▤")),
    navButton("Notifications", {kind: "notifications"}, unreadNotes, h("span", {class: "icon"}, "⚑")),
    h("div", {class: "section-head"}, h("h3", null, "Groups"),
      h("button", {class: "ghost small", onclick: newGroup, title: "Create a group"},
        state.creatingGroup ? "Cancel" : "+ New")),
    state.creatingGroup ? newGroupForm() : null,
    h("ul", {class: "nav-list", "aria-label": "Your groups"},
      groups.length ? groups.map((g) => h("li", null, navButton(g.name, {kind: "group", id: g.id},
        state.chats.get(`g${g.id}`)?.unread, h("span", {class: "icon", title: g.is_private ? "private" : "public"}, g.is_private ? "◈" : "#"),
        state.chats.get(`g${g.id}`)?.mentions)))
        : h("li", {class: "empty"}, "No groups yet")),
    state.discover.length || state.discoverQuery ? discoverList() : null,
    h("div", {class: "section-head"}, h("h3", null, "Direct messages")),
    h("ul", {class: "nav-list", "aria-label": "Direct messages"},
      dms.length ? dms.map((u) => h("li", null, navButton(name(u), {kind: "dm", id: u.id},
        state.chats.get(`u${u.id}`)?.unread, presenceDot(u.id))))
        : h("li", {class: "empty"}, "Pick someone in a group to write to them")),
  ].filter(Boolean));
  const search = typing !== null && $(".discover-search");
  if (search) {
    search.focus();
    search.setSelectionRange(typing, typing);
  }
}

function presenceDot(userId) {
  const online = state.online.has(userId) || (state.me && userId === state.me.id && state.connected);
  return h("span", {class: `dot${online ? " online" : ""}`, title: online ? "online" : "offline"});
}

// --- navigation -----------------------------------------------------------------------------------------------
// On a narrow screen the navigation and the people panel are drawers over the chat, opened from
// the top bar; choosing where to go, or Escape, closes them.
function toggleDrawer(which) {
  setDrawer(document.body.dataset.drawer === which ? "" : which);
}

function setDrawer(which) {
  document.body.dataset.drawer = which;
  for (const [name, selector] of [["nav", ".nav-toggle"], ["people", ".people-toggle"]]) {
    $(selector)?.setAttribute("aria-expanded", String(which === name));
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.dataset.drawer) setDrawer("");
});

/** Presence of a large group's members (over the server's RELAY_PRESENCE_MAX_MEMBERS) is told only
 * to those who follow its `presence:<id>` channel: the group in view is followed, no other. */
function followPresenceOf(view, again = false) {
  const channel = view.kind === "group" ? `presence:${view.id}` : null;
  if (channel === state.presenceChannel && !again) return;
  if (state.presenceChannel) client.unsubscribe(state.presenceChannel);
  state.presenceChannel = channel;
  if (channel && state.groups.has(view.id)) client.subscribe(channel);
}

function open(view) {
  if (document.body.dataset.drawer) setDrawer("");
  followPresenceOf(view);
  state.view = view;
  if (view.kind === "group" || view.kind === "dm") {
    const chat = getChat(chatKey(view));
    chat.unread = 0;
    chat.mentions = 0;
    if (!chat.loaded) loadHistory(view);
    else markRead(chatKey(view));
    if (view.kind === "group") refreshMembers(view.id);
  }
  if (view.kind === "notifications") markNotificationsSeen();
  renderSidebar();
  renderMain();
  renderAside();
}

function renderMain() {
  const main = $("#main");
  if (!main || !state.me) return;  // signed out while a request was on its way
  const view = state.view;
  if (view.kind === "feed") {
    main.replaceChildren(feedView());
    renderFeedList();
  }
  else if (view.kind === "notifications") main.replaceChildren(notificationsView());
  else main.replaceChildren(chatView(view));
  if (view.kind === "group" || view.kind === "dm") {
    renderTimeline();
    $(".composer input")?.focus();
  }
}

// --- chats ------------------------------------------------------------------------------------------------------
function getChat(key) {
  if (!state.chats.has(key)) {
    state.chats.set(key, {items: [], ids: new Set(), loaded: false, unread: 0, mentions: 0, typing: new Map(),
      readUpTo: 0, peerRead: 0});
  }
  return state.chats.get(key);
}

function messageKey(frame) {
  if (frame.groupid !== undefined && frame.groupid !== null) return `g${frame.groupid}`;
  const other = frame.from.id === state.me?.id ? frame.to : frame.from.id;
  return `u${other}`;
}

/** Insert a message once, in id order; returns whether it was new. */
function addMessage(frame) {
  const key = messageKey(frame);
  const chat = getChat(key);
  if (chat.ids.has(frame.id)) return false;
  chat.ids.add(frame.id);
  remember(frame.from);
  const item = {kind: "message", ...frame};
  const later = chat.items.findIndex((i) => i.kind === "message" && i.id > frame.id);
  if (later === -1) chat.items.push(item);
  else chat.items.splice(later, 0, item);
  chat.typing.delete(frame.from.id);
  if (key.startsWith("u")) state.dms.add(Number(key.slice(1)));
  return true;
}

function addNotice(groupId, text) {
  getChat(`g${groupId}`).items.push({kind: "notice", text, at: new Date().toISOString()});
}

function viewing(key) {
  return (state.view.kind === "group" || state.view.kind === "dm") && chatKey(state.view) === key;
}

/** After a resync: every chat's history is read again when it is next opened (now for the open one). */
function reloadChats() {
  for (const chat of state.chats.values()) chat.loaded = false;
  if (state.view.kind === "group" || state.view.kind === "dm") loadHistory(state.view);
}

async function loadHistory(view) {
  const chat = getChat(chatKey(view));
  chat.loaded = true;
  const path = view.kind === "group" ? `/api/groups/${view.id}/messages/?limit=50`
    : `/api/messages/?with=${view.id}&limit=50`;
  try {
    const page = await api("GET", path);
    for (const message of page.results.reverse()) {
      addMessage(message);
      client.noteMessageId(message.id);
    }
  } catch {
    chat.loaded = false;
  }
  if (viewing(chatKey(view))) {
    renderTimeline();
    markRead(chatKey(view));
  }
}

/** Tell the server this chat is read up to its newest message: its unread count follows on
 * every device (the `unread` frame), and the other person of a DM sees it (`read`). */
function markRead(key) {
  const chat = getChat(key);
  const newest = chat.items.findLast((i) => i.kind === "message");
  if (!newest || newest.id <= chat.readUpTo) return;
  const before = chat.readUpTo;
  chat.readUpTo = newest.id;
  const target = key.startsWith("g") ? {groupid: Number(key.slice(1))} : {to: Number(key.slice(1))};
  // Over the socket while it is open, by REST otherwise; tried again on the next read if it fails.
  client.markRead(target, newest.id).catch(() => {
    chat.readUpTo = Math.min(chat.readUpTo, before);
  });
}

function keyOf(frame) {
  return frame.groupid !== undefined && frame.groupid !== null ? `g${frame.groupid}` : `u${frame.with}`;
}

/** The sidebar as the server knows it: every group and direct conversation, with what is unread. */
async function loadConversations() {
  const page = await shown(client.conversations({limit: 100}));
  for (const row of page.results) {
    const key = row.kind === "group" ? `g${row.group.id}` : `u${remember(row.user).id}`;
    if (row.kind === "direct") state.dms.add(row.user.id);
    const chat = getChat(key);
    chat.readUpTo = Math.max(chat.readUpTo, row.last_read_message_id || 0);
    if (viewing(key)) continue;
    chat.unread = row.unread_count;
    chat.mentions = row.mention_count;
  }
  renderSidebar();
}

function chatTitle(view) {
  if (view.kind === "group") {
    const group = state.groups.get(view.id) || state.removed.get(view.id);
    return group ? group.name : "Group";
  }
  return name(state.people.get(view.id));
}

function chatView(view) {
  const key = chatKey(view);
  const group = view.kind === "group" ? state.groups.get(view.id) : null;
  const removed = view.kind === "group" && !group ? state.removed.get(view.id) : null;
  const title = chatTitle(view);
  const head = h("header", {class: "view-head"},
    h("div", null,
      h("h2", null, view.kind === "group" ? h("span", {class: "hash"}, group?.is_private ? "◈ " : "# ") : presenceDot(view.id),
        title),
      h("p", {class: "muted", "data-summary": ""}, group ? groupSummary(group)
        : view.kind === "dm" ? "Direct message" : "")),
    group && group.my_role !== "owner"
      ? h("button", {class: "ghost", onclick: () => leaveGroup(group)}, "Leave group") : null);
  let input;
  let lastTyping = 0;
  const error = h("p", {class: "form-error", role: "alert"});
  const composer = h("form", {class: "composer", onsubmit: async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    error.textContent = "";
    const target = view.kind === "group" ? {groupid: view.id} : {to: view.id};
    try {
      await client.request("sendmessage", {...target, message: text});
    } catch (failure) {
      error.textContent = `Not sent: ${failure.message}`;
      input.value = input.value || text;
    }
  }},
  input = h("input", {name: "message", autocomplete: "off", maxlength: 4000,
    "aria-label": "Message", placeholder: `Message ${view.kind === "group" ? "#" : ""}${title}`,
    oninput: () => {
      if (Date.now() - lastTyping > 2000 && input.value.trim()) {
        lastTyping = Date.now();
        client.send("typing", view.kind === "group" ? {groupid: view.id} : {to: view.id});
      }
    }}),
  h("button", {class: "primary", type: "submit"}, "Send"));
  return h("section", {class: "chat", "data-chat": key},
    head,
    h("ol", {class: "timeline", "aria-label": "Messages", "aria-live": "polite"}),
    h("div", {class: "typing", "aria-live": "polite"}),
    removed ? h("div", {class: "banner warning", role: "alert"}, removed.text) : h("div", null, composer, error));
}

function renderTimeline() {
  const list = $(".timeline");
  if (!list) return;
  const chat = getChat(chatKey(state.view));
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  let previous = null;
  const rows = chat.items.map((item) => {
    if (item.kind === "notice") {
      previous = null;
      return h("li", {class: "notice"}, h("span", null, item.text), h("time", null, clock(item.at)));
    }
    const grouped = previous && previous.from.id === item.from.id;
    previous = item;
    return h("li", {class: `message${grouped ? " grouped" : ""}${isMe(item.from) ? " mine" : ""}`,
      "data-id": item.id},
    grouped ? h("span", {class: "avatar-space"}) : avatar(item.from),
    h("div", {class: "bubble"},
      grouped ? null : h("div", {class: "meta"}, h("b", {class: "author"}, name(item.from)),
        h("time", {datetime: item.created_at}, clock(item.created_at))),
      folded(item)
        ? h("p", {class: "text folded muted"}, "Message from someone you blocked. ",
          h("button", {class: "ghost small", onclick: () => {
            item.unfolded = true;
            renderTimeline();
          }}, "Show"))
        : h("p", {class: "text"}, item.message,
          item.edited_at ? h("span", {class: "edited muted", title: `Edited ${clock(item.edited_at)}`}, " (edited)") : null),
      messageActions(item)));
  });
  if (state.view.kind === "dm" && chat.peerRead) {
    // "Seen" under the newest of my messages that the other person has read.
    const mine = chat.items.filter((i) => i.kind === "message" && isMe(i.from) && i.id <= chat.peerRead).pop();
    const at = mine ? rows.findIndex((row) => row.dataset.id === String(mine.id)) : -1;
    if (at !== -1) rows.splice(at + 1, 0, h("li", {class: "seen", "aria-label": "Seen"}, "Seen"));
  }
  if (!rows.length) {
    rows.push(h("li", {class: "empty-chat"}, chat.loaded ? "No messages yet. Say hello!" : "Loading…"));
  }
  list.replaceChildren(...rows);
  if (atBottom || list.dataset.scrolled !== "1") {
    list.scrollTop = list.scrollHeight;
    list.dataset.scrolled = "1";
  }
  renderTyping();
}

/** A message from someone I block, not opened: shown folded. */
function folded(item) {
  return !item.unfolded && (item.from_blocked || state.blocked.has(item.from.id));
}

/** Reactions; Edit and Delete for my own messages; Delete too for the owner and admins of the group;
 * Report for others' messages. */
function messageActions(item) {
  const mine = isMe(item.from);
  const group = item.groupid ? state.groups.get(item.groupid) : null;
  const manages = group && (group.my_role === "owner" || group.my_role === "admin");
  return h("span", {class: "message-actions"}, reactionBar({messageid: item.id}, item, renderTimeline),
    mine ? h("button", {class: "ghost small", title: "Edit this message", onclick: () => {
      const text = window.prompt("Edit your message", item.message);
      if (text !== null && text.trim() && text.trim() !== item.message) {
        shown(client.editMessage(item.id, text.trim())).catch(() => {});
      }
    }}, "Edit") : null,
    mine || manages ? h("button", {class: "ghost small", title: "Delete this message", onclick: () => {
      if (window.confirm("Delete this message for everyone?")) shown(client.deleteMessage(item.id)).catch(() => {});
    }}, "Delete") : null,
    mine ? null : reportButton(`message:${item.id}`, "message"));
}

/** Report a message, a post or a person to the moderators, with a reason asked for. */
function reportButton(target, what) {
  return h("button", {class: "ghost small", title: `Report this ${what} to the moderators`, onclick: () => {
    const reason = window.prompt(`Why are you reporting this ${what}?`);
    if (reason === null || !reason.trim()) return;
    shown(client.report(target, reason.trim().slice(0, 1000)))
      .then(() => toast("Reported. Thank you: a moderator will look at it."))
      .catch(() => {});
  }}, "Report");
}

function renderTyping() {
  const box = $(".typing");
  if (!box) return;
  const chat = getChat(chatKey(state.view));
  const now = Date.now();
  const names = [...chat.typing.values()].filter((t) => t.until > now).map((t) => name(t.user));
  box.textContent = names.length === 0 ? ""
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(" and ")} are typing…`;
}

// --- groups ---------------------------------------------------------------------------------------------------
async function loadGroups() {
  const [mine, all] = await Promise.all([
    api("GET", "/api/groups/?mine=1&limit=100"), api("GET", "/api/groups/?limit=50")]);
  const before = state.groups;
  state.groups = new Map(mine.results.map((g) => [g.id, g]));
  for (const id of state.groups.keys()) state.removed.delete(id);
  state.discover = all.results.filter((g) => !g.my_role && !g.is_private);
  renderSidebar();
  renderFeedList();
  const view = state.view;
  if (view.kind === "group" && !state.groups.has(view.id) && !state.removed.has(view.id)) {
    // Gone while we were not looking (e.g. removed while the connection was down).
    const group = before.get(view.id);
    state.removed.set(view.id, {name: group?.name, text: `You are no longer a member of ${group?.name || "this group"}.`});
    renderMain();
    renderAside();
  }
}

/** Public groups I am not in: the newest ones (kept live by `groupcreate`), or what a search found. */
function discoverList() {
  const shown = state.discoverQuery ? state.discoverFound : state.discover;
  const search = h("input", {type: "search", class: "discover-search", "aria-label": "Search public groups",
    placeholder: "Search public groups", value: state.discoverQuery,
    oninput: (event) => searchGroups(event.currentTarget.value)});
  return h("details", {class: "discover", open: state.discoverOpen,
    ontoggle: (event) => { state.discoverOpen = event.currentTarget.open; }},
  h("summary", null, `Discover ${plural(state.discover.length, "public group")}`),
  search,
  h("ul", {"aria-label": "Public groups"}, shown.length ? shown.map((g) => h("li", null,
    h("span", null, `# ${g.name}`), h("span", {class: "muted"}, plural(g.members_count, "member")),
    h("button", {class: "small", onclick: () => joinGroup(g)}, "Join")))
    : h("li", {class: "empty"}, "No public group by that name")));  // only a search finds none
}

/** Ask the API (`?q=`) as the user types; the newest answer wins, and the box keeps its focus. */
async function searchGroups(query) {
  state.discoverQuery = query;
  const asked = (searchGroups.asked = (searchGroups.asked || 0) + 1);
  let found = [];
  if (query.trim()) {
    try {
      found = (await api("GET", `/api/groups/?q=${encodeURIComponent(query.trim())}&limit=50`)).results
        .filter((g) => !g.my_role && !g.is_private);
    } catch {
      return;
    }
  }
  if (asked !== searchGroups.asked) return;
  state.discoverFound = found;
  renderSidebar();
}

function newGroup() {
  state.creatingGroup = !state.creatingGroup;
  renderSidebar();
  $(".new-group input")?.focus();
}

// One form for the session: the sidebar redraws often (live events), and a new form
// each time would wipe what is being typed.
let groupForm = null;
function newGroupForm() {
  groupForm ??= buildNewGroupForm();
  return groupForm;
}

function buildNewGroupForm() {
  const input = h("input", {name: "name", required: true, maxlength: 100, placeholder: "Group name",
    "aria-label": "Group name"});
  const secret = h("input", {type: "checkbox", name: "private"});
  const form = h("form", {class: "new-group", onsubmit: async (event) => {
    event.preventDefault();
    const group = await api("POST", "/api/groups/", {name: input.value.trim(), is_private: secret.checked});
    form.reset();
    state.creatingGroup = false;
    state.groups.set(group.id, group);
    open({kind: "group", id: group.id});
  }}, input, h("label", {class: "check"}, secret, " private"), h("button", {class: "small primary"}, "Create"));
  return form;
}

async function joinGroup(group) {
  try {
    await api("POST", `/api/groups/${group.id}/join/`);
  } catch (error) {
    if (error.status !== 403 && error.status !== 404) throw error;
    // Made private or deleted since Discover listed it (no event says so to outsiders).
    state.discover = state.discover.filter((g) => g.id !== group.id);
    state.discoverFound = state.discoverFound.filter((g) => g.id !== group.id);
    renderSidebar();
    toast(`${group.name} is no longer open to join.`, "warning");
    return;
  }
  await loadGroups();
  open({kind: "group", id: group.id});
}

async function leaveGroup(group) {
  await api("POST", `/api/groups/${group.id}/leave/`);
}

async function kick(groupId, user, button) {
  if (button.dataset.armed !== "1") {  // a second click confirms
    button.dataset.armed = "1";
    button.textContent = `Remove ${name(user)}?`;
    setTimeout(() => {
      button.dataset.armed = "";
      button.textContent = "Remove";
    }, 4000);
    return;
  }
  button.disabled = true;
  try {
    await client.request("kick", {groupid: groupId, userid: user.id});
  } catch (failure) {
    toast(failure.message, "error");
    button.disabled = false;
  }
}

async function refreshMembers(groupId) {
  if (!state.groups.has(groupId)) return;
  try {
    const page = await client.api("GET", `/api/groups/${groupId}/members/?limit=100`);
    state.members.set(groupId, page.results);
    for (const member of page.results) {
      remember(member.user);
      if (member.online) state.online.add(member.user.id);
      else state.online.delete(member.user.id);
    }
  } catch {
    return;  // removed meanwhile: the kick event tells the rest
  }
  renderAside();
  renderSidebar();
}

async function loadBlocksAndMutes() {
  const [blocks, mutes] = await Promise.all([client.api("GET", "/api/blocks/?limit=100"),
    client.api("GET", "/api/mutes/?limit=100")]);
  state.blocked = new Set(blocks.results.map((b) => b.user.id));
  state.muted = new Set(mutes.results.map((m) => m.user.id));
  renderAside();
  if (state.view.kind === "group" || state.view.kind === "dm") renderTimeline();
}

async function refreshPresence() {
  if (!state.connected) return;
  try {
    const friends = await client.api("GET", "/api/friends/?limit=100");
    state.friends = new Set(friends.results.map((f) => f.user.id));
    for (const friend of friends.results) {
      remember(friend.user);
      state.dms.add(friend.user.id);
      if (friend.online) state.online.add(friend.user.id);
      else state.online.delete(friend.user.id);
    }
  } catch {
    // shown as it was
  }
  await Promise.all([...state.groups.keys()].slice(0, 10).map(refreshMembers));
  renderSidebar();
  renderAside();
}

// --- the aside: members and who is online ------------------------------------------------------------------
function personRow(user, extra = []) {
  return h("li", {class: "person", "data-user": user.id},
    h("span", {class: "who"}, avatar(user, "small"), presenceDot(user.id),
      h("span", {class: "person-name"}, name(user)), isMe(user) ? h("span", {class: "muted"}, "(you)") : null),
    h("span", {class: "person-actions"}, extra));
}

/** Owners and admins add someone they know (a friend, someone of their other groups or direct
 * messages) to the group: the way into a private group. */
function addMemberForm(group, members) {
  const inGroup = new Set(members.map((m) => m.user.id));
  const candidates = [...new Set([...state.friends, ...state.dms, ...[...state.members.values()].flat().map((m) => m.user.id)])]
    .filter((id) => !inGroup.has(id) && id !== state.me.id && !state.blocked.has(id))
    .map((id) => state.people.get(id)).filter(Boolean).sort((a, b) => name(a).localeCompare(name(b)));
  if (!candidates.length) return null;
  const select = h("select", {id: "add-member", name: "user_id"},
    candidates.map((u) => h("option", {value: u.id}, `${name(u)} (@${u.username})`)));
  const form = h("form", {class: "add-member", onsubmit: async (event) => {
    event.preventDefault();
    const user = state.people.get(Number(select.value));
    try {
      await shown(api("POST", `/api/groups/${group.id}/members/`, {user_id: Number(select.value)}));
      toast(`${name(user)} was added to ${group.name}`);
    } catch {
      // shown
    }
  }}, h("label", {for: "add-member"}, "Add someone"), select, h("button", {class: "small", type: "submit"}, "Add"));
  return form;
}

function renderAside() {
  const aside = $("#aside");
  if (!aside || !state.me) return;  // signed out while a request was on its way
  const view = state.view;
  if (view.kind === "group" && state.groups.has(view.id)) {
    const group = state.groups.get(view.id);
    const members = state.members.get(view.id) || [];
    const canKick = group.my_role === "owner" || group.my_role === "admin";
    const online = members.filter((m) => state.online.has(m.user.id) || isMe(m.user)).length;
    aside.replaceChildren(
      h("h3", null, "Members ", h("span", {class: "muted"}, `${online} of ${members.length} online`)),
      h("ul", {class: "people", "aria-label": "Members"}, members.map((m) => personRow(m.user, [
        m.role !== "member" ? h("span", {class: `role ${m.role}`}, m.role) : null,
        isMe(m.user) ? null : h("button", {class: "ghost small", title: `Message ${name(m.user)}`,
          onclick: () => {
            state.dms.add(m.user.id);
            open({kind: "dm", id: m.user.id});
          }}, "Message"),
        canKick && !isMe(m.user) && m.role !== "owner"
          ? h("button", {class: "danger small", onclick: (e) => kick(view.id, m.user, e.currentTarget)}, "Remove")
          : null]))),
      canKick ? addMemberForm(group, members) : null);
    return;
  }
  // Friends, members of the groups read so far, and the people of the sidebar's direct messages,
  // so that whoever the sidebar shows online is here too.
  const known = new Set([...state.friends, ...state.dms,
    ...[...state.members.values()].flat().map((m) => m.user.id)]);
  known.delete(state.me.id);
  const people = [...known].map((id) => state.people.get(id)).filter(Boolean)
    .sort((a, b) => Number(state.online.has(b.id)) - Number(state.online.has(a.id)) || name(a).localeCompare(name(b)));
  const onlineCount = people.filter((u) => state.online.has(u.id)).length;
  aside.replaceChildren(
    h("h3", null, "Who is online ", h("span", {class: "muted"}, `${onlineCount} of ${people.length}`)),
    people.length ? h("ul", {class: "people", "aria-label": "People"}, people.map((u) => personRow(u, [
      h("button", {class: "ghost small", onclick: () => {
        state.dms.add(u.id);
        open({kind: "dm", id: u.id});
      }}, "Message"),
      state.friends.has(u.id)
        ? h("button", {class: "ghost small", title: `Unfriend ${name(u)}`,
          onclick: () => shown(client.unfriend(u.id)).catch(() => {})}, "Unfriend")
        : state.asked.has(u.id) ? h("button", {class: "ghost small", disabled: true}, "Asked")
          : h("button", {class: "ghost small", title: `Ask ${name(u)} to be friends`,
            onclick: () => shown(api("POST", "/api/friends/requests/", {to: u.id})).then(() => {
              state.asked.add(u.id);
              toast(`Friend request sent to ${name(u)}`);
              renderAside();
            }).catch(() => {})}, "Add friend"),
      h("button", {class: "ghost small", title: state.muted.has(u.id) ? `Unmute ${name(u)}`
        : `Mute ${name(u)}: no unread counts or notifications from them`,
      onclick: () => shown(state.muted.has(u.id) ? client.unmute(u.id) : client.mute(u.id)).catch(() => {})},
      state.muted.has(u.id) ? "Unmute" : "Mute"),
      h("button", {class: "ghost small", title: state.blocked.has(u.id) ? `Unblock ${name(u)}`
        : `Block ${name(u)}: no messages or requests either way; they are not told`,
      onclick: () => {
        if (state.blocked.has(u.id)) shown(client.unblock(u.id)).catch(() => {});
        else if (window.confirm(`Block ${name(u)}? They will not be told.`)) shown(client.block(u.id)).catch(() => {});
      }}, state.blocked.has(u.id) ? "Unblock" : "Block"),
      reportButton(`user:${u.id}`, "person")])))
      : h("p", {class: "muted"}, "People from your groups and your friends show up here."));
}

// --- the feed -------------------------------------------------------------------------------------------------
/** Live likes of a public post (the author and group members get them anyway): the newest
 * FOLLOWED_POSTS posts only, since a socket may follow RELAY_MAX_SUBSCRIPTIONS channels at most. */
const FOLLOWED_POSTS = 60;

function followLikes(postId) {
  const followed = state.followedPosts;
  if (followed.includes(postId)) return;
  followed.push(postId);
  client.subscribe(`post:${postId}`);
  while (followed.length > FOLLOWED_POSTS) client.unsubscribe(`post:${followed.shift()}`);  // the oldest
}

async function loadFeed() {
  const page = await api("GET", "/api/posts/?limit=30");
  for (const post of [...page.results].reverse()) {  // oldest first: the newest are followed last
    remember(post.author);
    state.posts.set(post.id, post);
    // Likes of public posts reach those who subscribe; the author and group members get them anyway.
    if (post.group_id === null && !isMe(post.author)) followLikes(post.id);
  }
  state.feed = page.results.map((p) => p.id);
  renderFeedList();
}

function feedView() {
  const text = h("textarea", {name: "content", rows: 2, maxlength: 10000, required: true,
    placeholder: `What's new, ${name(state.me)}?`, "aria-label": "New post"});
  const where = h("select", {name: "group", "aria-label": "Audience"});
  const form = h("form", {class: "card post-composer", onsubmit: async (event) => {
    event.preventDefault();
    const content = text.value.trim();
    if (!content) return;
    const post = await api("POST", "/api/posts/", {content, group_id: where.value ? Number(where.value) : null});
    text.value = "";
    state.posts.set(post.id, post);
    if (!state.feed.includes(post.id)) state.feed.unshift(post.id);  // its `postcreate` may have come first
    renderFeedList();
  }}, text, h("div", {class: "row"}, where, h("button", {class: "primary", type: "submit"}, "Post")));
  return h("section", {class: "feed"},
    h("header", {class: "view-head"}, h("div", null, h("h2", null, "Feed"),
      h("p", {class: "muted"}, "Public posts and posts of your groups. New posts and likes show up live.")),
    h("button", {class: "ghost", onclick: loadFeed}, "Refresh")),
    form,
    h("ul", {class: "posts", "aria-label": "Posts"}));
}

/** The posts and the audience choices; the composer keeps what is being typed. */
function renderFeedList() {
  const list = $(".posts");
  if (!list) return;
  const where = $(".post-composer select");
  const chosen = where.value;
  where.replaceChildren(h("option", {value: ""}, "Everyone"),
    ...[...state.groups.values()].map((g) => h("option", {value: g.id}, `# ${g.name}`)));
  where.value = state.groups.has(Number(chosen)) ? chosen : "";
  const posts = state.feed.map((id) => state.posts.get(id)).filter(Boolean);
  list.replaceChildren(...(posts.length ? posts.map(postCard)
    : [h("li", {class: "empty"}, "Nothing here yet: write the first post.")]));
}

function postCard(post) {
  const group = post.group_id ? state.groups.get(post.group_id) : null;
  return h("li", {class: "card post", "data-post": post.id},
    h("header", null, avatar(post.author),
      h("div", null, h("b", {class: "author"}, name(post.author)),
        h("div", {class: "muted"}, ago(post.created_at),
          post.group_id ? ` · in # ${group ? group.name : "a group"}` : " · public"))),
    h("p", {class: "content"}, post.content),
    h("footer", null, likeButton(post), reactionBar({postid: post.id}, post, () => renderPost(post.id)),
      isMe(post.author) ? null : reportButton(`post:${post.id}`, "post")));
}

/** The reactions on a message or a post (`item.reactions`: count per emoji), each a toggle, and a
 * picker to add one. `target`: {messageid} or {postid}. */
function reactionBar(target, item, redraw) {
  const mine = new Set(item.my_reactions || []);
  const toggle = (emoji) => shown(client.react(target, emoji, !mine.has(emoji))).then((result) => {
    item.reactions = result.counts;
    item.my_reactions = result.on ? [...new Set([...mine, emoji])] : [...mine].filter((e) => e !== emoji);
    redraw();
  }).catch(() => {});
  const chips = Object.entries(item.reactions || {}).map(([emoji, count]) =>
    h("button", {class: `ghost small reaction${mine.has(emoji) ? " mine" : ""}`, "aria-pressed": String(mine.has(emoji)),
      "aria-label": `${emoji} ${count}`, onclick: () => toggle(emoji)}, `${emoji} ${count}`));
  // Which picker is open is kept across redraws: a message or a receipt arriving while someone
  // chooses must not close it under their pointer.
  const key = JSON.stringify(target);
  const picker = h("details", {class: "react-picker", open: reactionBar.open === key,
    ontoggle: (event) => {
      if (event.currentTarget.open) reactionBar.open = key;
      else if (reactionBar.open === key) reactionBar.open = null;
    }}, h("summary", {"aria-label": "React"}, "☺+"),
    ...REACTIONS.map((emoji) => h("button", {class: "ghost small", "aria-label": `React ${emoji}`,
      onclick: (event) => {
        reactionBar.open = null;
        event.currentTarget.closest("details").open = false;
        toggle(emoji);
      }}, emoji)));
  return h("span", {class: "reactions"}, ...chips, picker);
}

function likeButton(post) {
  const count = `${post.likes_count} ${post.likes_count === 1 ? "like" : "likes"}`;
  return h("button", {class: `like${post.liked_by_me ? " liked" : ""}`, "aria-pressed": String(post.liked_by_me),
    "aria-label": `${post.liked_by_me ? "Unlike" : "Like"} (${count})`, onclick: () => like(post)},
  h("span", {class: "heart"}, post.liked_by_me ? "♥" : "♡"), " ",
  h("span", {class: "like-count"}, post.likes_count), " ",
  h("span", {class: "like-word"}, post.likes_count === 1 ? "like" : "likes"));
}

function renderPost(id) {
  const card = document.querySelector(`[data-post="${id}"]`);
  const post = state.posts.get(id);
  if (card && post) card.replaceWith(postCard(post));
}

async function like(post) {
  try {
    const ack = await client.request("postlike", {postid: post.id, liked: !post.liked_by_me});
    Object.assign(post, {liked_by_me: ack.liked, likes_count: ack.likes_count});
    renderPost(post.id);
  } catch (failure) {
    toast(failure.message, "error");
  }
}

// --- notifications ------------------------------------------------------------------------------------------
async function loadNotifications() {
  const page = await api("GET", "/api/notifications/?limit=50");
  state.notifications = page.results;
  renderSidebar();
  if (state.view.kind === "notifications") renderMain();
}

async function markNotificationsSeen() {
  if (!state.notifications.some((n) => !n.read)) return;
  try {
    await client.api("POST", "/api/notifications/read/", {all: true});
  } catch {
    return;
  }
  // Shown as new on this visit, counted as read from now on.
  for (const note of state.notifications) note.seen = note.seen ?? !note.read;
  for (const note of state.notifications) note.read = true;
  renderSidebar();
}

function notificationsView() {
  const icons = {like: "♥", kick: "⊘", friendrequest: "☺", friendaccept: "✓"};
  return h("section", {class: "notifications"},
    h("header", {class: "view-head"}, h("div", null, h("h2", null, "Notifications"),
      h("p", {class: "muted"}, "Likes of your posts, friend requests, and removals from groups."))),
    h("ul", {class: "notes", "aria-label": "Notifications"},
      state.notifications.length ? state.notifications.map((note) => h("li",
        {class: `card note${note.seen === false || (!note.read && note.seen === undefined) ? " unread" : ""}`},
        h("span", {class: "note-icon"}, icons[note.kind] || "•"),
        h("div", null, h("p", null, note.message), h("span", {class: "muted"}, ago(note.created_at))),
        note.kind === "friendrequest" && note.data?.requestid ? h("span", {class: "person-actions"},
          h("button", {class: "small primary", onclick: () => answerFriend(note, true)}, "Accept"),
          h("button", {class: "small ghost", onclick: () => answerFriend(note, false)}, "Decline")) : null))
        : h("li", {class: "empty"}, "You are all caught up.")));
}

async function answerFriend(note, accept) {
  await api("POST", `/api/friends/requests/${note.data.requestid}/${accept ? "accept" : "decline"}/`);
  note.data = {...note.data, requestid: null};
  toast(accept ? "Friend request accepted" : "Friend request declined");
  renderMain();
  refreshPresence();
}

// --- live events ------------------------------------------------------------------------------------------------
client.on("state", (event) => {
  state.connected = event.state === "open";
  renderStatus(event);
});

client.on("connection", () => {
  // Load after the socket is live, so nothing falls between what we read and the live stream.
  // After a reconnect that resumed the stream, the relay replays every event missed (messages,
  // notifications, joins, likes...), each once: what counts as unread comes from those frames
  // alone, so notifications are not read again (they would count twice). Groups and the feed
  // are read again: they count nothing, and some of their changes are not events (a new post,
  // a renamed or deleted group, likes of public posts we only subscribe to).
  client.subscribe("feed");  // new public posts (kept across reconnects by the client)
  client.subscribe("groups");  // new public groups, for Discover
  // The socket answers frames in order: once this ping is answered, both subscriptions are live,
  // so what the feed and Discover read after it misses nothing posted or created meanwhile.
  const following = client.request("ping").catch(() => {});
  const loads = [following.then(loadGroups), following.then(loadFeed), loadBlocksAndMutes()];
  // Unread counts: the server's on a fresh start (they survive a reload and agree across
  // devices); after a resume, the replayed frames bring them up to date instead.
  if (!client.resumed) loads.push(loadNotifications(), loadConversations());
  loads.push(loadAnnouncements());
  Promise.allSettled(loads).then(refreshPresence);
});

client.on("announcement", (item) => {
  state.announcements = [item, ...state.announcements.filter((a) => a.id !== item.id)];
  renderAnnouncements();
});

client.on("resync", () => {
  // The stream could not replay what we missed (we were away longer than the server keeps
  // events): read everything again through REST, and go on live from here.
  toast("You were away for a while: everything was reloaded.");
  reloadChats();
  Promise.allSettled([loadGroups(), loadNotifications(), loadFeed(), loadConversations()]).then(refreshPresence);
});

// I blocked or muted someone (on any device).
client.on("block", ({user, blocked, friendship_ended: ended}) => {
  if (blocked) {
    state.blocked.add(user.id);
    state.online.delete(user.id);  // their presence is not told any more
  } else {
    state.blocked.delete(user.id);
  }
  if (ended) state.friends.delete(user.id);
  renderAside();
  if (state.view.kind === "group" || state.view.kind === "dm") renderTimeline();
});

client.on("mute", ({user, muted}) => {
  if (muted) state.muted.add(user.id);
  else state.muted.delete(user.id);
  renderAside();
});

// A friendship ended (by either of us, on any device).
client.on("unfriend", ({by, user}) => {
  state.friends.delete(isMe(by) ? user.id : by.id);
  renderAside();
});

// Presence: read once through REST when the socket opens (friends, members), then kept by the
// server's `presence` frames (friends and co-members of groups up to 100 members; of a larger group in
// view, through its `presence:<id>` channel).
client.on("presence", ({user, online}) => {
  remember(user);
  if (online) state.online.add(user.id);
  else state.online.delete(user.id);
  renderSidebar();
  renderAside();
});

client.on("sendmessage", (frame) => {
  const key = messageKey(frame);
  if (frame.groupid && !state.groups.has(frame.groupid)) loadGroups();
  if (!addMessage(frame)) return;
  // The client emits each message once (a replay brings only what it had not emitted), and
  // addMessage drops one we already have from the history. A message of our own (from this tab
  // or another device) means we have read the chat up to there.
  const chat = getChat(key);
  if (viewing(key) && document.visibilityState !== "hidden") {
    renderTimeline();
    markRead(key);
  } else if (isMe(frame.from)) {
    chat.unread = 0;
    chat.mentions = 0;
  } else {
    if (!frame.from_blocked && !frame.muted) {  // nothing of theirs counts (as on the server)
      chat.unread += 1;
      if (frame.mentions?.includes(state.me?.id)) chat.mentions += 1;
    }
    if (viewing(key)) renderTimeline();
  }
  renderSidebar();
});

// Read on another device (or tab): what is left unread there is left unread here.
client.on("unread", (frame) => {
  const chat = getChat(keyOf(frame));
  chat.unread = frame.unread_count;
  chat.mentions = frame.mention_count;
  renderSidebar();
});

// A read receipt: in a DM, the other person has read up to `message_id` ("Seen").
client.on("read", (frame) => {
  if (isMe(frame.user) || frame.with === undefined) return;
  const chat = getChat(`u${frame.with}`);
  chat.peerRead = Math.max(chat.peerRead, frame.message_id);
  if (viewing(`u${frame.with}`)) renderTimeline();
});

client.on("typing", (frame) => {
  const key = frame.groupid ? `g${frame.groupid}` : `u${frame.from.id}`;
  getChat(key).typing.set(frame.from.id, {user: remember(frame.from), until: Date.now() + TYPING_MS});
  if (viewing(key)) {
    renderTyping();
    setTimeout(renderTyping, TYPING_MS + 50);
  }
});

client.on("join", ({groupid, user}) => {
  remember(user);
  if (isMe(user) && !state.groups.has(groupid)) {
    // Added (back) while looking at the group: follow its presence once it is listed as ours.
    loadGroups().then(() => { if (viewing(`g${groupid}`)) followPresenceOf(state.view, true); });
  }
  addNotice(groupid, isMe(user) ? "You joined the group" : `${name(user)} joined the group`);
  membershipChanged(groupid);
});

/** I am out of the group: the server ended my `presence:<id>` subscription; forget it here too. */
function leftPresenceOf(groupId) {
  if (state.presenceChannel === `presence:${groupId}`) client.unsubscribe(state.presenceChannel);
}

client.on("leave", ({groupid, user}) => {
  if (isMe(user)) {
    leftPresenceOf(groupid);
    const group = state.groups.get(groupid);
    state.groups.delete(groupid);
    toast(`You left ${group ? group.name : "the group"}`);
    if (state.view.kind === "group" && state.view.id === groupid) open({kind: "feed"});
    loadGroups();
    return;
  }
  addNotice(groupid, `${name(user)} left the group`);
  membershipChanged(groupid);
});

client.on("kick", (frame) => {
  const {groupid, user, by, ban} = frame;
  const verb = ban ? "removed and banned" : "removed";
  if (isMe(user)) {
    leftPresenceOf(groupid);
    const group = state.groups.get(groupid) || {name: "a group"};
    const text = `You were ${verb} from ${group.name} by ${name(by)}.`;
    state.groups.delete(groupid);
    state.members.delete(groupid);
    state.removed.set(groupid, {name: group.name, text});
    renderSidebar();
    // Said once: by the chat's banner when it is open, else by a toast (the notification that
    // comes with it only counts in the badge).
    if (state.view.kind === "group" && state.view.id === groupid) {
      renderMain();
      renderAside();
    } else if (!(client.resumed && frame.seq <= client.connection?.seq)) {
      toast(text, "warning");
    }
    return;
  }
  addNotice(groupid, `${isMe(by) ? "You" : name(by)} ${verb} ${name(user)}`);
  membershipChanged(groupid);
});

function membershipChanged(groupId) {
  if (viewing(`g${groupId}`)) renderTimeline();
  refreshMembers(groupId);
  const group = state.groups.get(groupId);
  if (group) api("GET", `/api/groups/${groupId}/`).then((fresh) => {
    state.groups.set(groupId, fresh);
    const summary = $(".view-head [data-summary]");
    if (summary && viewing(`g${groupId}`)) summary.textContent = groupSummary(fresh);
  }).catch(() => {});
}

// A public group appeared (created, or made public): Discover shows it at once.
client.on("groupcreate", (group) => {
  if (isMe(group.owner) || state.groups.has(group.groupid) || state.discover.some((g) => g.id === group.groupid)) return;
  state.discover.unshift({id: group.groupid, name: group.name, description: group.description,
    members_count: group.members_count, is_private: false, my_role: null});
  renderSidebar();
});

client.on("postlike", ({postid, userid, liked, likes_count}) => {
  const post = state.posts.get(postid);
  if (!post) return;
  post.likes_count = likes_count;
  if (userid === state.me?.id) post.liked_by_me = liked;
  renderPost(postid);
});

client.on("postdelete", ({postid}) => {
  state.posts.delete(postid);
  state.feed = state.feed.filter((id) => id !== postid);
  document.querySelector(`[data-post="${postid}"]`)?.remove();
});

client.on("editmessage", (frame) => {
  const chat = getChat(messageKey(frame));
  const item = chat.items.find((i) => i.kind === "message" && i.id === frame.id);
  if (!item) return;
  Object.assign(item, {message: frame.message, edited_at: frame.edited_at});
  if (viewing(messageKey(frame))) renderTimeline();
});

// A new post: of one of my groups, of a friend, or a public one (the `feed` channel).
client.on("postcreate", ({postid, groupid, author, content, created_at}) => {
  remember(author);
  if (!state.posts.has(postid)) {
    state.posts.set(postid, {id: postid, author, content, group_id: groupid, created_at, edited_at: null,
      likes_count: 0, liked_by_me: false});
  }
  if (state.feed.includes(postid)) return;
  state.feed.unshift(postid);
  if (groupid === null && !isMe(author)) followLikes(postid);
  renderFeedList();
});

// A reaction on a message or a post: the counts as they are now.
client.on("reaction", ({messageid, postid, user, emoji, on, counts}) => {
  const own = (item) => {
    item.reactions = counts;
    if (isMe(user)) {
      const mine = new Set(item.my_reactions || []);
      if (on) mine.add(emoji);
      else mine.delete(emoji);
      item.my_reactions = [...mine];
    }
  };
  if (postid !== undefined) {
    const post = state.posts.get(postid);
    if (post) {
      own(post);
      renderPost(postid);
    }
    return;
  }
  for (const chat of state.chats.values()) {
    const item = chat.ids.has(messageid) && chat.items.find((i) => i.kind === "message" && i.id === messageid);
    if (item) own(item);
  }
  if (state.view.kind === "group" || state.view.kind === "dm") renderTimeline();
});

client.on("postedit", ({postid, content, edited_at}) => {
  const post = state.posts.get(postid);
  if (!post) return;
  Object.assign(post, {content, edited_at});
  renderPost(postid);
});

client.on("groupupdate", ({groupid, name: title, description, is_private}) => {
  const group = state.groups.get(groupid);
  if (!group) return;
  Object.assign(group, {name: title, description, is_private});
  renderSidebar();
  if (state.view.kind === "group" && state.view.id === groupid) {
    // The header only: a message being typed stays as it is.
    $(".chat .view-head")?.replaceWith(chatView(state.view).querySelector(".view-head"));
  }
});

client.on("role", ({groupid, user, role}) => {
  const member = (state.members.get(groupid) || []).find((m) => m.user.id === user.id);
  if (member) member.role = role;
  const group = state.groups.get(groupid);
  if (group && isMe(user)) group.my_role = role;
  if (state.view.kind === "group" && state.view.id === groupid) {
    renderTimeline();
    renderAside();
  }
});

client.on("deletemessage", (frame) => {
  for (const [key, chat] of state.chats) {
    if (!chat.ids.has(frame.id)) continue;
    chat.items = chat.items.filter((i) => i.kind !== "message" || i.id !== frame.id);
    chat.ids.delete(frame.id);
    if (viewing(key)) renderTimeline();
  }
});

client.on("notification", (frame) => {
  if (state.notifications.some((note) => note.id === frame.id)) return;  // read through REST already
  state.notifications.unshift({...frame, read: false, created_at: new Date().toISOString()});
  // A resumed socket replays what was missed up to its `connection` frame's position: counted in
  // the badge, but not a toast each.
  const replayed = client.resumed && frame.seq <= client.connection?.seq;
  if (!replayed && frame.kind !== "kick") toast(frame.message);  // a removal is told by its `kick` frame
  if (frame.kind === "friendaccept") refreshPresence();  // a new friend: their row, their presence
  if (state.view.kind === "notifications") {
    renderMain();
    markNotificationsSeen();
  }
  renderSidebar();
});

client.on("signedout", ({reason}) => {
  stop();
  renderLogin(reason === "deactivated" ? "This account was deactivated." : "Your session ended: sign in again.");
});

// --- start and stop ---------------------------------------------------------------------------------------------

function start() {
  state.me = remember(client.user);
  state.view = {kind: "feed"};
  renderShell();
  renderStatus();
  client.connect();
}

function stop() {
  Object.assign(state, {me: null, view: {kind: "feed"}, groups: new Map(), discover: [], removed: new Map(),
    chats: new Map(), dms: new Set(), online: new Set(), friends: new Set(), blocked: new Set(), muted: new Set(),
    followedPosts: [],
    members: new Map(), posts: new Map(), feed: [], notifications: [], connected: false, creatingGroup: false,
    discoverOpen: false, discoverQuery: "", discoverFound: [], asked: new Set(), presenceChannel: null});
  groupForm = null;
}

async function signOut() {
  stop();
  await client.logout();
  renderLogin();
}

if (client.signedIn) start();
else renderLogin();
