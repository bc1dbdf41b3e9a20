/**
 * kirimin.js: a small, dependency-free browser client for the Kirimin API and relay.
 *
 * Copy this one file into your frontend (it is an ES module, no build step).
 *
 *   import {Kirimin} from "./kirimin.js";
 *   const kirimin = new Kirimin({storage: sessionStorage});  // baseUrl: "https://api.example.com"
 *   await kirimin.login("alice", "secret");                  // or kirimin.register({...})
 *   kirimin.on("sendmessage", (frame) => show(frame));       // any server frame type, or "*"
 *   kirimin.on("state", ({state}) => banner(state));         // connecting, open, reconnecting...
 *   kirimin.on("resync", () => reloadEverything());          // the stream could not resume: read REST again
 *   await kirimin.connect();                                 // resolves with the `connection` frame
 *   kirimin.send("typing", {groupid: 7});                    // adds identifier: "kirimin"
 *   const ack = await kirimin.request("sendmessage", {groupid: 7, message: "hi"});  // ack or throws
 *   const posts = await kirimin.api("GET", "/api/posts/");   // the envelope's `data`, or throws
 *   const {results} = await kirimin.conversations();         // the sidebar: unread and mention counts
 *   await kirimin.markRead({groupid: 7}, 42);                // socket while open, REST otherwise
 *
 * What it does for you (SPEC §2 and §6, README "The relay protocol"):
 * - keeps the tokens (in `storage` if given) and refreshes the access token once on a 401;
 * - connects with the one-time ticket (`socket` of login or is-user) as
 *   `ws(s)://<socket.host>?id=<socket.id>`;
 * - follows the event stream: every stateful frame (sendmessage, postlike, join, ...) carries
 *   `seq`, its position, and `streams`, its offset in each stream it belongs to. The client keeps
 *   `position` (the newest seq taken, or the first `connection` frame's) and `streams` (the last
 *   offset taken in each stream it follows: its own `user:<id>` and its groups' `group:<id>`,
 *   started by the `connection` frame and by a `join` of the user, ended by their `leave` or
 *   `kick`). Each stateful frame is emitted at most once: a frame at or below `position`, or at
 *   or below the last offset of a stream it follows, is a duplicate and is dropped; a frame past
 *   the next offset of a stream it follows means frames were missed in between: it is not emitted,
 *   and the client reconnects from the position before it, so the server replays the missing
 *   frames and that one, in order;
 * - when the socket closes unexpectedly, reconnects with exponential backoff and jitter, each
 *   time with a fresh ticket from `is-user` and `&resume=<position>`, so the server replays every
 *   stateful frame missed meanwhile, oldest first, before going live (`resumed` is then true
 *   during that socket); a missed heartbeat does the same; the browser's `online` event skips
 *   the wait. A server whose `connection` frame has no `seq` (an older one) gets
 *   `&since=<newest message id seen>` instead, which replays messages only;
 * - a `resync` frame (`reason: "retention"`: the position is older than the server keeps)
 *   means what was missed cannot be replayed: the client takes the frame's `seq` as its position
 *   and goes on live on the same socket, and emits "resync" so the app reloads its state
 *   through REST. (From an older server, a `resync` without `seq` drops the socket and
 *   reconnects with `since=` as before.)
 * - answers the server's `ping` with `pong`, restores `subscribe`d channels after a reconnect,
 *   and queues frames sent while disconnected (except `typing`) until the socket is back.
 * - stops on 4403 (the account was deactivated) or when the session cannot be refreshed,
 *   emitting "signedout"; with `maxAttempts`, gives up after that many failed reconnects in a
 *   row, emitting "failed" (`connect()` starts again).
 */

export const IDENTIFIER = "kirimin";

