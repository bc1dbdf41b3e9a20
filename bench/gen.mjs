// Kirimin benchmark load generator: one Node process drives every server under test
// the same way, so the report compares like with like.
//
//   node gen.mjs config.json      -> prints "RESULT {json}" on stdout
//
// Scenarios: fanout (one sender, a room of R), throughput (pairs with a window of
// unacknowledged messages), connect (N sockets as fast as possible, held until stdin
// says go). Targets: kirimin (ws + tickets), channels (the tutorial consumer), socketio.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { io } from "socket.io-client";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- one client socket per target -----------------------------------------------------
// WebSocket clients offer permessage-deflate, as every browser does (cfg.deflate false: they
// don't); whether it is used is the server's choice, as it is with browsers.
const offerDeflate = cfg.deflate !== false;

function kiriminConn(url) {
  const c = { onPayload: null };
  c.open = () => new Promise((resolve, reject) => {
    const ws = (c.ws = new WebSocket(url, { perMessageDeflate: offerDeflate }));
    let first = true;
    ws.on("message", (data) => {
      const frame = JSON.parse(data);
      if (first) { first = false; return frame.type === "connection" ? resolve() : reject(new Error(data)); }
      if (frame.type === "sendmessage" && c.onPayload) {
        let payload;
        try { payload = JSON.parse(frame.message); } catch { return; }  // not one of ours
        if (payload && payload.t !== undefined) c.onPayload(payload);
      }
    });
    ws.on("error", reject);
    ws.on("close", (code) => { if (first) reject(new Error(`closed ${code}`)); });
  });
  c.send = (body, target) => c.ws.send(JSON.stringify({ identifier: "kirimin", type: "sendmessage", message: body, ...target }));
  c.close = () => c.ws.close();
  return c;
}

function channelsConn(url) {
  const c = { onPayload: null };
  c.open = () => new Promise((resolve, reject) => {
    const ws = (c.ws = new WebSocket(url, { perMessageDeflate: offerDeflate }));
    ws.on("open", resolve);
    ws.on("error", reject);
    ws.on("message", (data) => { if (c.onPayload) c.onPayload(JSON.parse(JSON.parse(data).message)); });
  });
  c.send = (body) => c.ws.send(JSON.stringify({ message: body }));
  c.close = () => c.ws.close();
  return c;
}

function socketioConn(url, room) {
  const c = { onPayload: null };
  c.open = () => new Promise((resolve, reject) => {
    const s = (c.s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false }));
    s.on("connect", () => s.emit("join", room, resolve));
    s.on("connect_error", reject);
    s.on("chat", (text) => { if (c.onPayload) c.onPayload(JSON.parse(text)); });
  });
  c.send = (body) => c.s.emit("chat", room, body);
  c.close = () => c.s.close();
  return c;
}

function makeConn(i, room) {
  if (cfg.target === "kirimin") return kiriminConn(cfg.urls[i]);
  if (cfg.target === "channels") return channelsConn(`${cfg.base}/ws/chat/${room}/`);
  return socketioConn(cfg.base, room);
}

