// Runs in the browser (page.evaluate) against config/static/app/kirimin.js, with a fake
// WebSocket and a fake fetch standing in for the server, and returns what happened for
// tests/e2e/test_client_module.py to check. Real timers, with delays of a few milliseconds.
//
// The fake server speaks the event stream: stateful frames carry `seq` (a position, not by one)
// and `streams` (offsets, by one in each stream); the first `connection` frame carries `seq` and
// the user's streams. Bo (user 5) follows "user:5" and his groups' "group:<id>".
async (moduleUrl) => {
  const {Kirimin, backoffDelay, socketUrl, STATEFUL} = await import(moduleUrl);
  const out = {};
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const until = async (what, condition, ms = 3000) => {
    const start = Date.now();
    while (!condition()) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
      await sleep(2);
    }
  };

  // --- pure helpers ---
  out.delaysLow = [0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(n, undefined, () => 0));
  out.delaysHigh = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, undefined, () => 0.999999));
  out.urls = [
    socketUrl({host: "127.0.0.1:8000/ws/", id: "a b"}, {secure: false}),
    socketUrl({host: "example.com/ws/", id: "t1"}, {since: 42, secure: true}),
    socketUrl({host: "h/ws/", id: "t2"}, {resume: 0, secure: false}),
    socketUrl({host: "h/ws/", id: "t3"}, {resume: 7, since: 42, secure: false}),
  ];
  out.stateful = [...STATEFUL].sort();

  // --- fakes ---
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close(code) {
      this.closedWith = code;
    }
    serverSends(frame) {
      this.onmessage?.({data: JSON.stringify({identifier: "kirimin", ...frame})});
    }
    serverCloses(code) {
      this.onclose?.({code});
    }
  }
  const calls = [];
  let tickets = 0;
  const reply = (status, data, error = "invalid_token") => ({
    ok: status < 400,
    status,
    json: async () => (status < 400 ? {status, message: "OK", data}
      : {status, error, message: "Token is invalid or expired", details: null, data: null}),
  });
  const fetch = async (url, init) => {
    const auth = init.headers.Authorization || "-";
    calls.push(`${init.method} ${url} ${auth}`);
    if (url.endsWith("/api/auth/login/")) {
      return reply(200, {access: "A1", refresh: "R1", user: BO,
        socket: {host: "h/ws/", id: "T0", expires_in: 60}});
    }
    if (url.endsWith("/api/auth/refresh/")) return reply(200, {access: "A2", refresh: "R2"});
    if (url.endsWith("/api/auth/is-user/")) {
      if (auth === "Bearer A1") return reply(401, null);  // the access token expired meanwhile
      tickets += 1;
      return reply(200, {user: BO, socket: {host: "h/ws/", id: `T${tickets}`, expires_in: 60}});
    }
    return reply(404, null, "not_found");
  };
  const BO = {id: 5, username: "bo", display_name: "Bo"};
  const AL = {id: 6, username: "al", display_name: "Al"};
  const memory = new Map();
  const storage = {
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem: (key, value) => memory.set(key, value),
    removeItem: (key) => memory.delete(key),
  };
  // Stateful frames as the server numbers them.
  const msg = (id, seq, streams, groupid = 1) => ({type: "sendmessage", id, groupid, from: AL, message: `m${id}`,
    seq, streams});
  const snapshot = (client) => ({position: client.position, streams: {...client.streams}});

  // --- connect, frames, reconnect with backoff, a fresh ticket and resume= ---
  const client = new Kirimin({WebSocket: FakeSocket, fetch, storage, heartbeat: 0,
    backoff: {initial: 20, factor: 2, max: 1000, jitter: 0}});
  const states = [];
  client.on("state", (event) => states.push(event.delay === undefined ? event.state : `${event.state}:${event.delay}`));
  const received = [];  // message ids, as emitted
  client.on("sendmessage", (frame) => received.push(frame.id));
  const stream = [];  // every stateful frame emitted, as "type:seq"
  client.on("*", (frame) => {
    if (STATEFUL.has(frame.type)) stream.push(`${frame.type}:${frame.seq ?? "-"}`);
  });
  const resyncs = [];
  client.on("resync", (frame) => resyncs.push({reason: frame.reason, seq: frame.seq, position: client.position}));

  await client.login("bo", "pw");
  out.savedSession = JSON.parse(memory.get("kirimin.session"));
  const connected = client.connect();
  await until("the first socket", () => sockets.length === 1);
  out.firstUrl = sockets[0].url;
  sockets[0].serverSends({type: "connection", client_id: "c1", user: BO, groups: [1], seq: 100,
    streams: {"user:5": 3, "group:1": 10}});
  out.connectResolved = (await connected).client_id;
  out.fresh = {...snapshot(client), resumed: client.resumed};
  client.subscribe("post:3");
  sockets[0].serverSends(msg(7, 101, {"group:1": 11}));
  sockets[0].serverSends(msg(9, 104, {"group:1": 12}));  // 102, 103: other people's events
  sockets[0].serverSends({type: "ping", ref: "p1"});
  sockets[0].serverSends({type: "connection", ref: "c", client_id: "c1", user: BO, groups: [1]});  // an answer
  client.send("sendmessage", {groupid: 1, message: "hi"});
  out.firstSent = sockets[0].sent.slice();
  out.afterLive = snapshot(client);

  sockets[0].serverCloses(1006);
  client.send("sendmessage", {groupid: 1, message: "queued while away"});
  client.send("typing", {groupid: 1});  // not worth queueing
  await until("the second socket", () => sockets.length === 2);
  out.secondUrl = sockets[1].url;
  sockets[1].serverCloses(1006);  // refused before `connection`: the backoff grows
  await until("the third socket", () => sockets.length === 3);
  out.thirdUrl = sockets[2].url;

  // --- the resumed socket: the replay, a join while away, a duplicate, then live ---
  sockets[2].serverSends({type: "connection", client_id: "c3", user: BO, groups: [1, 2], seq: 110,
    streams: {"user:5": 4, "group:1": 14, "group:2": 3}});  // where the streams are at 110, after the replay
  out.thirdSent = sockets[2].sent.slice();
  out.resumed = client.resumed;
  sockets[2].serverSends(msg(10, 105, {"group:1": 13}));
  sockets[2].serverSends({type: "join", groupid: 2, user: BO, seq: 106, streams: {"user:5": 4, "group:2": 2}});
  sockets[2].serverSends(msg(11, 107, {"group:2": 3}, 2));
  sockets[2].serverSends(msg(10, 105, {"group:1": 13}));  // the same frame twice: dropped
  sockets[2].serverSends(msg(12, 109, {"group:1": 14}));
  sockets[2].serverSends(msg(13, 112, {"group:1": 15}));  // live
  out.afterReplay = snapshot(client);
  out.calls = calls.slice();

  // --- request(): the ack resolves, an error rejects with its code ---
  const asked = client.request("sendmessage", {groupid: 1, message: "x"});
  const ref = sockets[2].sent.at(-1).ref;
  sockets[2].serverSends({type: "ack", ref, id: 11});
  out.ack = await asked;
  const refused = client.request("kick", {groupid: 1, userid: 2});
  sockets[2].serverSends({type: "error", ref: sockets[2].sent.at(-1).ref, code: "forbidden", message: "No."});
  out.refused = await refused.then(() => "resolved", (error) => `${error.name}:${error.code}`);
  const cut = client.request("sendmessage", {groupid: 1, message: "y"});
  sockets[2].serverCloses(1006);
  out.cut = await cut.then(() => "resolved", (error) => error.code);

  // --- a group joined without a `join` frame (one created while away): followed once the replay is over ---
  await until("the fourth socket", () => sockets.length === 4);
  out.fourthUrl = sockets[3].url;
  sockets[3].serverSends({type: "connection", client_id: "c4", user: BO, groups: [1, 2, 3], seq: 120,
    streams: {"user:5": 5, "group:1": 16, "group:2": 3, "group:3": 7}});
  sockets[3].serverSends({type: "notification", id: 1, kind: "like", message: "Al liked your post.", data: {},
    seq: 115, streams: {"user:5": 5}});
  sockets[3].serverSends(msg(14, 118, {"group:3": 7}, 3));  // group 3's replay: not dropped
  sockets[3].serverSends(msg(15, 119, {"group:1": 16}));
  out.duringReplay = snapshot(client);
  sockets[3].serverSends(msg(16, 121, {"group:3": 8}, 3));  // live: group 3 is followed from 7
  out.afterPending = snapshot(client);

  // --- a gap: the frame is not emitted, the socket is dropped and resumed from before it ---
  sockets[3].serverSends(msg(18, 125, {"group:1": 18}));  // group:1 17 is missing
  out.gapClosedWith = sockets[3].closedWith;
  out.atGap = snapshot(client);
  await until("the fifth socket", () => sockets.length === 5);
  out.fifthUrl = sockets[4].url;
  sockets[4].serverSends({type: "connection", client_id: "c5", user: BO, groups: [1, 2, 3], seq: 125,
    streams: {"user:5": 5, "group:1": 18, "group:2": 3, "group:3": 8}});
  sockets[4].serverSends(msg(17, 123, {"group:1": 17}));
  sockets[4].serverSends(msg(18, 125, {"group:1": 18}));
  // --- duplicates: by position, and by a stream's offset ---
  sockets[4].serverSends(msg(18, 125, {"group:1": 18}));
  sockets[4].serverSends(msg(19, 126, {"group:1": 18}));
  out.afterDuplicates = snapshot(client);

  // --- leave and kick of the user stop following the group ---
  sockets[4].serverSends({type: "leave", groupid: 2, user: BO, seq: 127, streams: {"user:5": 6, "group:2": 4}});
  sockets[4].serverSends({type: "kick", groupid: 3, user: BO, by: AL, ban: false, seq: 128,
    streams: {"user:5": 7, "group:3": 9}});
  sockets[4].serverSends({type: "kick", groupid: 1, user: AL, by: BO, ban: false, seq: 129,
    streams: {"user:6": 30, "group:1": 19}});  // someone else's kick: group 1 is still ours
  sockets[4].serverSends({type: "postlike", postid: 3, userid: 6, liked: true, likes_count: 1, seq: 130,
    streams: {"post:3": 2, "group:3": 12}});  // a stream no longer followed: no gap
  out.afterMembership = snapshot(client);

  // --- a gap that a resume does not fill: taken after one try, with a "resync" for the app ---
  sockets[4].serverSends(msg(21, 133, {"group:1": 21}));
  await until("the sixth socket", () => sockets.length === 6);
  out.sixthUrl = sockets[5].url;
  sockets[5].serverSends({type: "connection", client_id: "c6", user: BO, groups: [1], seq: 133,
    streams: {"user:5": 7, "group:1": 21}});
  sockets[5].serverSends(msg(21, 133, {"group:1": 21}));  // still no group:1 20
  out.persistentGap = {...snapshot(client), sockets: sockets.length, closedWith: sockets[5].closedWith};

  // --- resync (retention): the resume point is too old; emitted, and live on the same socket ---
  sockets[5].serverCloses(1006);
  await until("the seventh socket", () => sockets.length === 7);
  out.seventhUrl = sockets[6].url;
  sockets[6].serverSends({type: "connection", client_id: "c7", user: BO, groups: [1], seq: 500,
    streams: {"user:5": 40, "group:1": 90}});
  sockets[6].serverSends({type: "resync", reason: "retention", seq: 500, message: "Reload through REST."});
  sockets[6].serverSends(msg(22, 501, {"group:1": 91}));
  await sleep(60);
  out.afterRetention = {...snapshot(client), sockets: sockets.length, closedWith: sockets[6].closedWith,
    resumed: client.resumed};

  // --- an older server (no seq in `connection`): since=, and its resync reconnects ---
  sockets[6].serverCloses(1006);
  await until("the eighth socket", () => sockets.length === 8);
  out.eighthUrl = sockets[7].url;
  sockets[7].serverSends({type: "connection", client_id: "c8", user: BO, groups: [1]});
  sockets[7].serverSends({type: "sendmessage", id: 30, groupid: 1, from: AL, message: "m30"});
  sockets[7].serverSends({type: "resync", reason: "relay_reconnected"});
  out.oldServer = {...snapshot(client), closedWith: sockets[7].closedWith};
  await until("the ninth socket", () => sockets.length === 9);
  out.ninthUrl = sockets[8].url;
  sockets[8].serverSends({type: "connection", client_id: "c9", user: BO, groups: [1]});

  // --- a restored session connects through is-user ---
  const again = new Kirimin({WebSocket: FakeSocket, fetch, storage, heartbeat: 0});
  out.restored = {signedIn: again.signedIn, user: again.user && again.user.username, position: again.position};

  // --- 4403: deactivated, signed out, no more reconnects ---
  const signedOut = [];
  client.on("signedout", (event) => signedOut.push(event.reason));
  sockets[8].serverCloses(4403);
  await sleep(100);
  out.after4403 = {sockets: sockets.length, state: client.state, signedOut, stored: memory.has("kirimin.session"),
    position: client.position};
  out.states = states;
  out.received = received;
  out.stream = stream;
  out.resyncs = resyncs;

  // --- heartbeat: an unanswered ping drops the socket and reconnects ---
  sockets.length = 0;
  const beating = new Kirimin({WebSocket: FakeSocket, fetch, heartbeat: 30, heartbeatTimeout: 300,
    backoff: {initial: 10, jitter: 0}});
  await beating.login("bo", "pw");
  beating.connect();
  await until("the heartbeat's socket", () => sockets.length === 1);
  sockets[0].serverSends({type: "connection", client_id: "h1", user: BO, groups: [], seq: 0, streams: {"user:5": 0}});
  await until("a ping", () => sockets[0].sent.some((f) => f.type === "ping"));
  sockets[0].serverSends({type: "pong"});  // answered: the socket stays, and is pinged again later
  await until("the reconnect after a silent socket", () => sockets.length === 2);
  out.heartbeatDropped = {closedWith: sockets[0].closedWith, pings: sockets[0].sent.filter((f) => f.type === "ping").length,
    url: sockets[1].url};

  // --- disconnect(): closed for good ---
  sockets[1].serverSends({type: "connection", client_id: "h2", user: BO, groups: [], seq: 3, streams: {"user:5": 0}});
  beating.disconnect();
  await sleep(60);
  out.afterDisconnect = {state: beating.state, sockets: sockets.length, closedWith: sockets[1].closedWith};

  // --- maxAttempts: give up after that many failed reconnects in a row, until connect() ---
  sockets.length = 0;
  const giving = new Kirimin({WebSocket: FakeSocket, fetch, heartbeat: 0, maxAttempts: 2,
    backoff: {initial: 5, jitter: 0}});
  const givingStates = [];
  giving.on("state", (event) => givingStates.push(event.state));
  const failed = [];
  giving.on("failed", (event) => failed.push(event));
  await giving.login("bo", "pw");
  giving.connect();
  await until("the first socket to give up on", () => sockets.length === 1);
  sockets[0].serverSends({type: "connection", client_id: "g1", user: BO, groups: [], seq: 0, streams: {"user:5": 0}});
  sockets[0].serverCloses(1006);
  const pending = giving.request("sendmessage", {groupid: 1, message: "never sent"}).then(() => "sent", (e) => e.code);
  await until("the first reconnect", () => sockets.length === 2);
  sockets[1].serverCloses(1006);
  await until("the second reconnect", () => sockets.length === 3);
  sockets[2].serverCloses(1006);
  await until("giving up", () => failed.length === 1);
  await sleep(50);
  out.gaveUp = {state: giving.state, failed: failed.slice(), sockets: sockets.length, pending: await pending,
    states: givingStates.slice()};
  // connect() starts again, from a first attempt; a connect() that never sees a socket open fails too.
  const secondConnect = giving.connect().then(() => "connected", (e) => e.code);
  for (const n of [4, 5, 6]) {
    await until(`socket ${n} to give up on`, () => sockets.length === n);
    sockets[n - 1].serverCloses(1006);
  }
  await until("the second give-up", () => failed.length === 2);
  out.connectAfterGivingUp = await secondConnect;
  giving.connect();
  await until("a socket after giving up", () => sockets.length === 7);
  sockets[6].serverSends({type: "connection", client_id: "g7", user: BO, groups: [], seq: 0, streams: {"user:5": 0}});
  out.afterGivingUp = {state: giving.state, attempt: giving.attempt};
  giving.disconnect();

  // --- reconnect: a draining server tells the client to go elsewhere at its moment, and it resumes ---
  sockets.length = 0;
  const moving = new Kirimin({WebSocket: FakeSocket, fetch, heartbeat: 0, backoff: {initial: 5, jitter: 0}});
  await moving.login("bo", "pw");
  moving.connect();
  await until("the socket to drain", () => sockets.length === 1);
  sockets[0].serverSends({type: "connection", client_id: "d1", user: BO, groups: [], seq: 40, streams: {"user:5": 2}});
  sockets[0].serverSends({type: "reconnect", after_ms: 60, reason: "maintenance"});
  await sleep(20);
  const stillOpen = sockets[0].closedWith === null && sockets.length === 1;
  await until("the move to another process", () => sockets.length === 2);
  out.drained = {stillOpenBefore: stillOpen, closedWith: sockets[0].closedWith, url: sockets[1].url};
  moving.disconnect();
  return out;
}