/** An API or relay error: `status` (HTTP, 0 for the network or the socket), `code`, `message`, `details`. */
export class KiriminError extends Error {
  constructor(status, code, message, details = null) {
    super(message || code);
    this.name = "KiriminError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The wait before reconnect attempt `attempt` (0-based): exponential, capped, with jitter below the cap. */
export function backoffDelay(attempt, {initial = 500, max = 15000, factor = 2, jitter = 0.3} = {}, random = Math.random) {
  const base = Math.min(max, initial * factor ** Math.min(attempt, 30));
  return Math.round(base * (1 - jitter * random()));
}

/** The WebSocket URL for a `socket` config, as SPEC §2 says: with `resume=` when a stream position
 * is known (0 included), else with `since=` when a message id is known (older servers). */
export function socketUrl(socket, {resume = null, since = 0, secure = globalThis.location?.protocol === "https:"} = {}) {
  const url = `${secure ? "wss" : "ws"}://${socket.host}?id=${encodeURIComponent(socket.id)}`;
  if (Number.isInteger(resume) && resume >= 0) return `${url}&resume=${resume}`;
  return since > 0 ? `${url}&since=${since}` : url;
}

/** Server frames that are entries of the event stream: each carries `seq` and `streams`. */
export const STATEFUL = new Set(["announcement", "sendmessage", "postlike", "postdelete", "deletemessage", "join", "leave", "kick",
  "friendrequest", "notification", "unread", "read", "presence", "unfriend", "editmessage", "groupupdate", "role",
  "postedit", "block", "mute", "skip", "postcreate", "reaction", "groupcreate"]);
/** Frames other services publish (POST /api/publish/) are typed "custom.<name>": numbered too. */
export const isStateful = (type) => STATEFUL.has(type) || (typeof type === "string" && type.startsWith("custom."));

const CLOSE_DEACTIVATED = 4403;
const CLOSE_SERVICE_RESTART = 1012;
const CLOSE_RESUME = 4000;  // our own close code when we drop a socket to reconnect and resume
const UNQUEUED = new Set(["typing", "ping", "pong", "connection", "auth", "subscribe", "unsubscribe"]);

export class Kirimin {
  /**
   * @param {object} options
   * @param {string} [options.baseUrl]  where the API lives ("" for the page's own origin)
   * @param {Storage} [options.storage] keeps the session across reloads (e.g. sessionStorage)
   * @param {object} [options.backoff]  {initial, max, factor, jitter} in ms, see backoffDelay
   * @param {number} [options.heartbeat] ms between `ping`s while idle (0: none)
   * @param {number} [options.heartbeatTimeout] ms without any frame after a `ping` before reconnecting
   * @param {number} [options.maxAttempts] reconnect attempts in a row before giving up (state "failed",
   *   as socket.io's `reconnect_failed`); Infinity by default. `connect()` starts again.
   */
  constructor(options = {}) {
    this.options = {
      baseUrl: "",
      storage: null,
      storageKey: "kirimin.session",
      heartbeat: 25000,
      heartbeatTimeout: 10000,
      maxAttempts: Infinity,
      WebSocket: globalThis.WebSocket,
      fetch: (...args) => globalThis.fetch(...args),
      ...options,
    };
    this.options.backoff = {initial: 500, max: 15000, factor: 2, jitter: 0.3, ...options.backoff};
    this.user = null;
    this.access = null;
    this.refreshToken = null;
    this.state = "idle";        // idle, connecting, open, reconnecting, failed, closed, signedout
    this.connection = null;     // the current socket's first `connection` frame
    this.lastMessageId = 0;     // newest `sendmessage` id seen: the `since=` for an older server
    this.position = null;       // newest stream position taken: the `resume=` of the next connect
    this.streams = {};          // stream name ("user:5", "group:7") -> last offset taken
    this.resumed = false;       // the current socket resumed from `position`: its replay brings all that was missed
    this.attempt = 0;           // reconnect attempts since the last successful connect
    this.ws = null;
    this._ticket = null;        // the `socket` of login, used once
    this._wanted = false;       // connect() called and not disconnect()
    this._timer = null;
    this._heartbeat = null;
    this._handlers = new Map();
    this._requests = new Map(); // ref -> {resolve, reject, timer}
    this._outbox = [];
    this._channels = new Set();
    this._seq = 0;
    this._refreshing = null;
    this._socketQuery = null;   // {resume} or {since} the current socket was opened with
    this._greeted = false;      // the current socket's first `connection` frame arrived
    this._pending = null;       // a resumed socket's streams we did not follow: name -> offset at `_replayEnd`
    this._replayEnd = null;     // a resumed socket's `connection` seq: frames up to it are its replay
    this._gapAt = null;         // the position of the last reconnect for a gap (a repeat gives up)
    this._restore();
    globalThis.addEventListener?.("online", () => this._wakeUp());
  }

  get signedIn() {
    return Boolean(this.access);
  }

  // --- events ------------------------------------------------------------------------------------
  /** Call `handler(frame)` for every server frame of `type` ("*": all frames). Each stateful frame
   * (STATEFUL) is emitted once, in stream order; duplicates and frames after a gap are not.
   * Also "state" ({state, attempt, delay, code}), "signedout" ({reason}), "failed" ({attempts, code}:
   * `maxAttempts` reconnects failed in a row) and "resync" (the
   * `resync` frame, or {type: "resync", reason: "gap" | "reset", seq} when the client itself had to
   * give up on replaying: reload through REST). Returns a function that unsubscribes. */
  on(type, handler) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(handler);
    return () => this._handlers.get(type).delete(handler);
  }

  _emit(type, payload) {
    for (const handler of [...(this._handlers.get(type) || [])]) {
      try {
        handler(payload);
      } catch (error) {
        console.error(`kirimin: a "${type}" handler failed`, error);
      }
    }
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit("state", {state, attempt: this.attempt, ...extra});
  }

  // --- REST ----------------------------------------------------------------------------------------
  /** Call the API; resolves with the envelope's `data`, throws KiriminError with its code. */
  async api(method, path, body, {auth = true, retry = true} = {}) {
    const headers = {Accept: "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.access) headers.Authorization = `Bearer ${this.access}`;
    let response;
    try {
      response = await this.options.fetch(this.options.baseUrl + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new KiriminError(0, "network_error", "The server cannot be reached.", {cause: String(error)});
    }
    let envelope = null;
    try {
      envelope = await response.json();
    } catch {
      // not JSON: a proxy error page, for instance
    }
    if (response.status === 401 && auth && retry && this.refreshToken) {
      await this.refreshAccess();
      return this.api(method, path, body, {auth, retry: false});
    }
    if (!response.ok) {
      throw new KiriminError(response.status, envelope?.error || "http_error",
        envelope?.message || `HTTP ${response.status}`, envelope?.details ?? null);
    }
    return envelope ? envelope.data : null;
  }

  /** Sign in; keeps the tokens and the socket ticket for connect(). Resolves with the user. */
  async login(username, password) {
    const data = await this.api("POST", "/api/auth/login/", {username, password}, {auth: false});
    this.user = data.user;
    this.access = data.access;
    this.refreshToken = data.refresh;
    this._ticket = data.socket;
    this._save();
    return data.user;
  }

  /** Create an account and sign in with it. */
  async register({username, password, display_name = "", email = ""}) {
    await this.api("POST", "/api/auth/register/", {username, password, display_name, email}, {auth: false});
    return this.login(username, password);
  }

  /** Close the socket, blacklist the refresh token and forget the session. */
  async logout() {
    this.disconnect();
    const refresh = this.refreshToken;
    if (refresh) {
      try {
        await this.api("POST", "/api/auth/logout/", {refresh});
      } catch {
        // the session is forgotten here anyway
      }
    }
    this._forget();
    this._setState("idle");
  }

  /** A new access token from the refresh token (one request even when many callers ask at once). */
  refreshAccess() {
    if (!this._refreshing) {
      this._refreshing = (async () => {
        try {
          const data = await this.api("POST", "/api/auth/refresh/", {refresh: this.refreshToken}, {auth: false});
          this.access = data.access;
          this.refreshToken = data.refresh;
          this._save();
        } catch (error) {
          if (error.status === 400 || error.status === 401) this._signedOut("session_expired");
          throw error;
        } finally {
          this._refreshing = null;
        }
      })();
    }
    return this._refreshing;
  }

  _save() {
    this.options.storage?.setItem(this.options.storageKey,
      JSON.stringify({user: this.user, access: this.access, refresh: this.refreshToken}));
  }

  _restore() {
    try {
      const saved = JSON.parse(this.options.storage?.getItem(this.options.storageKey) || "null");
      if (saved?.access) Object.assign(this, {user: saved.user, access: saved.access, refreshToken: saved.refresh});
    } catch {
      // a corrupt entry is a signed-out session
    }
  }

  _forget() {
    this.user = this.access = this.refreshToken = this._ticket = null;
    this.lastMessageId = 0;
    this._resetStream(null, {});
    this._channels.clear();
    this._outbox = [];
    this.options.storage?.removeItem(this.options.storageKey);
  }

  _signedOut(reason) {
    this.disconnect();
    this._forget();
    this._setState("signedout", {reason});
    this._emit("signedout", {reason});
  }

  // --- the socket ------------------------------------------------------------------------------------
  /** Open the socket (and keep it open); resolves with the first `connection` frame, or rejects
   * (code "failed") when `maxAttempts` reconnects fail first. */
  connect() {
    this._wanted = true;
    if (this.state === "open") return Promise.resolve(this.connection);
    const connected = new Promise((resolve, reject) => {
      const offs = [
        this.on("connection", (frame) => {
          offs.forEach((off) => off());
          resolve(frame);
        }),
        this.on("failed", () => {
          offs.forEach((off) => off());
          reject(new KiriminError(0, "failed", "Gave up reconnecting."));
        }),
      ];
    });
    if (!this.ws && !this._timer && this.state !== "connecting") this._open();
    return connected;
  }

  /** Close the socket for good (no reconnect). */
  disconnect() {
    this._wanted = false;
    clearTimeout(this._timer);
    this._timer = null;
    const ws = this.ws;
    if (ws) {
      this._detach(ws);
      ws.close(1000);
      this._closed({code: 1000});
    }
  }

  /** Count a message id as seen (e.g. from REST history), so a reconnect to an older server (`since=`)
   * does not replay it. (The stream's `resume=` needs no help: it replays exactly what this client
   * did not take.) */
  noteMessageId(id) {
    if (Number.isInteger(id) && id > this.lastMessageId) this.lastMessageId = id;
  }

  /** Send a frame: `{identifier: "kirimin", type, ...fields}`. While disconnected it waits in a
   * queue (typing indicators are dropped). Returns the frame. */
  send(type, fields = {}) {
    const frame = {...fields, identifier: IDENTIFIER, type};
    if (this.state === "open" && this.ws) {
      this.ws.send(JSON.stringify(frame));
    } else if (!UNQUEUED.has(type) && this._outbox.length < 100) {
      this._outbox.push(frame);
    }
    return frame;
  }

  /** Send a frame and wait for its answer: resolves with the `ack`, rejects with a KiriminError. */
  request(type, fields = {}, {timeout = 10000} = {}) {
    const ref = fields.ref || `r${++this._seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._requests.delete(ref);
        this._outbox = this._outbox.filter((queued) => queued !== frame);  // never sent late
        reject(new KiriminError(0, "timeout", `No answer to "${type}".`));
      }, timeout);
      const frame = this.send(type, {...fields, ref});
      this._requests.set(ref, {resolve, reject, timer, frame});
    });
  }

  // --- conversations, read state, presence ------------------------------------------------------------
  /** One page of the caller's conversations (groups and direct ones), newest activity first:
   * `{results, next}`, each row with `unread_count`, `mention_count` and `last_read_message_id`.
   * Pass a page's `next` back as `next` for the following page. */
  conversations({limit = null, next = null} = {}) {
    if (next) {
      const url = new URL(next, "http://origin");
      return this.api("GET", url.pathname + url.search);
    }
    return this.api("GET", "/api/conversations/" + (limit ? `?limit=${Number(limit)}` : ""));
  }

  /** Mark a conversation read up to `messageId`: `target` is `{groupid}` or `{to: userId}`. Over the
   * socket while it is open (resolves with the `ack`), by REST otherwise (the same effect: the
   * reader's other sockets get `unread`, the others a `read` receipt). Markers only move forward,
   * so a lower id changes nothing. */
  markRead(target, messageId) {
    const body = {...target, message_id: messageId};
    return this._socketOrRest(["read", body], ["POST", "/api/conversations/read/", body]);
  }

  /** Who of `ids` (at most 100 user ids) is online: `{results: [{user, online, last_seen}]}`, for
   * the users the caller may see (friends and co-members); live changes come as `presence` frames. */
  presence(ids) {
    return this.api("GET", `/api/presence/?ids=${ids.map(Number).join(",")}`);
  }

  /** Change the text of your message `id`: over the socket while it is open (the `ack`), by REST
   * otherwise (the message). Its audience gets `editmessage`. */
  editMessage(id, message) {
    return this._socketOrRest(["editmessage", {id, message}], ["PATCH", `/api/messages/${Number(id)}/`, {message}]);
  }

  /** React to `{messageid}` or `{postid}` with `emoji` (one of the server's REACTION_EMOJI), or take it
   * back with `on = false`: over the socket while it is open, by REST otherwise; both answer
   * `{changed, counts}`. The audience gets `reaction` with the counts. */
  react(target, emoji, on = true) {
    const [kind, id] = target.messageid !== undefined ? ["messages", target.messageid] : ["posts", target.postid];
    const url = `/api/${kind}/${Number(id)}/reactions/`;
    return this._socketOrRest(["react", {...target, emoji, on}],
      on ? ["POST", url, {emoji}] : ["DELETE", `${url}${encodeURIComponent(emoji)}/`]);
  }

  /** Delete message `id` (yours, or one of a group you own or administer): over the socket while
   * it is open, by REST otherwise. Its audience gets `deletemessage` with `by`. */
  deleteMessage(id) {
    return this._socketOrRest(["deletemessage", {id}], ["DELETE", `/api/messages/${Number(id)}/`]);
  }

  /** `request(...frame)` while the socket is open, else `api(...call)`: the same action either way. */
  _socketOrRest(frame, call) {
    return this.state === "open" && this.ws ? this.request(...frame) : this.api(...call);
  }

  /** Report a post, a message or a user to the moderators: `target` is "post:42", "message:7" or
   * "user:3"; `reason` 1 to 1000 characters. Reporting again returns the open report. */
  report(target, reason) {
    return this.api("POST", "/api/reports/", {target, reason});
  }

  /** End the friendship with `userId` (either of you may): both get an `unfriend` frame. */
  unfriend(userId) {
    return this.api("DELETE", `/api/friends/${Number(userId)}/`);
  }

  /** Block `userId`: no direct messages or friend requests either way, nothing relayed between
   * you, their group messages marked `from_blocked`; they are never told. Your sockets get `block`. */
  block(userId) {
    return this.api("POST", "/api/blocks/", {user_id: Number(userId)});
  }

  unblock(userId) {
    return this.api("DELETE", `/api/blocks/${Number(userId)}/`);
  }

  /** Mute `userId` (for `expiresIn` seconds, or until unmuted): no notifications or unread counts
   * from them, their messages marked `muted`. Your sockets get `mute`. */
  mute(userId, expiresIn = null) {
    return this.api("POST", "/api/mutes/", {user_id: Number(userId), ...(expiresIn ? {expires_in: expiresIn} : {})});
  }

  unmute(userId) {
    return this.api("DELETE", `/api/mutes/${Number(userId)}/`);
  }

  /** Who has read a group message (members only): a page of `{user, at}`, newest first. */
  reads(groupid, messageId) {
    return this.api("GET", `/api/groups/${Number(groupid)}/messages/${Number(messageId)}/reads/`);
  }

  /** Live events of a public post ("post:42") or a visible group ("group:7"), kept across reconnects. */
  subscribe(channel) {
    if (this._channels.has(channel)) return;
    this._channels.add(channel);
    if (this.state === "open") this.send("subscribe", {channel});
  }

  unsubscribe(channel) {
    if (this._channels.delete(channel) && this.state === "open") this.send("unsubscribe", {channel});
  }

  async _open() {
    clearTimeout(this._timer);
    this._timer = null;
    this._setState(this.attempt ? "reconnecting" : "connecting");
    let socket = this._ticket;
    this._ticket = null;
    if (!socket) {
      try {
        socket = (await this.api("GET", "/api/auth/is-user/")).socket;
      } catch (error) {
        if (this._wanted && this.state !== "signedout") this._retry(error.status === 0 ? "network" : error.code);
        return;
      }
    }
    if (!this._wanted || this.ws) return;
    // The stream position when we have one; the newest message id only for an older server.
    this._socketQuery = this.position !== null ? {resume: this.position}
      : this.lastMessageId > 0 ? {since: this.lastMessageId} : {};
    this._greeted = false;
    this.resumed = false;
    const ws = new this.options.WebSocket(socketUrl(socket, this._socketQuery));
    this.ws = ws;
    ws.onmessage = (event) => this._receive(ws, event.data);
    ws.onclose = (event) => {
      if (ws === this.ws) this._closed(event);
    };
  }

  _detach(ws) {
    ws.onmessage = ws.onclose = null;
  }

  _closed(event) {
    this.ws = null;
    this.connection = null;
    this.resumed = false;
    this._stopHeartbeat();
    for (const [ref, request] of this._requests) {
      if (this._outbox.includes(request.frame)) continue;  // not sent yet: it goes out after the reconnect
      clearTimeout(request.timer);
      request.reject(new KiriminError(0, "disconnected", "The connection closed before an answer."));
      this._requests.delete(ref);
    }
    if (!this._wanted) {
      this._setState("closed", {code: event.code});
    } else if (event.code === CLOSE_DEACTIVATED) {
      this._signedOut("deactivated");
    } else {
      this._retry(event.code);
    }
  }

  /** Drop the current socket (a gap, a missed heartbeat) and reconnect with `resume=` (or `since=`). */
  _drop(code) {
    const ws = this.ws;
    if (!ws) return;
    this._detach(ws);
    try {
      ws.close(4000);
    } catch {
      // already closing
    }
    this._closed({code});
  }

  _retry(code) {
    if (this.attempt >= this.options.maxAttempts) {
      this._giveUp(code);
      return;
    }
    const delay = backoffDelay(this.attempt, this.options.backoff);
    this.attempt += 1;
    this._setState("reconnecting", {delay, code, at: Date.now() + delay});
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._open(), delay);
  }

  /** `maxAttempts` reconnects failed in a row: stop trying (until `connect()`), and fail what waits
   * to be sent rather than keep it for a socket that is not coming. */
  _giveUp(code) {
    this._wanted = false;
    clearTimeout(this._timer);
    this._timer = null;
    for (const [ref, request] of this._requests) {
      clearTimeout(request.timer);
      request.reject(new KiriminError(0, "failed", "Gave up reconnecting."));
      this._requests.delete(ref);
    }
    this._outbox = [];
    const attempts = this.attempt;
    this.attempt = 0;
    this._setState("failed", {attempts, code});
    this._emit("failed", {attempts, code});
  }

  /** Back online: do not wait out the backoff. */
  _wakeUp() {
    if (this._wanted && this._timer && this.state === "reconnecting") this._open();
  }

  _receive(ws, text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || frame.identifier !== IDENTIFIER) return;
    this._beat();
    if (isStateful(frame.type) && !this._take(frame)) return;  // a duplicate, or a gap: not emitted
    if (frame.type === "skip") return;  // a place in the stream with nothing for us: taken, not shown
    switch (frame.type) {
      case "connection":
        if (this._greeted) break;  // an answer to our own `connection` frame: nothing starts over
        this._greeted = true;
        this.connection = frame;
        if (frame.user) this.user = frame.user;
        this._startStream(frame);
        this.attempt = 0;
        this._setState("open");
        for (const channel of this._channels) this.send("subscribe", {channel});
        for (const queued of this._outbox.splice(0)) ws.send(JSON.stringify(queued));
        break;
      case "ping":
        ws.send(JSON.stringify({identifier: IDENTIFIER, type: "pong", ...(frame.ref ? {ref: frame.ref} : {})}));
        break;
      case "reconnect":
        // This process is leaving (a deploy): go to another at our own moment, and resume there.
        clearTimeout(this._leaveTimer);
        this._leaveTimer = setTimeout(() => {
          if (this.ws === ws) this._drop(CLOSE_SERVICE_RESTART);
        }, Math.max(0, Number(frame.after_ms) || 0));
        break;
      case "ack":
      case "error": {
        const request = frame.ref && this._requests.get(frame.ref);
        if (request) {
          this._requests.delete(frame.ref);
          clearTimeout(request.timer);
          if (frame.type === "ack") request.resolve(frame);
          else request.reject(new KiriminError(0, frame.code, frame.message, frame.details ?? null));
        }
        break;
      }
      default:
        break;
    }
    if (frame.type === "resync" && Number.isInteger(frame.seq)) {
      // The stream cannot replay from our position (retention): go on live from the server's, on
      // this socket, with the offsets its `connection` frame gave for that very position.
      this._resetStream(frame.seq, this.connection?.streams);
      this.resumed = false;
    }
    this._emit(frame.type, frame);
    this._emit("*", frame);
    if (frame.type === "resync" && !Number.isInteger(frame.seq)) this._drop(CLOSE_RESUME);  // an older server
  }

  // --- the event stream ----------------------------------------------------------------------------
  _resetStream(position, streams) {
    this.position = position;
    this.streams = {};
    for (const [name, offset] of Object.entries(streams || {})) {
      if (Number.isInteger(offset)) this.streams[name] = offset;
    }
    this._pending = null;
    this._replayEnd = null;
  }

  /** The socket's first `connection` frame: where it starts in the stream. */
  _startStream(frame) {
    if (!Number.isInteger(frame.seq)) {  // an older server: no stream, `since=` it is
      this._resetStream(null, {});
      return;
    }
    const query = this._socketQuery || {};
    // `resume=` replays every stateful frame missed; `since=` (a client that had seen messages
    // before it ever saw the stream) only the messages, which the app must be told about.
    this.resumed = query.resume !== undefined;
    if (!this.resumed && query.since === undefined) {  // a fresh start: the frame's offsets are the baseline
      this._resetStream(frame.seq, frame.streams);
      return;
    }
    if (this.position !== null && frame.seq < this.position) {
      // The server is behind where we were (its stream was reset): what we hold cannot be
      // reconciled with it. Start again from its position, and let the app reload.
      this._resetStream(frame.seq, frame.streams);
      this.resumed = false;
      this._emit("resync", {identifier: IDENTIFIER, type: "resync", reason: "reset", seq: frame.seq});
      return;
    }
    // A replay (every frame after our position, up to `frame.seq`) follows. We keep our
    // own offsets. A stream of ours that we do not follow yet (a group joined while away) has the
    // offset it reached at `frame.seq`, after its replayed frames: it is followed from that offset
    // once the replay is over (a replayed `join` of ours starts following it sooner).
    this._replayEnd = frame.seq;
    this._pending = {};
    for (const [name, offset] of Object.entries(frame.streams || {})) {
      if (!(name in this.streams) && Number.isInteger(offset)) this._pending[name] = offset;
    }
  }

  /** Whether to emit a stateful frame: false for a duplicate (dropped) or after a gap (the socket is
   * dropped and resumed from the position before it). Takes its position and offsets when true. */
  _take(frame) {
    const seq = frame.seq;
    if (!Number.isInteger(seq)) {  // an older server: no numbering
      if (frame.type === "sendmessage") this.noteMessageId(frame.id);
      return true;
    }
    if (this.position !== null && seq <= this.position) return false;  // had it already
    if (this._pending && seq > this._replayEnd) {  // the replay is over: follow the streams it left
      for (const [name, offset] of Object.entries(this._pending)) {
        if (!(name in this.streams)) this.streams[name] = offset;
      }
      this._pending = null;
    }
    const offsets = Object.entries(frame.streams || {}).filter(([name, offset]) =>
      name in this.streams && Number.isInteger(offset));
    const gaps = offsets.filter(([name, offset]) => offset > this.streams[name] + 1);
    if (gaps.length) {
      if (this._gapAt !== this.position) {
        // Missed frames in a stream we follow: resume from before this frame. The replay brings
        // the missing frames and this one, in order.
        console.warn(`kirimin: a gap in ${gaps.map(([name, offset]) => `${name} (${this.streams[name]} -> ${offset})`)
          .join(", ")}: resuming from ${this.position}`);
        this._gapAt = this.position;
        this._drop(CLOSE_RESUME);
        return false;
      }
      // The same gap again right after resuming from here: the server cannot fill it. Take the
      // frame rather than reconnect forever, and let the app reload what it may have missed.
      console.warn(`kirimin: the gap at ${this.position} persists after a resume: reload through REST`);
      this._emit("resync", {identifier: IDENTIFIER, type: "resync", reason: "gap", seq: this.position});
    } else if (offsets.some(([name, offset]) => offset <= this.streams[name])) {
      return false;  // a stream we follow had it already
    }
    this._gapAt = null;
    for (const [name, offset] of offsets) this.streams[name] = offset;
    this.position = seq;
    if (frame.type === "sendmessage") this.noteMessageId(frame.id);
    this._follow(frame);
    return true;
  }

  /** A `join` of ours starts following the group's stream; a `leave` or `kick` of ours ends it. */
  _follow(frame) {
    const me = this.user?.id;
    if (me === undefined || frame.user?.id !== me || !["join", "leave", "kick"].includes(frame.type)) return;
    const name = `group:${frame.groupid}`;
    if (frame.type === "join") {
      const offset = frame.streams?.[name];
      if (Number.isInteger(offset)) this.streams[name] = offset;
    } else {
      delete this.streams[name];
      if (this._pending) delete this._pending[name];
    }
  }

  // Any frame proves the socket alive; after `heartbeat` ms of silence send a `ping`, and
  // after `heartbeatTimeout` more without a frame, reconnect.
  _beat() {
    if (!this.options.heartbeat) return;
    this._stopHeartbeat();
    this._heartbeat = setTimeout(() => {
      if (this.state !== "open" || !this.ws) return;
      this.ws.send(JSON.stringify({identifier: IDENTIFIER, type: "ping"}));
      this._heartbeat = setTimeout(() => this._drop(4000), this.options.heartbeatTimeout);
    }, this.options.heartbeat);
  }

  _stopHeartbeat() {
    clearTimeout(this._heartbeat);
    this._heartbeat = null;
  }
}