async function openAll(conns, concurrency) {
  let next = 0, failed = 0;
  const worker = async () => {
    while (next < conns.length) {
      const c = conns[next++];
      try { await c.open(); } catch { failed++; c.failed = true; }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function sample(values, max = 20000) {
  if (values.length <= max) return values;
  const step = values.length / max;
  return Array.from({ length: max }, (_, i) => values[Math.floor(i * step)]);
}

// --- scenarios ------------------------------------------------------------------------------
async function fanout() {
  const R = cfg.members;
  const conns = Array.from({ length: R }, (_, i) => makeConn(i, "room"));
  const failed = await openAll(conns, 100);
  const target = cfg.target === "kirimin" ? { groupid: cfg.groupid } : undefined;
  const deliveries = [];
  const count = new Map(), last = new Map(), sentAt = new Map();
  conns.forEach((c, i) => {
    if (i === 0) return;  // the sender's own copy is not a delivery
    c.onPayload = (p) => {
      const lat = now() - p.t;
      if (lat > 5000) return;  // later than 5 s counts as lost, as in the reference runs
      deliveries.push(lat);
      count.set(p.s, (count.get(p.s) || 0) + 1);
      last.set(p.s, Math.max(last.get(p.s) || 0, lat));
    };
  });
  await sleep(500);
  const total = Math.round(cfg.rate * cfg.duration);
  const start = now();
  for (let s = 0; s < total; s++) {
    const due = start + (s * 1000) / cfg.rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    sentAt.set(s, now());
    conns[0].send(JSON.stringify({ s, t: now(), f: 0 }), target);
  }
  const receivers = R - 1 - failed;
  const expected = total * receivers;
  const deadline = now() + 5000;
  while (deliveries.length < expected && now() < deadline) await sleep(50);
  const lastMember = [];
  for (let s = 0; s < total; s++) lastMember.push((count.get(s) || 0) >= receivers ? last.get(s) : 5000);
  const per = [...deliveries].sort((a, b) => a - b);
  lastMember.sort((a, b) => a - b);
  conns.forEach((c) => c.close());
  return {
    sent: total, members: R, failed_connects: failed, expected, delivered: deliveries.length,
    delivered_pct: (100 * deliveries.length) / Math.max(1, expected),
    p50_last_ms: pct(lastMember, 50), p99_last_ms: pct(lastMember, 99),
    p50_ms: pct(per, 50), p99_ms: pct(per, 99), samples: sample(per),
  };
}

async function throughput() {
  const P = cfg.pairs;
  const conns = Array.from({ length: 2 * P }, (_, i) => makeConn(i, `p${i >> 1}`));
  const failed = await openAll(conns, 100);
  const W = cfg.window;
  const inflight = new Array(2 * P).fill(0);
  const latencies = [];
  let delivered = 0, sent = 0, running = true;
  const partner = (i) => i ^ 1;
  const sendFrom = (i) => {
    inflight[i]++; sent++;
    const target = cfg.target === "kirimin" ? { to: cfg.user_ids[partner(i)] } : undefined;
    conns[i].send(JSON.stringify({ s: sent, t: now(), f: i }), target);
  };
  conns.forEach((c, i) => {
    c.onPayload = (p) => {
      if (p.f === i) return;  // our own copy (Kirimin sends DMs to both users; socket.io rooms echo)
      delivered++;
      latencies.push(now() - p.t);
      inflight[p.f]--;
      if (running) sendFrom(p.f);
    };
  });
  await sleep(300);
  const start = now();
  for (let i = 0; i < 2 * P; i++) for (let w = 0; w < W; w++) sendFrom(i);
  await sleep(cfg.duration * 1000);
  running = false;
  const elapsed = (now() - start) / 1000;
  const deliveredInWindow = delivered;
  const deadline = now() + 5000;
  while (delivered < sent && now() < deadline) await sleep(50);
  latencies.sort((a, b) => a - b);
  conns.forEach((c) => c.close());
  return {
    pairs: P, window: W, failed_connects: failed, sent, delivered_total: delivered,
    lost: sent - delivered, msgs_per_s: deliveredInWindow / elapsed,
    p50_ms: pct(latencies, 50), p99_ms: pct(latencies, 99), samples: sample(latencies),
  };
}

async function connect() {
  const N = cfg.sockets;
  const conns = Array.from({ length: N }, (_, i) => makeConn(i, "room"));
  const start = now();
  const failed = await openAll(conns, cfg.concurrency || 100);
  const elapsed = (now() - start) / 1000;
  process.stdout.write("READY\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  conns.forEach((c) => c.close());
  return { sockets: N, failed, seconds: elapsed, conns_per_s: (N - failed) / elapsed };
}

async function likes() {
  // Each client toggles its like on one post as fast as it can, then ends liked.
  const url = `${cfg.base}/api/posts/${cfg.post}/like/`;
  const latencies = [];
  let ops = 0, errors = 0;
  const call = async (token, method) => {
    const t = now();
    const res = await fetch(url, { method, headers: { Authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    latencies.push(now() - t);
    if (res.ok) ops++; else errors++;
  };
  const start = now();
  const end = start + cfg.duration * 1000;
  await Promise.all(cfg.tokens.map(async (token) => {
    while (now() < end) { await call(token, "POST"); await call(token, "DELETE"); }
    await call(token, "POST");
  }));
  const elapsed = (now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { clients: cfg.tokens.length, ops, errors, ops_per_s: ops / elapsed,
           p50_ms: pct(latencies, 50), p99_ms: pct(latencies, 99) };
}

const scenarios = { fanout, throughput, connect, likes };
const result = await scenarios[cfg.scenario]();
// Exit only once the (large) line is flushed: writes to a pipe are asynchronous.
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
