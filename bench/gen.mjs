// Kirimin benchmark load generator: one Node process drives every server under test
// the same way, so the report compares like with like.
//
//   node gen.mjs config.json      -> prints "RESULT {json}" on stdout
//
// Scenarios: fanout (one sender, a room of R), throughput (pairs with a window of
// unacknowledged messages), connect (N sockets as fast as possible, held until stdin
// says go), likes (REST). Targets: kirimin (ws + tickets), channels (the tutorial consumer),
// socketio.
//
// Delivery is counted per (message, recipient socket), never per frame: each message body
// carries its sender `f` and the sender's sequence number `s`, and each pair is delivered once,
// never (lost), late, or more than once (duplicates), reported separately (see "delivery
// accounting" below).
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
  const c = { onPayload: null, errors: 0 };
  c.open = () => new Promise((resolve, reject) => {
    const ws = (c.ws = new WebSocket(url, { perMessageDeflate: offerDeflate }));
    let first = true;
    ws.on("message", (data) => {
      const frame = JSON.parse(data);
      if (first) { first = false; return frame.type === "connection" ? resolve() : reject(new Error(data)); }
      // Frames carry more than these fields (e.g. `seq` and `streams` on stateful ones): only
      // `type` and, on `sendmessage`, the `message` text are read.
      if (frame.type === "error") c.errors++;  // a refused send (its message is then lost)
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

// --- delivery accounting -------------------------------------------------------------------
// Counted per (message, recipient), not per frame: a duplicate must not cancel a loss. Each
// recipient socket has one byte per message of its sender(s), indexed by the message's sequence
// number (the `s` in the body the generator sends): the low 7 bits count the copies that arrived
// (saturating at 127), LATE_BIT marks a first copy that came later than LATE_MS after sending.
// 1000 members x 1000 messages is 1 MB.
const LATE_MS = 5000;
const LATE_BIT = 0x80, COPIES = 0x7f;

// What one recipient's arrival is: "first" (on time), "late" (first copy, after LATE_MS),
// "duplicate" (a later copy of a pair already seen); `ooo` is set on a first copy that came after
// a larger sequence number of the same sender.
function arrive(marks, maxSeen, slot, seq, lat) {
  const m = marks[seq];
  if (m & COPIES) {
    if ((m & COPIES) < COPIES) marks[seq] = m + 1;
    return { kind: "duplicate", ooo: false };
  }
  const late = lat > LATE_MS;
  marks[seq] = 1 | (late ? LATE_BIT : 0);
  const ooo = seq < maxSeen[slot];
  if (!ooo) maxSeen[slot] = seq;
  return { kind: late ? "late" : "first", ooo };
}

// Sums over every recipient's marks: pairs delivered on time, late, never, and extra copies.
function tally(marksList, lengths) {
  let onTime = 0, late = 0, never = 0, duplicates = 0, duplicatedPairs = 0;
  marksList.forEach((marks, k) => {
    for (let s = 0; s < lengths[k]; s++) {
      const m = marks[s], copies = m & COPIES;
      if (!copies) { never++; continue; }
      if (m & LATE_BIT) late++; else onTime++;
      if (copies > 1) { duplicates += copies - 1; duplicatedPairs++; }
    }
  });
  return { onTime, late, never, duplicates, duplicatedPairs };
}

// `error` frames Kirimin answered (other targets answer none).
const serverErrors = (conns) => conns.reduce((n, c) => n + (c.errors || 0), 0);

// Time for copies still on the wire once every pair has arrived once (duplicates come after).
const SETTLE_MS = cfg.settle_ms ?? 300;

// --- scenarios ------------------------------------------------------------------------------
async function fanout() {
  const R = cfg.members;
  const conns = Array.from({ length: R }, (_, i) => makeConn(i, "room"));
  const failed = await openAll(conns, 100);
  const target = cfg.target === "kirimin" ? { groupid: cfg.groupid } : undefined;
  const total = Math.round(cfg.rate * cfg.duration);
  // The recipients: every member but the sender (its own copy is not a delivery) that connected.
  const recipients = conns.map((c, i) => i).filter((i) => i !== 0 && !conns[i].failed);
  const receivers = recipients.length;
  const marks = recipients.map(() => new Uint8Array(total));
  const maxSeen = new Int32Array(receivers).fill(-1);
  const deliveries = [];                               // latency of each on-time first copy
  const reached = new Uint32Array(total);              // recipients that got message s on time
  const last = new Float64Array(total);                // the latest of those latencies
  let arrived = 0, outOfOrder = 0, unexpected = 0;
  recipients.forEach((i, k) => {
    conns[i].onPayload = (p) => {
      const lat = now() - p.t;
      if (p.f !== 0 || !Number.isInteger(p.s) || p.s < 0 || p.s >= total) { unexpected++; return; }
      const { kind, ooo } = arrive(marks[k], maxSeen, k, p.s, lat);
      if (ooo) outOfOrder++;
      if (kind === "duplicate") return;
      arrived++;
      if (kind === "late") return;  // later than 5 s counts as lost, as in the reference runs
      deliveries.push(lat);
      reached[p.s]++;
      if (lat > last[p.s]) last[p.s] = lat;
    };
  });
  await sleep(500);
  const start = now();
  for (let s = 0; s < total; s++) {
    const due = start + (s * 1000) / cfg.rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    conns[0].send(JSON.stringify({ s, t: now(), f: 0 }), target);
  }
  const expected = total * receivers;
  const deadline = now() + LATE_MS;
  while (arrived < expected && now() < deadline) await sleep(50);
  if (arrived >= expected) await sleep(SETTLE_MS);
  const t = tally(marks, marks.map(() => total));
  const lastMember = [];
  for (let s = 0; s < total; s++) lastMember.push(reached[s] >= receivers ? last[s] : LATE_MS);
  const per = [...deliveries].sort((a, b) => a - b);
  // The same without the first second's messages: a cold start (the server's and this
  // generator's first passes) weighs on the two or three slowest of 200 otherwise.
  const warm = lastMember.slice(Math.round(cfg.rate)).sort((a, b) => a - b);
  lastMember.sort((a, b) => a - b);
  conns.forEach((c) => c.close());
  return {
    sent: total, members: R, failed_connects: failed, expected, delivered: t.onTime,
    delivered_pct: (100 * t.onTime) / Math.max(1, expected),
    lost: t.never + t.late, late: t.late, duplicates: t.duplicates, duplicated_pairs: t.duplicatedPairs,
    out_of_order: outOfOrder, unexpected, server_errors: serverErrors(conns),
    p50_last_ms: pct(lastMember, 50), p99_last_ms: pct(lastMember, 99), p99_last_warm_ms: pct(warm, 99),
    p50_ms: pct(per, 50), p99_ms: pct(per, 99), samples: sample(per),
  };
}

async function throughput() {
  const P = cfg.pairs;
  const conns = Array.from({ length: 2 * P }, (_, i) => makeConn(i, `p${i >> 1}`));
  const failed = await openAll(conns, 100);
  const W = cfg.window;
  const partner = (i) => i ^ 1;
  const inflight = new Array(2 * P).fill(0);
  // Each socket sends numbered messages to its partner only: the partner's marks are indexed by
  // the sender's own sequence number, and grow as it sends.
  const sentBy = new Uint32Array(2 * P);
  const marks = Array.from({ length: 2 * P }, () => new Uint8Array(1024));
  const maxSeen = new Int32Array(2 * P).fill(-1);
  const latencies = [];
  let delivered = 0, sent = 0, outOfOrder = 0, unexpected = 0, running = true;
  const sendFrom = (i) => {
    const n = sentBy[i]++, to = partner(i);
    if (n >= marks[to].length) {
      const grown = new Uint8Array(marks[to].length * 2);
      grown.set(marks[to]);
      marks[to] = grown;
    }
    inflight[i]++; sent++;
    const target = cfg.target === "kirimin" ? { to: cfg.user_ids[to] } : undefined;
    conns[i].send(JSON.stringify({ s: n, t: now(), f: i }), target);
  };
  conns.forEach((c, i) => {
    c.onPayload = (p) => {
      if (p.f === i) return;  // our own copy (Kirimin sends DMs to both users; socket.io rooms echo)
      const lat = now() - p.t;
      if (p.f !== partner(i) || !Number.isInteger(p.s) || p.s < 0 || p.s >= sentBy[p.f]) { unexpected++; return; }
      const { kind, ooo } = arrive(marks[i], maxSeen, i, p.s, lat);
      if (ooo) outOfOrder++;
      if (kind === "duplicate") return;  // neither a delivery nor a free slot in the window
      // S2 has no deadline: a late first copy is delivered (and reported as late too).
      delivered++;
      latencies.push(lat);
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
  const deadline = now() + LATE_MS;
  while (delivered < sent && now() < deadline) await sleep(50);
  if (delivered >= sent) await sleep(SETTLE_MS);
  const t = tally(marks, Array.from(sentBy, (_, i) => sentBy[partner(i)]));
  latencies.sort((a, b) => a - b);
  conns.forEach((c) => c.close());
  return {
    pairs: P, window: W, failed_connects: failed, sent, delivered_total: t.onTime + t.late,
    delivered_pct: (100 * (t.onTime + t.late)) / Math.max(1, sent),
    lost: t.never, late: t.late, duplicates: t.duplicates, duplicated_pairs: t.duplicatedPairs,
    out_of_order: outOfOrder, unexpected, server_errors: serverErrors(conns), msgs_per_s: deliveredInWindow / elapsed,
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
