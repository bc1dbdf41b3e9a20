// Runs in the browser (page.evaluate) against config/static/app/kirimin.js, with a fake WebSocket
// and a fake fetch standing in for the server: the conversation, read and presence helpers, and
// which way (REST or the socket) each one goes. tests/e2e/test_client_module.py checks the result.
async (moduleUrl) => {
  const {Kirimin} = await import(moduleUrl);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      const frame = JSON.parse(text);
      this.sent.push(frame);
      if (frame.type === "read") {  // the server acks it
        setTimeout(() => this.onmessage?.({data: JSON.stringify({identifier: "kirimin", type: "ack", ref: frame.ref})}), 1);
      }
    }
    close() {}
  }
  const calls = [];
  const fetch = async (url, init) => {
    calls.push(`${init.method} ${url}${init.body ? " " + init.body : ""}`);
    const data = url.endsWith("/api/auth/login/")
      ? {access: "A", refresh: "R", user: {id: 5, username: "bo"}, socket: {host: "h/ws/", id: "T0"}}
      : {results: [], next: null};
    return {ok: true, status: 200, json: async () => ({status: 200, message: "OK", data})};
  };
  const client = new Kirimin({WebSocket: FakeSocket, fetch, heartbeat: 0});
  await client.login("bo", "pw");
  calls.length = 0;
  const out = {};
  out.firstPage = await client.conversations({limit: 20});
  await client.conversations({next: "https://api.example.com/api/conversations/?cursor=5.group.7&limit=20"});
  await client.conversations();
  await client.markRead({to: 6}, 41);  // no socket yet: REST
  await client.presence([6, "7"]);
  await client.reads(3, 99);
  out.restCalls = calls.slice();
  const connected = client.connect();
  while (!sockets.length) await sleep(2);
  sockets[0].onmessage({data: JSON.stringify({identifier: "kirimin", type: "connection", client_id: "c", user: {id: 5},
    groups: [3], seq: 1, streams: {"user:5": 0, "group:3": 0}})});
  await connected;
  calls.length = 0;
  out.socketAck = await client.markRead({groupid: 3}, 42);  // open: the `read` frame
  out.socketSent = sockets[0].sent.filter((frame) => frame.type === "read");
  out.restWhileOpen = calls.slice();
  client.disconnect();
  return out;
}
