// Runs in the browser (page.evaluate) against config/static/app/kirimin.js, with a fake
// WebSocket and a fake fetch standing in for the server, and returns what happened for
// tests/e2e/test_client_module.py to check. Real timers, with delays of a few milliseconds.
async (moduleUrl) => {
  const {Kirimin, backoffDelay, socketUrl} = await import(moduleUrl);
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
  ];

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
  const memory = new Map();
  const storage = {
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem: (key, value) => memory.set(key, value),
    removeItem: (key) => memory.delete(key),
  };

  // --- connect, frames, reconnect with backoff, a fresh ticket and since= ---
  const client = new Kirimin({WebSocket: FakeSocket, fetch, storage, heartbeat: 0,
    backoff: {initial: 20, factor: 2, max: 1000, jitter: 0}});
  const states = [];
  client.on("state", (event) => states.push(event.delay === undefined ? event.state : `${event.state}:${event.delay}`));
  const received = [];
  client.on("sendmessage", (frame) => received.push(frame.id));

  await client.login("bo", "pw");
  out.savedSession = JSON.parse(memory.get("kirimin.session"));
  const connected = client.connect();
  await until("the first socket", () => sockets.length === 1);
  out.firstUrl = sockets[0].url;
  sockets[0].serverSends({type: "connection", client_id: "c1", user: BO, groups: [1]});
  out.connectResolved = (await connected).client_id;
  client.subscribe("post:3");
  sockets[0].serverSends({type: "sendmessage", id: 7, groupid: 1, message: "a"});
  sockets[0].serverSends({type: "sendmessage", id: 9, groupid: 1, message: "b"});
  sockets[0].serverSends({type: "ping", ref: "p1"});
  client.send("sendmessage", {groupid: 1, message: "hi"});
  out.firstSent = sockets[0].sent.slice();

  sockets[0].serverCloses(1006);
  client.send("sendmessage", {groupid: 1, message: "queued while away"});
  client.send("typing", {groupid: 1});  // not worth queueing
  await until("the second socket", () => sockets.length === 2);
  out.secondUrl = sockets[1].url;
  sockets[1].serverCloses(1006);  // refused before `connection`: the backoff grows
  await until("the third socket", () => sockets.length === 3);
  out.thirdUrl = sockets[2].url;
  sockets[2].serverSends({type: "connection", client_id: "c3", user: BO, groups: [1]});
  out.thirdSent = sockets[2].sent.slice();
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

  // --- resync: drop the socket and come back with since= at once ---
  await until("the fourth socket", () => sockets.length === 4);
  sockets[3].serverSends({type: "connection", client_id: "c4", user: BO, groups: [1]});
  sockets[3].serverSends({type: "sendmessage", id: 12, groupid: 1, message: "c"});
  sockets[3].serverSends({type: "resync", reason: "relay_reconnected"});
  out.resyncClosedWith = sockets[3].closedWith;
  await until("the fifth socket", () => sockets.length === 5);
  out.fifthUrl = sockets[4].url;
  sockets[4].serverSends({type: "connection", client_id: "c5", user: BO, groups: [1]});

  // --- a restored session connects through is-user ---
  const again = new Kirimin({WebSocket: FakeSocket, fetch, storage, heartbeat: 0});
  out.restored = {signedIn: again.signedIn, user: again.user && again.user.username};

  // --- 4403: deactivated, signed out, no more reconnects ---
  const signedOut = [];
  client.on("signedout", (event) => signedOut.push(event.reason));
  sockets[4].serverCloses(4403);
  await sleep(100);
  out.after4403 = {sockets: sockets.length, state: client.state, signedOut, stored: memory.has("kirimin.session")};
  out.states = states;
  out.received = received;

  // --- heartbeat: an unanswered ping drops the socket and reconnects ---
  sockets.length = 0;
  const beating = new Kirimin({WebSocket: FakeSocket, fetch, heartbeat: 30, heartbeatTimeout: 300,
    backoff: {initial: 10, jitter: 0}});
  await beating.login("bo", "pw");
  beating.connect();
  await until("the heartbeat's socket", () => sockets.length === 1);
  sockets[0].serverSends({type: "connection", client_id: "h1", user: BO, groups: []});
  await until("a ping", () => sockets[0].sent.some((f) => f.type === "ping"));
  sockets[0].serverSends({type: "pong"});  // answered: the socket stays, and is pinged again later
  await until("the reconnect after a silent socket", () => sockets.length === 2);
  out.heartbeatDropped = {closedWith: sockets[0].closedWith, pings: sockets[0].sent.filter((f) => f.type === "ping").length};

  // --- disconnect(): closed for good ---
  sockets[1].serverSends({type: "connection", client_id: "h2", user: BO, groups: []});
  beating.disconnect();
  await sleep(60);
  out.afterDisconnect = {state: beating.state, sockets: sockets.length, closedWith: sockets[1].closedWith};
  return out;
}
