// The behavioural suite: everything a socket.io-client user can observe of a
// server built on edged/core, defined once and run per transport mode by the
// files in test/interop/.
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ack, bytes, Clients, eventsBeforeMarker, MODES, record, startServer, TEST_TIMEOUT_MS, unique, waitEvent, waitMatching } from "./harness.mjs";

const SOCKET_ID = /^[A-Za-z0-9_-]{20}$/;

/** Defines the behavioural suite for one transport mode ("polling", "websocket" or "upgrade"). */
export function defineBehaviourSuite(mode) {
  describe(`behaviour over ${mode} (${MODES[mode].transports.join(" then ")})`, () => {
    let server;
    let clients;
    const test = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn);

    before(async () => {
      server = await startServer();
      clients = new Clients(server, mode);
    });
    afterEach(() => clients.cleanup());
    after(async () => {
      clients.cleanup();
      const { code } = await server.stop();
      assert.equal(code, 0, `test server exit code\n${server.stderrTail()}`);
    });

    describe("connection and namespaces", () => {
      test("connects to the main namespace with a 20-character id, over the expected transport on both sides", async () => {
        const s = await clients.connect();
        assert.match(s.id, SOCKET_ID);
        const [me] = await ack(s, "whoami");
        assert.equal(me.id, s.id);
        assert.equal(me.nsp, "/");
        assert.deepEqual(me.rooms, [s.id]);
        assert.equal(me.recovered, false);
        assert.equal(me.transport, MODES[mode].expected);
        assert.notEqual(s.recovered, true, "a first connection is not recovered");
      });

      test("static namespaces are multiplexed on one connection, each with its own id", async () => {
        const m = clients.manager();
        const main = m.socket("/");
        const chat = m.socket("/chat");
        await Promise.all([clients.connected(main), clients.connected(chat)]);
        assert.notEqual(main.id, chat.id);
        assert.match(chat.id, SOCKET_ID);
        const [[a], [b]] = await Promise.all([ack(main, "whoami"), ack(chat, "whoami")]);
        assert.deepEqual([a.nsp, a.id], ["/", main.id]);
        assert.deepEqual([b.nsp, b.id], ["/chat", chat.id]);
        assert.equal(main.io.engine, chat.io.engine, "one Engine.IO connection");
      });

      test("an unknown namespace is refused with connect_error \"Invalid namespace\"", async () => {
        const s = clients.socket("/no-such-namespace");
        const [err] = await waitEvent(s, "connect_error", { failOn: ["connect"] });
        assert.equal(err.message, "Invalid namespace");
        assert.equal(err.data, undefined);
        assert.equal(s.connected, false);
      });

      test("namespace middleware refuses with message and data, and accepts the right auth", async () => {
        const refused = clients.socket("/private", { auth: { token: "wrong" } });
        const [err] = await waitEvent(refused, "connect_error", { failOn: ["connect"] });
        assert.equal(err.message, "not authorized");
        assert.deepEqual(err.data, { code: 401, reason: "bad token" });

        const plain = clients.socket("/private", { auth: { token: "plain" } });
        const [err2] = await waitEvent(plain, "connect_error", { failOn: ["connect"] });
        assert.equal(err2.message, "plain refusal");
        assert.equal(err2.data, undefined);

        const ok = await clients.connect("/private", { auth: { token: "secret" } });
        const [me] = await ack(ok, "whoami");
        assert.equal(me.nsp, "/private");
        assert.equal(me.id, ok.id);
      });

      test("a dynamic namespace (regular expression) is created on demand and announced as new_namespace", async () => {
        const observer = await clients.connect("/observer");
        const name = unique("/dyn-");
        const announced = waitMatching(observer, "new-namespace", (n) => n === name);
        const s = await clients.connect(name);
        assert.deepEqual(await announced, [name]);
        const [me] = await ack(s, "whoami");
        assert.equal(me.nsp, name);
        const [names] = await ack(s, "namespaces");
        assert.ok(names.includes(name), `${name} listed among ${names}`);
        // a second client joins the same child namespace
        const again = await clients.connect(name);
        const [me2] = await ack(again, "whoami");
        assert.equal(me2.nsp, name);
        // a name outside the pattern is not a namespace
        const outside = clients.socket("/dyn-UPPER");
        const [err] = await waitEvent(outside, "connect_error", { failOn: ["connect"] });
        assert.equal(err.message, "Invalid namespace");
      });

      test("the middleware of a dynamic parent applies to its children, with data", async () => {
        const name = unique("/dyn-");
        const s = clients.socket(name, { auth: { reject: true } });
        const [err] = await waitEvent(s, "connect_error", { failOn: ["connect"] });
        assert.equal(err.message, "dynamic refusal");
        assert.deepEqual(err.data, { nsp: name });
      });

      test("a dynamic namespace decided by a function sees the auth payload", async () => {
        const name = unique("/fn-");
        const ok = await clients.connect(name, { auth: { allow: true } });
        const [me] = await ack(ok, "whoami");
        assert.equal(me.nsp, name);
        const refused = clients.socket(unique("/fn-"), { auth: { allow: false } });
        const [err] = await waitEvent(refused, "connect_error", { failOn: ["connect"] });
        assert.equal(err.message, "Invalid namespace");
      });
    });

    describe("auth and handshake", () => {
      test("the auth payload reaches the server unchanged", async () => {
        const auth = { token: "abc", n: 1.5, flag: true, nested: { list: [1, "two", null] } };
        const s = await clients.connect("/", { auth });
        const [hs] = await ack(s, "handshake");
        assert.deepEqual(hs.auth, auth);
      });

      test("the handshake has the Node.js shapes: query strings, lower-case headers, address, time, issued, url", async () => {
        const before = Date.now();
        const s = await clients.connect("/", { query: { foo: "bar", n: "1" }, extraHeaders: { "X-Custom-Header": "hello" } });
        const after = Date.now();
        const [hs] = await ack(s, "handshake");
        assert.equal(hs.query.foo, "bar");
        assert.equal(hs.query.n, "1");
        assert.equal(hs.query.EIO, "4");
        assert.equal(hs.query.transport, MODES[mode].initial);
        assert.equal(hs.headers["x-custom-header"], "hello");
        assert.equal(hs.headers.host, server.host);
        for (const [k, v] of Object.entries(hs.headers)) {
          assert.equal(k, k.toLowerCase(), `header name ${k} is lower-case`);
          assert.equal(typeof v, "string", `header ${k} is a string`);
        }
        assert.equal(hs.address, "127.0.0.1");
        assert.equal(hs.xdomain, false);
        assert.equal(hs.secure, false);
        assert.equal(typeof hs.issued, "number");
        assert.ok(hs.issued >= before - 1000 && hs.issued <= after + 1000, `issued ${hs.issued} within the connection time`);
        assert.match(hs.time, /^\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)$/);
        assert.ok(Math.abs(Date.parse(hs.time) - hs.issued) < 1000, `time ${hs.time} is the issued instant`);
        assert.ok(hs.url.startsWith("/socket.io/?"), hs.url);
        assert.match(hs.url, /[?&]EIO=4(&|$)/);
        assert.match(hs.url, /[?&]foo=bar(&|$)/);
        assert.deepEqual(hs.auth, {});
      });
    });

    describe("acknowledgements and binary", () => {
      let one; // a connected socket for each test, closed by afterEach
      beforeEach(async () => {
        one = await clients.connect();
      });

      test("client emit with ack: the server answers JSON and binary arguments", async () => {
        const blob = Buffer.from([0, 1, 2, 253, 254, 255]);
        const answer = await ack(one, "echo", "text", 42, { a: [1, null, true] }, blob, { nested: { bin: Buffer.from("hi") } });
        assert.equal(answer.length, 5);
        assert.deepEqual(answer.slice(0, 3), ["text", 42, { a: [1, null, true] }]);
        assert.deepEqual(bytes(answer[3]), blob);
        assert.deepEqual(bytes(answer[4].nested.bin), Buffer.from("hi"));
      });

      test("an ack with no arguments reaches the client as a call with none", async () => {
        assert.deepEqual(await ack(one, "echo"), []);
      });

      test("a large binary argument survives the round trip (base64 on polling, binary frames on websocket)", async () => {
        const big = Buffer.alloc(400_000);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
        const [back] = await ack(one, "echo", big);
        assert.ok(bytes(back).equals(big), "the echoed bytes differ");
      });

      test("many events of one client are handled, and acknowledged, in order", async () => {
        const order = [];
        const all = [];
        for (let i = 0; i < 200; i++) all.push(ack(one, "echo", i).then(([n]) => order.push(n)));
        await Promise.all(all);
        assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
      });

      test("the server decodes binary in Go and acks with new binary", async () => {
        const input = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const [rev, meta] = await ack(one, "binary-reverse", input);
        assert.deepEqual(bytes(rev), Buffer.from(input).reverse());
        assert.deepEqual(meta, { length: 256 });
      });

      test("server emit with ack: the client answers with binary and the server reads it", async () => {
        const s = one;
        let asked;
        s.on("question", (text, bin, cb) => {
          asked = [text, bytes(bin)];
          cb(Buffer.from("answer-bytes"), "and text");
        });
        const [result] = await ack(s, "ask", { event: "question", args: ["what?", Buffer.from([9, 8, 7])] });
        assert.deepEqual(asked, ["what?", Buffer.from([9, 8, 7])]);
        assert.equal(result.error, undefined, result.error);
        assert.equal(result.socketId, s.id);
        assert.equal(result.answer.length, 2);
        assert.deepEqual(bytes(result.answer[0]), Buffer.from("answer-bytes"));
        assert.equal(result.answer[1], "and text");
      });

      test("server ack timeout: a client that never answers gives \"operation has timed out\"", async () => {
        const s = one;
        const received = waitEvent(s, "ignored");
        s.on("ignored", () => {}); // never calls the ack
        const [result] = await ack(s, "ask", { event: "ignored", args: [1], timeoutMs: 200 });
        assert.equal((await received)[0], 1, "the client got the event");
        assert.deepEqual(result, { error: "operation has timed out" });
      });

      test("client ack timeout: an event the server does not acknowledge times out on the client", async () => {
        const s = one;
        await assert.rejects(s.timeout(200).emitWithAck("nobody-handles-this", 1), { message: "operation has timed out" });
        // the connection is still fine
        assert.deepEqual(await ack(s, "echo", "still here"), ["still here"]);
      });

      test("broadcast with acks: one answer per client, and the answers so far on timeout", async () => {
        const room = unique("acks-");
        const caller = one;
        const [a, b, c] = await Promise.all([clients.connect(), clients.connect(), clients.connect()]);
        a.on("poll", (q, cb) => cb(`a:${q}`));
        b.on("poll", (q, cb) => cb(`b:${q}`));
        c.on("poll", () => {}); // silent
        await Promise.all([ack(a, "join", room), ack(b, "join", room)]);
        const [all] = await ack(caller, "ask-room", { to: room, event: "poll", args: ["q1"], timeoutMs: 3000 });
        assert.equal(all.error, null);
        assert.deepEqual(all.answers, [
          { socketId: a.id, args: ["a:q1"] },
          { socketId: b.id, args: ["b:q1"] },
        ].sort((x, y) => (x.socketId < y.socketId ? -1 : 1)));
        await ack(c, "join", room);
        const [partial] = await ack(caller, "ask-room", { to: room, event: "poll", args: ["q2"], timeoutMs: 300 });
        assert.equal(partial.error, "operation has timed out");
        assert.deepEqual(partial.answers.map((x) => x.socketId).sort(), [a.id, b.id].sort());
      });

      test("send() and the message event work both ways", async () => {
        const s = one;
        const got = waitEvent(s, "message");
        s.send("hi", { n: 1 });
        assert.deepEqual(await got, ["server got", "hi", { n: 1 }]);
      });

      test("a once handler answers the first event only", async () => {
        const s = one;
        assert.deepEqual(await ack(s, "once"), ["first"]);
        let second = false;
        s.emit("once", () => (second = true));
        // acks come back in the order the server handled the events
        assert.deepEqual(await ack(s, "echo", "marker"), ["marker"]);
        assert.equal(second, false, "the second event was acknowledged");
      });

      test("server emit without ack carries binary to the client", async () => {
        const s = one;
        const got = waitEvent(s, "gift");
        const [err] = await ack(s, "emit-back", "gift", "label", Buffer.from([1, 2, 3]), { deep: [Buffer.from([4])] });
        assert.equal(err, null);
        const [label, bin, obj] = await got;
        assert.equal(label, "label");
        assert.deepEqual(bytes(bin), Buffer.from([1, 2, 3]));
        assert.deepEqual(bytes(obj.deep[0]), Buffer.from([4]));
      });
    });

    describe("rooms and broadcast filters", () => {
      test("join and leave are reflected in the socket's rooms (its own id room included)", async () => {
        const s = await clients.connect();
        const [r1, r2] = [unique("r1-"), unique("r2-")];
        const [joined] = await ack(s, "join", [r1, r2]);
        assert.deepEqual(joined, [s.id, r1, r2].sort());
        const [left] = await ack(s, "leave", r1);
        assert.deepEqual(left, [s.id, r2].sort());
      });

      test("a broadcast to a room reaches its members only", async () => {
        const room = unique("room-");
        const [a, b, outsider, sender] = await Promise.all([clients.connect(), clients.connect(), clients.connect(), clients.connect()]);
        await Promise.all([ack(a, "join", room), ack(b, "join", room)]);
        const marker = unique("m-");
        const seen = [a, b, outsider, sender].map((s) => eventsBeforeMarker(s, "news", marker));
        const [err] = await ack(sender, "broadcast", { to: room, event: "news", args: ["hello", Buffer.from([7])], marker });
        assert.equal(err, null);
        const [ga, gb, go, gs] = await Promise.all(seen);
        for (const got of [ga, gb]) {
          assert.equal(got.length, 1);
          assert.equal(got[0][0], "hello");
          assert.deepEqual(bytes(got[0][1]), Buffer.from([7]));
        }
        assert.deepEqual(go, [], "the socket outside the room got the event");
        assert.deepEqual(gs, [], "the sender outside the room got the event");
      });

      test("except excludes the sockets of a room", async () => {
        const vip = unique("vip-");
        const [a, b, c] = await Promise.all([clients.connect(), clients.connect(), clients.connect()]);
        await ack(b, "join", vip);
        const marker = unique("m-");
        const seen = [a, b, c].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(a, "broadcast", { except: vip, event: "news", args: ["not for vips"], marker });
        const [ga, gb, gc] = await Promise.all(seen);
        assert.deepEqual(ga, [["not for vips"]]);
        assert.deepEqual(gb, [], "the excluded socket got the event");
        assert.deepEqual(gc, [["not for vips"]]);
      });

      test("socket.broadcast and socket.to(room) exclude the sender", async () => {
        const room = unique("room-");
        const [a, b, c] = await Promise.all([clients.connect(), clients.connect(), clients.connect()]);
        await Promise.all([ack(a, "join", room), ack(b, "join", room)]);
        let marker = unique("m-");
        let seen = [a, b, c].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(a, "broadcast", { from: "socket", event: "news", args: ["to all but a"], marker });
        let [ga, gb, gc] = await Promise.all(seen);
        assert.deepEqual(ga, [], "the sender got its own broadcast");
        assert.deepEqual(gb, [["to all but a"]]);
        assert.deepEqual(gc, [["to all but a"]]);

        marker = unique("m-");
        seen = [a, b, c].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(a, "broadcast", { from: "socket", to: room, event: "news", args: ["room but a"], marker });
        [ga, gb, gc] = await Promise.all(seen);
        assert.deepEqual(ga, [], "the sender got its own room broadcast");
        assert.deepEqual(gb, [["room but a"]]);
        assert.deepEqual(gc, [], "a socket outside the room got the event");
      });

      test("a broadcast to several rooms reaches a socket in more than one of them once", async () => {
        const [r1, r2, r3] = [unique("r1-"), unique("r2-"), unique("r3-")];
        const [both, onlyR2, inR3, none] = await Promise.all([clients.connect(), clients.connect(), clients.connect(), clients.connect()]);
        await Promise.all([ack(both, "join", [r1, r2]), ack(onlyR2, "join", r2), ack(inR3, "join", [r3, r1])]);
        const marker = unique("m-");
        const seen = [both, onlyR2, inR3, none].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(none, "broadcast", { to: [r1, r2], except: r3, event: "news", args: [1], marker });
        const [gBoth, gR2, gR3, gNone] = await Promise.all(seen);
        assert.deepEqual(gBoth, [[1]], "exactly once");
        assert.deepEqual(gR2, [[1]]);
        assert.deepEqual(gR3, [], "except wins over to");
        assert.deepEqual(gNone, []);
      });
      test("a broadcast in one namespace does not reach another namespace of the same connection", async () => {
        const m = clients.manager();
        const [main, chat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(main), clients.connected(chat)]);
        const inChat = record(chat, "news");
        const marker = unique("m-");
        const seen = eventsBeforeMarker(main, "news", marker);
        await ack(main, "broadcast", { event: "news", args: ["main only"], marker });
        assert.deepEqual(await seen, [["main only"]]);
        // one connection: had "/chat" got the broadcast, it would have come before this ack
        assert.deepEqual(await ack(chat, "echo", "sync"), ["sync"]);
        assert.deepEqual(inChat, []);
      });
    });

    describe("volatile", () => {
      test("a volatile event reaches a client whose transport is idle", async () => {
        const s = await clients.connect();
        const got = record(s, "volatile");
        const [err] = await ack(s, "volatile-idle");
        assert.equal(err, null);
        assert.deepEqual(got, [["idle"]]);
      });

      test("a volatile event emitted while the transport is busy writing is dropped", async () => {
        const s = await clients.connect();
        const got = record(s, "burst");
        // the first event is large enough to keep the transport busy when the volatile one is emitted
        await ack(s, "volatile-busy", 256 << 10);
        assert.deepEqual(got.map((args) => args[0]), ["first", "last"]);
      });
    });

    describe("utility methods", () => {
      test("socket.data and fetchSockets (id, rooms, data, handshake) with room filters", async () => {
        const team = unique("team-");
        const [alice, bob] = await Promise.all([clients.connect("/", { auth: { who: "alice" } }), clients.connect()]);
        await ack(alice, "set-data", { name: "alice", level: 3 });
        await ack(alice, "join", team);
        const [{ sockets }] = await ack(bob, "fetch-sockets", { in: team });
        assert.equal(sockets.length, 1);
        const [found] = sockets;
        assert.equal(found.id, alice.id);
        assert.deepEqual(found.rooms, [alice.id, team].sort());
        assert.deepEqual(found.data, { name: "alice", level: 3 });
        assert.deepEqual(found.handshake.auth, { who: "alice" });
        assert.equal(found.handshake.address, "127.0.0.1");
        const [{ sockets: all }] = await ack(bob, "fetch-sockets", {});
        const ids = all.map((x) => x.id);
        assert.ok(ids.includes(alice.id) && ids.includes(bob.id), "both sockets fetched");
        const [{ sockets: others }] = await ack(bob, "fetch-sockets", { except: team });
        assert.ok(!others.some((x) => x.id === alice.id), "except filters fetchSockets");
        assert.ok(others.some((x) => x.id === bob.id));
      });

      test("a fetched remote socket can be emitted to", async () => {
        const team = unique("team-");
        const [alice, bob] = await Promise.all([clients.connect(), clients.connect()]);
        await ack(alice, "join", team);
        const got = waitEvent(alice, "remote-hello");
        const [count] = await ack(bob, "remote-emit", { in: team, event: "remote-hello", args: ["from bob", Buffer.from([5])] });
        assert.equal(count, 1);
        const [text, bin] = await got;
        assert.equal(text, "from bob");
        assert.deepEqual(bytes(bin), Buffer.from([5]));
      });

      test("socketsJoin, socketsLeave and allSockets with filters", async () => {
        const [x, y, z] = [unique("x-"), unique("y-"), unique("z-")];
        const [a, b, c] = await Promise.all([clients.connect(), clients.connect(), clients.connect()]);
        await Promise.all([ack(a, "join", x), ack(b, "join", [x, z])]);
        await ack(c, "sockets-join", { in: x, rooms: y });
        assert.deepEqual((await ack(c, "all-sockets", { in: y }))[0], [a.id, b.id].sort());
        assert.ok((await ack(a, "whoami"))[0].rooms.includes(y));
        assert.ok(!(await ack(c, "whoami"))[0].rooms.includes(y));

        let marker = unique("m-");
        let seen = [a, b, c].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(c, "broadcast", { to: y, event: "news", args: ["to y"], marker });
        let [ga, gb, gc] = await Promise.all(seen);
        assert.deepEqual([ga, gb, gc], [[["to y"]], [["to y"]], []]);

        await ack(c, "sockets-leave", { in: y, except: z, rooms: y });
        assert.deepEqual((await ack(c, "all-sockets", { in: y }))[0], [b.id]);
        assert.deepEqual((await ack(c, "all-sockets", { in: [x, y], except: z }))[0], [a.id]);
        marker = unique("m-");
        seen = [a, b, c].map((s) => eventsBeforeMarker(s, "news", marker));
        await ack(c, "broadcast", { to: y, event: "news", args: ["to y again"], marker });
        [ga, gb, gc] = await Promise.all(seen);
        assert.deepEqual([ga, gb, gc], [[], [["to y again"]], []]);
      });

      test("disconnectSockets(false) disconnects the matching sockets of the namespace only", async () => {
        const room = unique("kick-");
        const m = clients.manager();
        const [victim, victimChat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(victim), clients.connected(victimChat)]);
        const bystander = await clients.connect();
        await ack(victim, "join", room);
        const id = victim.id;
        const reason = waitEvent(victim, "disconnect");
        await ack(bystander, "disconnect-sockets", { in: room });
        assert.equal((await reason)[0], "io server disconnect");
        assert.equal((await server.disconnectReport(id)).reason, "server namespace disconnect");
        // the other namespace of the same connection and the other client stay connected
        assert.deepEqual(await ack(victimChat, "echo", "alive"), ["alive"]);
        assert.deepEqual(await ack(bystander, "echo", "alive"), ["alive"]);
        assert.equal(victimChat.connected, true);
      });

      test("disconnectSockets(true) closes the whole connection of the matching sockets", async () => {
        const room = unique("kick-");
        const m = clients.manager();
        const [victim, victimChat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(victim), clients.connected(victimChat)]);
        const bystander = await clients.connect();
        await ack(victim, "join", room);
        const [id, chatId] = [victim.id, victimChat.id];
        const reasons = Promise.all([waitEvent(victim, "disconnect"), waitEvent(victimChat, "disconnect")]);
        await ack(bystander, "disconnect-sockets", { in: room, close: true });
        const [[r1], [r2]] = await reasons;
        // as with the Node.js server: every namespace gets its DISCONNECT packet before the connection closes
        assert.deepEqual([r1, r2], ["io server disconnect", "io server disconnect"]);
        assert.equal((await server.disconnectReport(id)).reason, "server namespace disconnect");
        assert.equal((await server.disconnectReport(chatId, "/chat")).reason, "server namespace disconnect");
        assert.deepEqual(await ack(bystander, "echo", "alive"), ["alive"]);
      });
    });

    describe("disconnect reasons", () => {
      test("client disconnect(): \"io client disconnect\" on the client, \"client namespace disconnect\" on the server, rooms left", async () => {
        const observer = await clients.connect("/observer");
        const s = await clients.connect();
        const room = unique("room-");
        await ack(s, "join", room);
        const id = s.id;
        const reported = waitMatching(observer, "disconnected", (r) => r.id === id);
        const reason = waitEvent(s, "disconnect");
        s.disconnect();
        assert.equal((await reason)[0], "io client disconnect");
        const [r] = await reported;
        assert.equal(r.reason, "client namespace disconnect");
        assert.equal(r.nsp, "/");
        assert.deepEqual(r.roomsAtDisconnecting, [id, room].sort(), "rooms visible while disconnecting");
        assert.deepEqual(r.roomsAfter, [], "every room left after disconnect");
      });

      test("server Disconnect(false): \"io server disconnect\", other namespaces of the connection stay", async () => {
        const m = clients.manager();
        const [main, chat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(main), clients.connected(chat)]);
        const id = main.id;
        const reason = waitEvent(main, "disconnect");
        main.emit("server-disconnect-me", { close: false });
        assert.equal((await reason)[0], "io server disconnect");
        assert.equal((await server.disconnectReport(id)).reason, "server namespace disconnect");
        assert.deepEqual(await ack(chat, "echo", "still"), ["still"]);
        assert.equal(main.connected, false);
      });

      test("server Disconnect(true): every namespace of the connection is disconnected", async () => {
        const m = clients.manager();
        const [main, chat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(main), clients.connected(chat)]);
        const [idMain, idChat] = [main.id, chat.id];
        const reasons = Promise.all([waitEvent(main, "disconnect"), waitEvent(chat, "disconnect")]);
        main.emit("server-disconnect-me", { close: true });
        const [[r1], [r2]] = await reasons;
        // as with the Node.js server: every namespace gets its DISCONNECT packet before the connection closes
        assert.deepEqual([r1, r2], ["io server disconnect", "io server disconnect"]);
        assert.equal((await server.disconnectReport(idMain)).reason, "server namespace disconnect");
        assert.equal((await server.disconnectReport(idChat, "/chat")).reason, "server namespace disconnect");
      });

      test("the client closes its transport: the server reports \"transport close\"", async () => {
        const s = await clients.connect();
        const id = s.id;
        const reason = waitEvent(s, "disconnect");
        s.io.engine.close();
        assert.equal((await reason)[0], "forced close");
        assert.equal((await server.disconnectReport(id)).reason, "transport close");
      });

      test("the server closes the transport: the client reports \"transport close\", the server \"forced close\"", async () => {
        const s = await clients.connect();
        const id = s.id;
        const reason = waitEvent(s, "disconnect");
        s.emit("cut-transport");
        assert.equal((await reason)[0], "transport close");
        assert.equal((await server.disconnectReport(id)).reason, "forced close");
      });

      test("a malformed packet closes the connection: \"transport close\" on the client, \"parse error\" on the server", async () => {
        const s = await clients.connect();
        const id = s.id;
        const reason = waitEvent(s, "disconnect");
        s.io.engine.write('2["unterminated');
        assert.equal((await reason)[0], "transport close");
        assert.equal((await server.disconnectReport(id)).reason, "parse error");
      });
      test("a protocol violation (a second CONNECT) closes the connection: \"forced server close\" on the server", async () => {
        const s = await clients.connect();
        const id = s.id;
        const reason = waitEvent(s, "disconnect");
        s.io.engine.write("0"); // CONNECT to "/" again, on a connection already in "/"
        assert.equal((await reason)[0], "transport close");
        assert.equal((await server.disconnectReport(id)).reason, "forced server close");
      });
    });

    describe("listeners and middleware", () => {
      test("an error of a per-packet middleware reaches the socket's error handler; the event handler never runs", async () => {
        const s = await clients.connect();
        const reported = waitEvent(s, "server-error");
        let handled = false;
        s.emit("forbidden", 1, () => (handled = true));
        assert.deepEqual(await reported, ["forbidden event refused by middleware"]);
        assert.deepEqual(await ack(s, "echo", "after"), ["after"]);
        assert.equal(handled, false, "the handler of the refused event ran");
      });

      test("catch-all listeners see incoming and outgoing events", async () => {
        const s = await clients.connect();
        s.emit("probe", "a", 1);
        await ack(s, "emit-back", "hello", "x", 2);
        const [log] = await ack(s, "catch-all-log");
        assert.deepEqual(log.incoming.slice(0, 3), [
          ["probe", ["a", 1]],
          ["emit-back", ["hello", "x", 2]],
          ["catch-all-log", []],
        ]);
        assert.deepEqual(log.outgoing, [["hello", ["x", 2]]]);
      });

      test("reserved event names are refused by the server API", async () => {
        const s = await clients.connect();
        const got = record(s, "connect");
        const [connect] = await ack(s, "reserved", "connect");
        assert.deepEqual(connect, {
          socketEmit: '"connect" is a reserved event name',
          namespaceEmit: '"connect" is a reserved event name',
          serverSideEmit: '"connect" is a reserved event name',
        });
        const [disconnect] = await ack(s, "reserved", "disconnect");
        assert.equal(disconnect.socketEmit, '"disconnect" is a reserved event name');
        assert.equal(disconnect.namespaceEmit, '"disconnect" is a reserved event name');
        const [nn] = await ack(s, "reserved", "new_namespace");
        assert.equal(nn.namespaceEmit, '"new_namespace" is a reserved event name');
        assert.equal(nn.serverSideEmit, '"new_namespace" is a reserved event name');
        assert.equal(s.connected, true);
        assert.deepEqual(got, [], "no reserved event reached the client");
      });
    });
  });
}
